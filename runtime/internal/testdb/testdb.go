// Package testdb gives tests their databases.
//
// Postgres: the first PostgresURL call of a test process creates a fresh
// database dbos_test_<random> on the server at $DBOS_TEST_DATABASE_URL
// (default DefaultServerURL); every later call returns the same URL; Main
// drops it when the tests end. When no server answers, PostgresURL skips the
// test, or fails it when DBOS_TEST_REQUIRE_POSTGRES=1. A child process that a
// test re-executes as a worker receives its parent's database in
// $DBOS_TEST_DATABASE_URL_CHILD (see ChildEnv) and uses it as is.
//
// SQLite: SQLitePath returns a file path in the test's temporary directory.
//
// Creating and dropping databases takes a dynamic identifier, which neither
// SQL parameters nor sqlc can express; this test-only package therefore
// builds those two statements with pgx.Identifier.Sanitize.
package testdb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables read by this package.
const (
	// ServerURLEnv names the Postgres server tests create databases on.
	ServerURLEnv = "DBOS_TEST_DATABASE_URL"
	// RequireEnv, set to 1, turns "no server" from a skip into a failure.
	RequireEnv = "DBOS_TEST_REQUIRE_POSTGRES"
	// ChildURLEnv carries a parent test's database URL to a child process.
	ChildURLEnv = "DBOS_TEST_DATABASE_URL_CHILD"
	// ListenServerEnv, set when $DBOS_TEST_DATABASE_URL goes through a
	// transaction pooler (PgBouncer), names the same server directly:
	// PostgresURL then sets $DBOS_LISTEN_URL (which dbos.Launch reads
	// when Config.ListenURL is empty) to its database on that server, for
	// this process and the children it starts after.
	ListenServerEnv = "DBOS_TEST_LISTEN_URL"
)

// DefaultServerURL is the server used when $DBOS_TEST_DATABASE_URL is unset.
const DefaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const connectTimeout = 5 * time.Second

var shared struct {
	mu      sync.Mutex
	url     string // the created database's URL, once created
	name    string // its name
	server  string // the server URL it was created on
	skipErr error  // why no database could be created
}

// PostgresURL returns the URL of this test process's Postgres database,
// creating it on first use (see the package documentation).
func PostgresURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(ChildURLEnv); u != "" {
		return u
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.url != "" {
		return shared.url
	}
	if shared.skipErr == nil {
		server := serverURL()
		name := "dbos_test_" + RandomHex(6)
		if err := createDatabase(server, name); err != nil {
			shared.skipErr = err
		} else {
			shared.url, shared.name, shared.server = withDatabase(server, name), name, server
			if direct := os.Getenv(ListenServerEnv); direct != "" {
				os.Setenv("DBOS_LISTEN_URL", withDatabase(direct, name))
			}
			return shared.url
		}
	}
	unavailable(t, shared.skipErr)
	return ""
}

// NewPostgresDatabase creates another fresh, empty database for one test and
// drops it when the test ends. Use it to test what happens to a new database
// (migrations); PostgresURL is the usual choice.
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	if os.Getenv(ChildURLEnv) != "" {
		t.Fatal("testdb.NewPostgresDatabase called in a child process")
	}
	server := serverURL()
	name := "dbos_test_" + RandomHex(6)
	if err := createDatabase(server, name); err != nil {
		unavailable(t, err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(server, name); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return withDatabase(server, name)
}

// ChildEnv returns the environment entry that hands url to a child process
// re-executed by a test: append it to exec.Cmd.Env.
func ChildEnv(url string) string { return ChildURLEnv + "=" + url }

// Main runs the tests, then drops the database PostgresURL created, if any.
// Call it from TestMain: func TestMain(m *testing.M) { testdb.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	shared.mu.Lock()
	name, server := shared.name, shared.server
	shared.mu.Unlock()
	if name != "" && os.Getenv(ChildURLEnv) == "" {
		if err := dropDatabase(server, name); err != nil {
			fmt.Fprintf(os.Stderr, "testdb: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// SQLitePath returns the path of a new SQLite database file (not yet
// created) in the test's temporary directory.
func SQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "dbos.sqlite")
}

func serverURL() string {
	if u := os.Getenv(ServerURLEnv); u != "" {
		return u
	}
	return DefaultServerURL
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("no Postgres server for tests at %s (%v); set %s to a server's URL",
		redact(serverURL()), err, ServerURLEnv)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s; %s=1 requires Postgres", msg, RequireEnv)
	}
	t.Skipf("%s, or %s=1 to fail instead of skipping", msg, RequireEnv)
}

func createDatabase(server, name string) error {
	return admin(server, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
}

func dropDatabase(server, name string) error {
	return admin(server, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

// admin runs one administrative statement on the server.
func admin(server, statement string) error {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	ctx, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	if _, err := conn.Exec(ctx, statement); err != nil {
		return fmt.Errorf("%s: %w", statement, err)
	}
	return nil
}

// withDatabase returns the server's connection string with another database.
func withDatabase(server, name string) string {
	if u, err := url.Parse(server); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	// key=value form: a later dbname wins.
	return strings.TrimSpace(server) + " dbname=" + name
}

var passwordField = regexp.MustCompile(`password=\S*`)

// redact hides a password in a connection string for messages.
func redact(server string) string {
	if u, err := url.Parse(server); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return passwordField.ReplaceAllString(server, "password=xxxxx")
}

// RandomHex returns n random bytes in hex: a name unlikely to be taken.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// WaitFor polls cond every millisecond until it holds, failing the test
// when it does not within 10 seconds; what names the condition.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Buffer is a bytes.Buffer safe for concurrent use: a test logger's or a
// child process's output.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written since the last Reset.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset forgets what was written.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}
