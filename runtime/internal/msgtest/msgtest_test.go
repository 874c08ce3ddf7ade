package msgtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// The test binary re-executes itself as a worker process when childEnv is
// set; these variables configure it.
const (
	childEnv    = "MSGTEST_CHILD"    // the program: "sleep", "recvonce", "receive3" or "publish"
	urlEnv      = "MSGTEST_URL"      // the database
	workflowEnv = "MSGTEST_WORKFLOW" // the workflow's ID
	pollEnv     = "MSGTEST_POLL"     // Config.PollInterval, when set
)

// noPoll is the poll interval of the processes of the Postgres tests that
// must be woken by notifications: longer than any test, so that a wait
// that no notification ends fails the test (the Recv or Get waits, with a
// timeout of an hour, until the test's context ends).
const noPoll = time.Hour

// pollFor returns the poll interval for url's engine: noPoll on Postgres,
// 0 (the default) on SQLite, which has no notifications.
func pollFor(url string) time.Duration {
	if strings.HasPrefix(url, "postgres") {
		return noPoll
	}
	return 0
}

func TestMain(m *testing.M) {
	if program := os.Getenv(childEnv); program != "" {
		os.Exit(child(program))
	}
	testdb.Main(m)
}

// child is a worker process: it launches (as $DBOS_EXECUTOR_ID), runs its
// program's workflow (sleep: starts SleepFor(4000); recvonce: starts
// RecvOnce(4000); receive3 and publish:
// the workflow a test enqueued on WorkQueue, which it runs), waits for its
// result and prints "result <result>".
func child(program string) int {
	ctx := context.Background()
	poll, _ := time.ParseDuration(os.Getenv(pollEnv)) // "": the default
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: os.Getenv(urlEnv), PollInterval: poll})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer rt.Shutdown(ctx)
	id := os.Getenv(workflowEnv)
	var result string
	switch program {
	case "sleep":
		var h *SleepForHandle
		if h, err = StartSleepFor(ctx, 4000, dbos.WithID(id)); err == nil {
			var woke int64
			woke, err = h.GetResult(ctx)
			result = strconv.FormatInt(woke, 10)
		}
	case "recvonce":
		var h *RecvOnceHandle
		if h, err = StartRecvOnce(ctx, 4000, dbos.WithID(id)); err == nil {
			result, err = h.GetResult(ctx)
		}
	case "receive3":
		var h *Receive3Handle
		if h, err = RetrieveReceive3(ctx, id); err == nil {
			var got []string
			got, err = h.GetResult(ctx)
			result = strings.Join(got, ",")
		}
	case "publish":
		var h *PublishHandle
		if h, err = RetrievePublish(ctx, id); err == nil {
			err = h.GetResult(ctx)
			result = "published"
		}
	default:
		err = fmt.Errorf("unknown program %q", program)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("result %s\n", result)
	return 0
}

// engines runs a test on each engine, with a database URL to use.
func engines(t *testing.T, test func(t *testing.T, url string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, "sqlite:"+testdb.SQLitePath(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, testdb.PostgresURL(t)) })
}

var seq atomic.Int64

// name returns a name no other test of this process uses.
func name(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), seq.Add(1))
}

// launch starts a runtime for a test (client-only: it runs nothing, so
// that the worker processes run the workflows) and returns a context
// bound to it that ends with the test.
func launch(t *testing.T, url string, clientOnly bool) context.Context {
	t.Helper()
	return launchPolling(t, url, clientOnly, 0)
}

// launchPolling is launch with Config.PollInterval poll.
func launchPolling(t *testing.T, url string, clientOnly bool, poll time.Duration) context.Context {
	t.Helper()
	rt, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: url, ExecutorID: name("test"), ClientOnly: clientOnly, PollInterval: poll})
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(rt.WithContext(context.Background()), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// worker is a worker process of the test binary.
type worker struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines *bufio.Scanner
}

// startWorker starts program as executor on url for workflow id; extra
// entries (pollEnv) go into its environment.
func startWorker(t *testing.T, ctx context.Context, program, url, id, executor string, extra ...string) *worker {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+program, urlEnv+"="+url, workflowEnv+"="+id, "DBOS_EXECUTOR_ID="+executor)
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &worker{t: t, cmd: cmd, lines: bufio.NewScanner(stdout)}
}

// await reads the worker's output until a line equal to marker, or, for a
// marker ending in a space, beginning with it; it returns the line.
func (w *worker) await(marker string) string {
	w.t.Helper()
	for w.lines.Scan() {
		line := w.lines.Text()
		if line == marker || (strings.HasSuffix(marker, " ") && strings.HasPrefix(line, marker)) {
			return line
		}
	}
	w.t.Fatalf("worker %d ended before it printed %q", w.cmd.Process.Pid, marker)
	return ""
}

// kill sends the worker SIGKILL and waits for its end.
func (w *worker) kill() {
	if err := w.cmd.Process.Kill(); err != nil {
		w.t.Fatal(err)
	}
	_ = w.cmd.Wait()
}

// finish waits for the worker's result line and its exit.
func (w *worker) finish() string {
	w.t.Helper()
	line := w.await("result ")
	_, _ = io.Copy(io.Discard, w.cmd.Stdout.(io.Reader))
	if err := w.cmd.Wait(); err != nil {
		w.t.Fatalf("worker %d: %v", w.cmd.Process.Pid, err)
	}
	return strings.TrimPrefix(line, "result ")
}

// TestSleepWakesAtOriginalTime: a workflow sleeping 4 s in a worker
// process killed after 1 s and restarted under the same executor ID wakes
// at the wake-up time the first run recorded (its start plus 4 s), not 4 s
// after the restart.
func TestSleepWakesAtOriginalTime(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		id, executor := name("sleeper"), name("sleep-worker")
		first := startWorker(t, ctx, "sleep", url, id, executor)
		first.await("sleeping")
		<-time.After(time.Second) // the scenario: a crash 1 s into the sleep
		first.kill()

		restarted := time.Now()
		second := startWorker(t, ctx, "sleep", url, id, executor)
		wokeMs, err := strconv.ParseInt(second.finish(), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		woke := time.UnixMilli(wokeMs)

		steps, err := dbos.Steps(launch(t, url, true), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(steps) != 1 || steps[0].Name != "dbos.Sleep" {
			t.Fatalf("steps = %+v; want one dbos.Sleep", steps)
		}
		var wake time.Time
		if err := json.Unmarshal(steps[0].Output, &wake); err != nil {
			t.Fatalf("the sleep's output %s: %v", steps[0].Output, err)
		}
		begun := steps[0].StartedAt
		if d := wake.Sub(begun); d < 4*time.Second-time.Millisecond || d > 4*time.Second+time.Millisecond {
			t.Errorf("recorded wake-up time %s is %s after the sleep began (%s); want 4s", wake, d, begun)
		}
		if woke.Before(wake.Truncate(time.Millisecond)) {
			t.Errorf("the workflow woke at %s, before its wake-up time %s", woke, wake)
		}
		// The restart came at least 1 s into the sleep: a run that slept
		// the full 4 s again would wake 4 s after it.
		if !woke.Before(restarted.Add(4 * time.Second)) {
			t.Errorf("the restarted run woke %s after the restart; it slept the full 4s again", woke.Sub(restarted))
		}
		t.Logf("began %s, killed and restarted %s later, woke %s after it began", begun.Format(time.StampMilli), restarted.Sub(begun).Round(time.Millisecond), woke.Sub(begun).Round(time.Millisecond))
	})
}

// TestRecvTimeoutSurvivesRestart: a Recv waiting up to 4 s in a worker
// process killed after 1 s and restarted times out at the deadline the
// first run recorded, not 4 s after the restart, with ok=false.
func TestRecvTimeoutSurvivesRestart(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		id, executor := name("recv-timeout"), name("recv-timeout-worker")
		first := startWorker(t, ctx, "recvonce", url, id, executor)
		first.await("receiving")
		<-time.After(time.Second) // the scenario: a crash 1 s into the wait
		first.kill()

		restarted := time.Now()
		if got := startWorker(t, ctx, "recvonce", url, id, executor).finish(); got != "timeout" {
			t.Fatalf("the restarted workflow returned %q, want timeout", got)
		}
		steps, err := dbos.Steps(launch(t, url, true), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(steps) != 2 || steps[0].Name != "dbos.Recv msgtest_inbox deadline" || steps[1].Name != "dbos.Recv msgtest_inbox" || len(steps[1].Output) != 0 {
			t.Fatalf("steps = %+v; want the deadline and a receive with no output", steps)
		}
		var deadline time.Time
		if err := json.Unmarshal(steps[0].Output, &deadline); err != nil {
			t.Fatal(err)
		}
		if d := deadline.Sub(steps[0].StartedAt); d < 4*time.Second-time.Millisecond || d > 4*time.Second+time.Millisecond {
			t.Errorf("recorded deadline is %s after the Recv began; want 4s", d)
		}
		timedOut := steps[1].CompletedAt
		if timedOut.Before(deadline.Add(-time.Millisecond)) {
			t.Errorf("the Recv timed out at %s, before its deadline %s", timedOut, deadline)
		}
		if !timedOut.Before(restarted.Add(4 * time.Second)) {
			t.Errorf("the restarted Recv timed out %s after the restart; it waited the full 4s again", timedOut.Sub(restarted))
		}
	})
}

// TestMessagesAcrossProcesses: three messages sent from this process to a
// workflow running in a worker process, one before the worker starts, one
// while it is dead between two receives (killed after the first), one
// while the restarted worker waits, are returned in order, once each. On
// Postgres the worker polls once an hour: only the notification of the
// last send can wake it in time.
func TestMessagesAcrossProcesses(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := launch(t, url, true)
		id, executor := name("receiver"), name("recv-worker")
		poll := pollEnv + "=" + pollFor(url).String()
		h, err := EnqueueReceive3(ctx, WorkQueue, dbos.WithID(id))
		if err != nil {
			t.Fatal(err)
		}
		if err := Inbox.Send(ctx, id, "a"); err != nil { // before it runs
			t.Fatal(err)
		}
		first := startWorker(t, ctx, "receive3", url, id, executor, poll)
		first.await("got a")
		first.kill() // between the first receive and the second

		if err := Inbox.Send(ctx, id, "b"); err != nil { // while nobody waits
			t.Fatal(err)
		}
		second := startWorker(t, ctx, "receive3", url, id, executor, poll)
		second.await("got b")
		if err := Inbox.Send(ctx, id, "c"); err != nil { // while it waits
			t.Fatal(err)
		}
		if got := second.finish(); got != "a,b,c" {
			t.Errorf("the restarted worker's workflow returned %q, want a,b,c", got)
		}
		got, err := h.GetResult(ctx)
		if err != nil || strings.Join(got, ",") != "a,b,c" {
			t.Errorf("GetResult = %q, %v; want [a b c]", got, err)
		}
		steps, err := dbos.Steps(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var received []string
		for _, s := range steps {
			if s.Name == "dbos.Recv msgtest_inbox" {
				received = append(received, string(s.Output))
			} else if s.Name != "dbos.Recv msgtest_inbox deadline" {
				t.Errorf("unexpected step %d %q", s.StepID, s.Name)
			}
		}
		if strings.Join(received, ",") != `"a","b","c"` {
			t.Errorf("recorded receives %q, want \"a\",\"b\",\"c\"", received)
		}
	})
}

// TestEventAcrossProcesses: a Get waiting in this process returns the
// value a workflow in a worker process sets; the latest value wins; a Get
// of a key never set times out with ok=false. On Postgres this process
// polls once an hour: only the notification of the set can wake the Get
// in time.
func TestEventAcrossProcesses(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := launchPolling(t, url, true, pollFor(url))
		id, executor := name("publisher"), name("publish-worker")
		if _, err := EnqueuePublish(ctx, WorkQueue, "halfway", dbos.WithID(id)); err != nil {
			t.Fatal(err)
		}
		type got struct {
			v   string
			ok  bool
			err error
		}
		waited := make(chan got, 1)
		go func() {
			v, ok, err := Progress.Get(ctx, id, time.Hour) // before it is set; ctx ends first
			waited <- got{v, ok, err}
		}()
		w := startWorker(t, ctx, "publish", url, id, executor)
		if r := w.finish(); r != "published" {
			t.Fatalf("worker printed %q", r)
		}
		g := <-waited
		if g.err != nil || !g.ok || (g.v != "halfway" && g.v != "halfway done") {
			t.Errorf("the waiting Get = %q, %v, %v; want a value the workflow set", g.v, g.ok, g.err)
		}
		if v, ok, err := Progress.Get(ctx, id, 0); err != nil || !ok || v != "halfway done" {
			t.Errorf("Get after the workflow ended = %q, %v, %v; want the latest value, \"halfway done\"", v, ok, err)
		}
		unset := dbos.NewEvent[string]("msgtest_never_set")
		const timeout = 300 * time.Millisecond
		begun := time.Now()
		v, ok, err := unset.Get(ctx, id, timeout)
		if err != nil || ok || v != "" {
			t.Errorf("Get of an unset key = %q, %v, %v; want \"\", false, nil", v, ok, err)
		}
		if took := time.Since(begun); took < timeout {
			t.Errorf("Get of an unset key returned after %s, before its timeout %s", took, timeout)
		}
		if v, ok, err := Progress.Get(ctx, name("no-such-workflow"), 0); err != nil || ok {
			t.Errorf("Get of a workflow that does not exist = %q, %v, %v; want not set, no error", v, ok, err)
		}
	})
}

// TestCancelStopsSleep: a cancelled workflow stops sleeping at once, with
// ErrCancelled.
func TestCancelStopsSleep(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := launch(t, url, false)
		sleepReturned = make(chan error, 1)
		defer func() { sleepReturned = nil }()
		h, err := StartSleepFor(ctx, int(time.Hour/time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		testdb.WaitFor(t, "the sleep's checkpoint", func() bool {
			steps, err := dbos.Steps(ctx, h.ID())
			return err == nil && len(steps) == 1
		})
		if err := dbos.Cancel(ctx, h.ID()); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-sleepReturned:
			if !errors.Is(err, dbos.ErrCancelled) {
				t.Errorf("Sleep of a cancelled workflow returned %v, want ErrCancelled", err)
			}
		case <-ctx.Done():
			t.Fatal("the cancelled workflow went on sleeping")
		}
		if _, err := h.GetResult(ctx); !errors.Is(err, dbos.ErrCancelled) {
			t.Errorf("GetResult = %v, want ErrCancelled", err)
		}
	})
}

// TestInProcess: a workflow's send wakes a receiver in the same process;
// a receive times out with ok=false, recorded; the calls that only a
// workflow may make fail elsewhere with ErrOutsideWorkflow; and the
// errors of sends and of values that cannot be encoded or decoded.
func TestInProcess(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := launch(t, url, false)

		receiver, err := StartRecvOnce(ctx, int(time.Minute/time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		sender, err := StartSendTo(ctx, receiver.ID(), "hello")
		if err != nil {
			t.Fatal(err)
		}
		if err := sender.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := receiver.GetResult(ctx); err != nil || got != "hello" {
			t.Errorf("receiver = %q, %v; want hello", got, err)
		}
		if steps, err := dbos.Steps(ctx, sender.ID()); err != nil || len(steps) != 1 || steps[0].Name != "dbos.Send msgtest_inbox" {
			t.Errorf("sender's steps = %+v, %v; want one dbos.Send msgtest_inbox", steps, err)
		}

		if got, err := RunRecvOnce(ctx, 50); err != nil || got != "timeout" {
			t.Errorf("RecvOnce with nothing sent = %q, %v; want timeout", got, err)
		}

		if err := dbos.Sleep(ctx, time.Millisecond); !errors.Is(err, dbos.ErrOutsideWorkflow) {
			t.Errorf("Sleep outside a workflow: %v, want ErrOutsideWorkflow", err)
		}
		if _, _, err := Inbox.Recv(ctx, 0); !errors.Is(err, dbos.ErrOutsideWorkflow) {
			t.Errorf("Recv outside a workflow: %v, want ErrOutsideWorkflow", err)
		}
		if err := Progress.Set(ctx, "x"); !errors.Is(err, dbos.ErrOutsideWorkflow) {
			t.Errorf("Set outside a workflow: %v, want ErrOutsideWorkflow", err)
		}
		if err := RunCallSleepInStep(ctx); err == nil || !strings.Contains(err.Error(), dbos.ErrOutsideWorkflow.Error()) {
			t.Errorf("Sleep in a step's body: %v, want ErrOutsideWorkflow's message", err)
		}

		missing := name("missing")
		if err := Inbox.Send(ctx, missing, "x"); !errors.Is(err, dbos.ErrNotFound) || !strings.Contains(err.Error(), missing) {
			t.Errorf("Send to a missing workflow: %v; want ErrNotFound naming %s", err, missing)
		}
		if err := RunSendTo(ctx, missing, "x"); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("a workflow's Send to a missing workflow: %v; want an error naming %s", err, missing)
		}
		if err := dbos.NewTopic[any]("msgtest_any").Send(ctx, receiver.ID(), make(chan int)); !errors.Is(err, dbos.ErrEncode) {
			t.Errorf("Send of a channel: %v, want ErrEncode", err)
		}

		numbers, err := StartRecvNumber(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := Inbox.Send(ctx, numbers.ID(), "not a number"); err != nil {
			t.Fatal(err)
		}
		if _, err := numbers.GetResult(ctx); err == nil || !strings.Contains(err.Error(), dbos.ErrDecode.Error()) || !strings.Contains(err.Error(), `"msgtest_inbox"`) {
			t.Errorf("Recv of a message that is not an int: %v; want ErrDecode naming the topic", err)
		}

		publisher, err := StartPublish(ctx, "v")
		if err != nil {
			t.Fatal(err)
		}
		if err := publisher.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ProgressNumber.Get(ctx, publisher.ID(), 0); !errors.Is(err, dbos.ErrDecode) || !strings.Contains(err.Error(), `"msgtest_progress"`) {
			t.Errorf("Get of a value that is not an int: %v; want ErrDecode naming the key", err)
		}
	})
}
