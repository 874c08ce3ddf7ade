// Command dbosctl is the operator's command for a dbosgen database: it
// lists and inspects workflows and their steps, cancels, resumes and forks
// them, lists queues and pauses or resumes them in every process, and
// migrates the database's schema.
//
// Usage:
//
//	dbosctl [-database-url URL] [-json] <command> [arguments]
//
//	dbosctl workflow list [-state S] [-queue Q] [-name F] [-since D] [-limit N]
//	dbosctl workflow get ID
//	dbosctl workflow steps ID
//	dbosctl workflow cancel ID
//	dbosctl workflow resume ID
//	dbosctl workflow fork ID -from-step N
//	dbosctl queue list
//	dbosctl queue pause [-force] NAME
//	dbosctl queue resume NAME
//	dbosctl ui [-addr HOST:PORT] [-user NAME]
//	dbosctl migrate
//
// The database is -database-url, else $DBOS_DATABASE_URL, else
// sqlite:dbos.sqlite: postgres://... (or postgresql://...) or sqlite:PATH.
// dbosctl opens it as a client that runs nothing (dbos.Config.ClientOnly),
// under its own executor ID, dbosctl-HOST-PID. It never changes a
// database's schema unless asked: it refuses a database without this
// version's schema, and a SQLite file that does not exist, until
// "dbosctl migrate" creates or upgrades it.
//
// workflow list prints the workflows matching every filter given, newest
// first (at most -limit, default 100). -state takes ENQUEUED, PENDING,
// SUCCESS, ERROR, CANCELLED or DEAD_LETTER, in any case; -name a
// registered function name (import/path.Func); -since a duration before
// now (1h, 30m) or a time (RFC 3339, or 2006-01-02 15:04:05 or 2006-01-02
// in local time). workflow get prints a workflow's status, input and
// output (JSON, as stored), error, and why it waits when no live process
// can run it. workflow steps prints its checkpoints: step number, name,
// start, duration, the workflows it created, error. workflow cancel and
// resume change its state and say what they did (a finished workflow is
// not cancelled; only CANCELLED and DEAD_LETTER workflows resume).
// workflow fork starts a new workflow from the original's function, input
// and checkpoints before step N, and prints the new ID.
//
// queue list prints every known queue's limits, whether it is paused, and
// how many of its workflows are enqueued, running, and started in the last
// minute. queue pause refuses a name the database does not know (a typo
// would pause nothing that runs) unless -force.
//
// ui serves the web console (package runtime/console) on -addr, by
// default 127.0.0.1:8910, until interrupted. Another address, reachable
// from other machines, needs -user and the password in $DBOS_UI_PASSWORD
// (HTTP basic auth).
//
// Output: tables for people by default. With -json each command prints
// exactly one JSON document on stdout, with stable snake_case field names
// that are always present (null when empty); inputs and outputs are
// embedded as JSON. -database-url and -json go before the command or after
// it; flags and arguments mix in any order ("--" ends the flags). -h
// prints the help of any command or group.
//
// Exit codes: 0 success (including -h); 1 the command failed (the message
// goes to stderr: a database that is not migrated, a workflow ID that does
// not exist, ...); 2 bad usage (an unknown command or flag, a missing or
// extra argument, a bad -state, -since or -limit), with the usage line.
package main
