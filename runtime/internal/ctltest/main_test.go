package ctltest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/examples/tasks"
	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// dbosctl is the path of the built command.
var dbosctl string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dbos-ctltest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dbosctl = filepath.Join(dir, "dbosctl")
	out, err := exec.Command("go", "build", "-o", dbosctl, "github.com/dbosgen/dbosgen/cmd/dbosctl").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/dbosctl: %v\n%s", err, out)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run() // the tests' databases drop themselves (testdb.NewPostgresDatabase)
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// engines runs a test on each engine, each time on a new database: a
// SQLite file that does not exist yet, an empty Postgres database.
func engines(t *testing.T, test func(t *testing.T, url string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, "sqlite:"+testdb.SQLitePath(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, testdb.NewPostgresDatabase(t)) })
}

// result is how a run of dbosctl ended.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// ctlEnv runs dbosctl with args and the environment entries env (the
// test's own DBOS_ variables left out), in a directory of its own.
func ctlEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return ctlIn(t, t.TempDir(), env, args...)
}

// ctlIn runs dbosctl in dir with args and the environment entries env.
func ctlIn(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dbosctl, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DBOS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Dir = dir // where the default database is
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("run dbosctl %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// ctl runs dbosctl with args.
func ctl(t *testing.T, args ...string) result {
	t.Helper()
	return ctlEnv(t, nil, args...)
}

// ok runs dbosctl with args, which must succeed, printing nothing on
// stderr, and returns its stdout.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	r := ctl(t, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("dbosctl %s: want exit 0 and no stderr, got %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// fails runs dbosctl with args, which must exit with code, printing
// nothing on stdout and a message containing each of want on stderr.
func fails(t *testing.T, code int, want []string, args ...string) result {
	t.Helper()
	r := ctl(t, args...)
	if r.code != code || r.stdout != "" {
		t.Fatalf("dbosctl %s: want exit %d and no stdout, got %s", strings.Join(args, " "), code, r)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("dbosctl %s: stderr lacks %q:\n%s", strings.Join(args, " "), w, r.stderr)
		}
	}
	return r
}

// okJSON runs dbosctl with args and -json, which must succeed with
// exactly one JSON document on stdout, and decodes it into v. It returns
// the document.
func okJSON(t *testing.T, v any, args ...string) string {
	t.Helper()
	out := ok(t, append(args, "-json")...)
	decodeOne(t, out, v)
	return out
}

// decodeOne decodes the one JSON document of out into v.
func decodeOne(t *testing.T, out string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, out)
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		t.Fatalf("more than one JSON document (%v):\n%s", err, out)
	}
}

// idleQueue is declared by the worker, which does not run it: its
// workflows wait, and say so.
var idleQueue = dbos.NewQueue("ctl_idle")

// Registered names of the example's functions.
const (
	processTasks = "github.com/dbosgen/dbosgen/examples/tasks.ProcessTasks"
	processTask  = "github.com/dbosgen/dbosgen/examples/tasks.ProcessTask"
)

// worker launches a runtime on url in this process that runs the
// functions of package tasks on tasks.TaskQueue (not idleQueue), creating
// the schema; it returns a context bound to it, and shuts it down when
// the test ends.
func worker(t *testing.T, url string) context.Context {
	t.Helper()
	logs := &testdb.Buffer{}
	rt, err := dbos.Launch(context.Background(), dbos.Config{
		DatabaseURL:   url,
		ExecutorID:    "ctltest-worker-" + testdb.RandomHex(4),
		Logger:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		LeaseDuration: time.Second, // a released fork is taken over within 200ms
		ListenQueues:  []*dbos.Queue{tasks.TaskQueue},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rt.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("worker logs:\n%s", logs)
		}
	})
	return rt.WithContext(context.Background())
}

// state reads workflow id's state.
func state(t *testing.T, ctx context.Context, id string) dbos.State {
	t.Helper()
	s, err := dbos.WorkflowStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return s.State
}

// waitState waits until workflow id is in state want.
func waitState(t *testing.T, ctx context.Context, id string, want dbos.State) {
	t.Helper()
	testdb.WaitFor(t, fmt.Sprintf("workflow %s to be %s", id, want), func() bool { return state(t, ctx, id) == want })
}
