package testdb

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestMain(m *testing.M) { Main(m) }

// helperEnv makes TestHelper act: it runs only in child processes.
const helperEnv = "DBOS_TESTDB_HELPER"

// TestHelper is the child process of the tests below: it asks for the
// database twice, checks it answers and prints its URL.
func TestHelper(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("runs only as a child process of the other tests")
	}
	url := PostgresURL(t)
	if again := PostgresURL(t); again != url {
		t.Fatalf("second PostgresURL = %q, want the first %q", again, url)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	conn.Close(ctx)
	os.Stdout.WriteString("URL=" + url + "\n")
}

// runHelper runs TestHelper in a child process with the given environment
// on top of this one's (minus the variables it overrides).
func runHelper(t *testing.T, env ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelper$", "-test.v", "-test.count=1")
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, ChildURLEnv+"="), strings.HasPrefix(kv, RequireEnv+"="):
		case strings.HasPrefix(kv, ServerURLEnv+"=") && hasKey(env, ServerURLEnv):
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, helperEnv+"=1")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func hasKey(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

const unreachable = "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2"

func TestSkipsWithoutServer(t *testing.T) {
	out, err := runHelper(t, ServerURLEnv+"="+unreachable)
	if err != nil {
		t.Fatalf("child failed without a server: %v\n%s", err, out)
	}
	if !strings.Contains(out, "--- SKIP: TestHelper") || !strings.Contains(out, "no Postgres server for tests at postgres://postgres@127.0.0.1:1/") {
		t.Errorf("child did not skip with a clear message:\n%s", out)
	}
}

func TestFailsWithoutServerWhenRequired(t *testing.T) {
	out, err := runHelper(t, ServerURLEnv+"="+unreachable, RequireEnv+"=1")
	if err == nil {
		t.Fatalf("child passed without a server though %s=1:\n%s", RequireEnv, out)
	}
	if !strings.Contains(out, "--- FAIL: TestHelper") || !strings.Contains(out, RequireEnv+"=1 requires Postgres") {
		t.Errorf("child did not fail with a clear message:\n%s", out)
	}
}

func TestChildUsesParentDatabase(t *testing.T) {
	url := PostgresURL(t)
	out, err := runHelper(t, ChildEnv(url))
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(out, "URL="+url+"\n") {
		t.Errorf("child used another database than %s:\n%s", url, out)
	}
}

func TestMainDropsCreatedDatabase(t *testing.T) {
	PostgresURL(t) // skips or fails like every Postgres test when no server answers
	out, err := runHelper(t)
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	_, rest, ok := strings.Cut(out, "URL=")
	url, _, _ := strings.Cut(rest, "\n")
	if !ok || !strings.Contains(url, "/dbos_test_") {
		t.Fatalf("child printed no test database URL:\n%s", out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err == nil {
		conn.Close(ctx)
		t.Fatalf("database %s still exists after the child's tests ended", url)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		t.Errorf("connect to the dropped database: %v, want database does not exist", err)
	}
}

func TestWithDatabase(t *testing.T) {
	for server, want := range map[string]string{
		"postgres://u:p@h:5432/postgres?sslmode=disable": "postgres://u:p@h:5432/x?sslmode=disable",
		"postgresql://h/":               "postgresql://h/x",
		"host=h user=u dbname=postgres": "host=h user=u dbname=postgres dbname=x",
	} {
		if got := withDatabase(server, "x"); got != want {
			t.Errorf("withDatabase(%q) = %q, want %q", server, got, want)
		}
	}
	if got := redact("host=h password=secret user=u"); strings.Contains(got, "secret") {
		t.Errorf("redact kept the password: %q", got)
	}
	if got := redact("postgres://u:secret@h/db"); strings.Contains(got, "secret") {
		t.Errorf("redact kept the password: %q", got)
	}
}
