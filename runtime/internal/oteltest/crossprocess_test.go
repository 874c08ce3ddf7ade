package oteltest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// binDir holds the worker program the tests build; TestMain removes it.
var binDir string

// TestFanOutTraceAcrossProcesses: on Postgres, this process starts FanOut
// (and runs it, but no queue), while a worker program, another OS process,
// runs its children and exports its spans to a file. The worker is killed
// (SIGKILL) while Child(3) runs, and a new worker process under the same
// executor ID resumes it. Every child's run span, written by the workers,
// is in the trace of the start made here, a child of its enqueue span
// made here; child 2's failure is on its span; Child(3)'s span is its
// second attempt's.
func TestFanOutTraceAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-process test: runs without -short")
	}
	url := testdb.NewPostgresDatabase(t)
	bin := buildWorker(t)
	spanFile := filepath.Join(t.TempDir(), "worker-spans.jsonl")
	workerID := unique("worker")

	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	// This process runs the workflows it starts, and no queue.
	rt := launch(t, url, dbos.Config{TracerProvider: tp, ListenQueues: []*dbos.Queue{}, LeaseDuration: time.Second})
	ctx := testCtx(t, rt)

	first := startWorker(t, bin, url, workerID, spanFile, "-block")
	first.waitFor("ready")
	h, err := StartFanOut(ctx, unique("key"), 3)
	if err != nil {
		t.Fatal(err)
	}
	first.waitFor("blocked")
	children := childIDs(h.ID())
	waitFinished(t, ctx, children[0])
	waitFinished(t, ctx, children[1])
	// A run's span ends once its outcome is committed: wait for the worker
	// to have written both before killing it.
	waitRunSpans(t, spanFile, children[0], children[1])
	first.kill()

	second := startWorker(t, bin, url, workerID, spanFile)
	second.waitFor("ready")
	got, err := h.GetResult(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ok 10", "error child 2 failed", "ok 30"}; !slices.Equal(got, want) {
		t.Fatalf("FanOut = %q, want %q", got, want)
	}
	second.stop()
	if err := rt.Shutdown(ctx); err != nil { // the workflow's run ended: its span too
		t.Fatal(err)
	}

	var local []Span
	for _, s := range spans.GetSpans().Snapshots() {
		local = append(local, SpanOf(s))
	}
	remote, err := ReadSpans(spanFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range remote {
		if s.Name == "run FanOut" || strings.HasPrefix(s.Name, "enqueue") {
			t.Errorf("the worker made span %s: it runs only the children", s.Name)
		}
	}
	checkFanOut(t, local, remote, h.ID(), false)
}

// waitRunSpans waits until the span file holds the run span of each of
// the workflows ids.
func waitRunSpans(t *testing.T, spanFile string, ids ...string) {
	t.Helper()
	testdb.WaitFor(t, "the worker's run spans", func() bool {
		spans, err := ReadSpans(spanFile)
		if err != nil {
			return false
		}
		for _, id := range ids {
			if len(find(spans, "run Child", id)) == 0 {
				return false
			}
		}
		return true
	})
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// buildWorker builds testdata/worker, once per test process.
func buildWorker(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", binDir+string(filepath.Separator), "./testdata/worker").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built = filepath.Join(binDir, "worker")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

// worker is a running worker program.
type worker struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string    // its stdout, line by line
	logs   *testdb.Buffer // its stderr
	exited chan struct{}
}

// startWorker runs the worker program as executor execID on url, writing
// its spans to spanFile; it is killed when the test ends, and its logs are
// shown when the test failed.
func startWorker(t *testing.T, bin, url, execID, spanFile string, args ...string) *worker {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DBOS_") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(bin, append([]string{"-spans", spanFile}, args...)...)
	cmd.Env = append(env, "DBOS_DATABASE_URL="+url, "DBOS_EXECUTOR_ID="+execID)
	w := &worker{t: t, cmd: cmd, lines: make(chan string, 100), logs: &testdb.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = w.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(w.lines)
		close(w.exited)
	}()
	t.Cleanup(func() {
		w.kill()
		if t.Failed() {
			t.Logf("logs of worker %s (pid %d):\n%s", execID, cmd.Process.Pid, w.logs)
		}
	})
	return w
}

// waitFor waits for a line of the worker's stdout that starts with prefix.
func (w *worker) waitFor(prefix string) {
	w.t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case line, ok := <-w.lines:
			if !ok {
				w.t.Fatalf("the worker ended before it printed %q; its logs:\n%s", prefix, w.logs)
			}
			if strings.HasPrefix(line, prefix) {
				return
			}
		case <-timeout:
			w.t.Fatalf("the worker did not print %q within a minute", prefix)
		}
	}
}

// kill sends SIGKILL and waits for the process to end.
func (w *worker) kill() {
	_ = w.cmd.Process.Kill()
	<-w.exited
}

// stop asks the worker to shut down (SIGTERM) and waits for it.
func (w *worker) stop() {
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(20 * time.Second):
		w.t.Errorf("the worker did not stop within 20s of SIGTERM")
		w.kill()
	}
}
