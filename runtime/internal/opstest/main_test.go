package opstest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// A worker is this test binary re-executed as a program sharing the
// database: it launches on $OPS_URL as $DBOS_EXECUTOR_ID, says "ready", and
// serves every queue until its stdin closes, then shuts down.
const (
	workerEnv    = "OPS_WORKER"
	workerURLEnv = "OPS_URL"
)

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" {
		if err := worker(); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	testdb.Main(m)
}

func worker() error {
	rt, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: os.Getenv(workerURLEnv)})
	if err != nil {
		return err
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return rt.Shutdown(ctx)
}

// workers are running worker processes.
type workers struct {
	cmds   []*exec.Cmd
	stdins []io.Closer
}

var executorSeq atomic.Int64

// executorID returns an executor ID no other process of any test uses.
func executorID(t *testing.T, role string) string {
	return fmt.Sprintf("%s-%d-%s-%d", t.Name(), os.Getpid(), role, executorSeq.Add(1))
}

// startWorkers starts n worker processes on url and waits until each is
// ready; they stop when the test ends, if stop was not called before.
func startWorkers(t *testing.T, url string, n int) *workers {
	t.Helper()
	if testing.Short() {
		t.Skip("cross-process test: runs without -short")
	}
	w := &workers{}
	for range n {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), workerEnv+"=1", workerURLEnv+"="+url, "DBOS_EXECUTOR_ID="+executorID(t, "worker"))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w.cmds, w.stdins = append(w.cmds, cmd), append(w.stdins, stdin)
		if out := bufio.NewScanner(stdout); !out.Scan() || out.Text() != "ready" {
			w.stop(t)
			t.Fatalf("worker did not get ready: %q", out.Text())
		}
	}
	t.Cleanup(func() { w.stop(t) })
	return w
}

// stop closes the workers' stdin and waits for them to shut down.
func (w *workers) stop(t *testing.T) {
	t.Helper()
	for _, in := range w.stdins {
		in.Close()
	}
	for _, cmd := range w.cmds {
		if err := cmd.Wait(); err != nil && !strings.Contains(err.Error(), "Wait was already called") {
			t.Errorf("worker: %v", err)
		}
	}
	w.cmds, w.stdins = nil, nil
}

// launch starts a runtime in the test's process; it shuts down when the
// test ends, if not before.
func launch(t *testing.T, cfg dbos.Config) *dbos.Runtime {
	t.Helper()
	if cfg.ExecutorID == "" {
		cfg.ExecutorID = executorID(t, "test")
	}
	rt, err := dbos.Launch(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	return rt
}

// engines runs a test on each engine, with its database URL and its
// default poll interval.
func engines(t *testing.T, test func(t *testing.T, url string, poll time.Duration)) {
	t.Run("sqlite", func(t *testing.T) { test(t, "sqlite:"+testdb.SQLitePath(t), dbos.DefaultSQLitePoll) })
	t.Run("postgres", func(t *testing.T) { test(t, testdb.PostgresURL(t), dbos.DefaultPostgresPoll) })
}

// statuses reads the workflows ids.
func statuses(t *testing.T, ctx context.Context, ids []string) []dbos.Status {
	t.Helper()
	out := make([]dbos.Status, len(ids))
	for i, id := range ids {
		st, err := dbos.WorkflowStatus(ctx, id)
		if err != nil {
			t.Fatalf("WorkflowStatus(%s): %v", id, err)
		}
		out[i] = st
	}
	return out
}

// waitFor polls cond every 10 ms until it holds, failing the test when it
// does not within d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gone reports whether workflow id no longer exists.
func gone(t *testing.T, ctx context.Context, id string) bool {
	t.Helper()
	_, err := dbos.WorkflowStatus(ctx, id)
	if err != nil && !errors.Is(err, dbos.ErrNotFound) {
		t.Fatalf("WorkflowStatus(%s): %v", id, err)
	}
	return err != nil
}
