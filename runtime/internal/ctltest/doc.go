// Package ctltest tests the dbosctl command (cmd/dbosctl) end to end, on
// SQLite and on Postgres: TestMain builds the command once, and each test
// fills a database with real workflows (package examples/tasks, run by a
// worker runtime in the test process), runs the built binary against it
// and checks its output, its exit code and, through package dbos, what it
// changed. The package has only tests; it lives under runtime/internal to
// use package testdb, which cmd/dbosctl cannot import.
package ctltest
