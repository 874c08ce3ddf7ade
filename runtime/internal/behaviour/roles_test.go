package behaviour

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// launchAs starts a runtime with cfg (on url, with a fresh executor ID)
// and shuts it down when the test ends.
func launchAs(t *testing.T, url string, cfg dbos.Config) *dbos.Runtime {
	t.Helper()
	cfg.DatabaseURL = url
	cfg.ExecutorID = fmt.Sprintf("%s-%d", t.Name(), executorSeq.Add(1))
	cfg.LeaseDuration = time.Second
	rt, err := dbos.Launch(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	return rt
}

// TestClientOnlyRunsNothing: a client-only runtime enqueues, waits for
// results and reads statuses, while a worker runs the work; StartF and
// RunF fail there with ErrClientOnly, before anything is written.
func TestClientOnlyRunsNothing(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		client := launchAs(t, url, dbos.Config{ClientOnly: true})
		worker := launchAs(t, url, dbos.Config{ListenQueues: []*dbos.Queue{TaskQueue}})
		ctx := testCtx(t, client)

		id := fmt.Sprintf("client-start-%d", taskIDs.Add(1))
		if _, err := StartSum3(ctx, 1, 2, 3, dbos.WithID(id)); !errors.Is(err, dbos.ErrClientOnly) || !strings.Contains(err.Error(), "EnqueueSum3") {
			t.Errorf("StartSum3 in a client-only runtime = %v, want ErrClientOnly naming EnqueueSum3", err)
		}
		if _, err := dbos.WorkflowStatus(ctx, id); !errors.Is(err, dbos.ErrNotFound) {
			t.Errorf("status of the refused start: %v, want ErrNotFound", err)
		}
		if _, err := RunAdd(ctx, 1, 2); !errors.Is(err, dbos.ErrClientOnly) {
			t.Errorf("RunAdd in a client-only runtime = %v, want ErrClientOnly", err)
		}

		h, err := EnqueueSum3(ctx, TaskQueue, 1, 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := h.GetResult(ctx); err != nil || got != 6 {
			t.Fatalf("GetResult in the client = %d, %v; want 6", got, err)
		}
		st, err := h.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.ExecutorID != worker.ExecutorID() || st.AppVersion != worker.AppVersion() || st.Waiting != "" {
			t.Errorf("status %+v: want run by the worker %s, version %s, not waiting", st, worker.ExecutorID(), worker.AppVersion())
		}
		if client.AppVersion() != worker.AppVersion() || len(client.AppVersion()) != 12 {
			t.Errorf("versions %q (client) and %q (worker): want one derived version of 12 hex digits", client.AppVersion(), worker.AppVersion())
		}
	})
}

// TestClientResumeLeavesItToAWorker: a client's Resume of a workflow
// started without a queue does not make the client its owner: it waits,
// PENDING under no executor, until a runtime that runs it takes it over.
func TestClientResumeLeavesItToAWorker(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		worker := launchAs(t, url, dbos.Config{})
		wctx := testCtx(t, worker)
		id := fmt.Sprintf("client-resume-%d", taskIDs.Add(1))
		b, err := StartBlocker(wctx, "r", dbos.WithID(id))
		if err != nil {
			t.Fatal(err)
		}
		<-Gate.Entered
		if err := b.Cancel(wctx); err != nil {
			t.Fatal(err)
		}
		if _, err := b.GetResult(wctx); !errors.Is(err, dbos.ErrCancelled) {
			t.Fatalf("GetResult after Cancel = %v", err)
		}

		client := launchAs(t, url, dbos.Config{ClientOnly: true})
		cctx := testCtx(t, client)
		if err := dbos.Resume(cctx, id); err != nil {
			t.Fatal(err)
		}
		st, err := dbos.WorkflowStatus(cctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != dbos.StatePending || st.ExecutorID == client.ExecutorID() {
			t.Errorf("after the client's Resume: %+v; want PENDING, not under the client", st)
		}
		// The worker's heartbeat takes it over and runs it from its
		// checkpoints.
		select {
		case <-Gate.Entered:
		case <-time.After(30 * time.Second):
			t.Fatal("no runtime took the resumed workflow over")
		}
		Gate.Release <- struct{}{}
		h2, err := RetrieveBlocker(cctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := h2.GetResult(cctx); err != nil || got != "r:3" {
			t.Fatalf("resumed Blocker = %q, %v; want r:3", got, err)
		}
		if st, _ := h2.Status(cctx); st.ExecutorID != worker.ExecutorID() {
			t.Errorf("resumed by %q, want the worker %s", st.ExecutorID, worker.ExecutorID())
		}
	})
}

// TestWaitingSaysWhy: a call enqueued on a queue that no live runtime runs
// waits, and its status says so; once a runtime runs the queue, it runs.
func TestWaitingSaysWhy(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		client := launchAs(t, url, dbos.Config{ClientOnly: true})
		launchAs(t, url, dbos.Config{ListenQueues: []*dbos.Queue{TaskQueue}})
		ctx := testCtx(t, client)
		h, err := EnqueueAdd(ctx, SerialQueue, 20, 22)
		if err != nil {
			t.Fatal(err)
		}
		// Runtimes of earlier tests (which ran every queue) may hold a
		// lease for a few seconds more.
		want := fmt.Sprintf("no live executor runs queue %q", SerialQueue.Name())
		deadline := time.Now().Add(20 * time.Second)
		for {
			st, err := h.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != dbos.StateEnqueued {
				t.Fatalf("a call on a queue no runtime runs is %s", st.State)
			}
			if st.Waiting == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Waiting = %q, want %q", st.Waiting, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
		launchAs(t, url, dbos.Config{ListenQueues: []*dbos.Queue{SerialQueue}})
		if got, err := h.GetResult(ctx); err != nil || got != 42 {
			t.Fatalf("GetResult = %d, %v; want 42", got, err)
		}
	})
}

// TestClientForkLeavesItToAWorker: a client-only runtime forks a finished
// workflow started without a queue; the fork waits, under no executor, for
// the worker that runs ThreeSteps, which takes it over and replays step 1.
func TestClientForkLeavesItToAWorker(t *testing.T) {
	effects := filepath.Join(t.TempDir(), "effects.log")
	t.Setenv(CrashLogEnv, effects)
	engines(t, func(t *testing.T, url string) {
		worker := launchAs(t, url, dbos.Config{})
		id := fmt.Sprintf("client-fork-%d", taskIDs.Add(1))
		h, err := StartThreeSteps(testCtx(t, worker), 7, dbos.WithID(id))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := h.GetResult(testCtx(t, worker)); err != nil || got != 7123 {
			t.Fatalf("ThreeSteps = %d, %v; want 7123", got, err)
		}

		client := launchAs(t, url, dbos.Config{ClientOnly: true})
		cctx := testCtx(t, client)
		fork, err := ForkThreeSteps(cctx, id, 2)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fork.GetResult(cctx)
		if err != nil || got != 7123 {
			t.Fatalf("fork = %d, %v; want 7123", got, err)
		}
		st, err := fork.Status(cctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.ExecutorID != worker.ExecutorID() {
			t.Errorf("fork run by %q, want the worker %s", st.ExecutorID, worker.ExecutorID())
		}
		steps, err := dbos.Steps(cctx, fork.ID())
		if err != nil || len(steps) != 3 {
			t.Fatalf("fork's steps = %+v, %v; want 3", steps, err)
		}
	})
}

// TestClientAwaitsWhatAWorkerRuns: a client's handles get what a worker
// ran, whether its end is small (on Postgres it comes with the
// completion's notification, without a read), large (read) or an error,
// and the status the client reads agrees.
func TestClientAwaitsWhatAWorkerRuns(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		client := launchAs(t, url, dbos.Config{ClientOnly: true})
		launchAs(t, url, dbos.Config{ListenQueues: []*dbos.Queue{TaskQueue}})
		ctx := testCtx(t, client)
		long := strings.Repeat("x", 300) // its output is over the 200 bytes a notification carries
		for _, text := range []string{"small", long, "fail:out of paper"} {
			task := Task{ID: int(taskIDs.Add(1)), Text: text}
			h, err := EnqueueProcessTask(ctx, TaskQueue, task)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.GetResult(ctx)
			if msg, failing := strings.CutPrefix(text, "fail:"); failing {
				var we *dbos.WorkflowError
				if !errors.As(err, &we) || we.Message != msg {
					t.Errorf("GetResult of a failing task = %v, want a WorkflowError %q", err, msg)
				}
				continue
			}
			if err != nil || got.TaskID != task.ID || got.Upper != strings.ToUpper(text) {
				t.Errorf("GetResult of %.20q = %+v, %v", text, got, err)
			}
			if st, err := h.Status(ctx); err != nil || st.State != dbos.StateSuccess {
				t.Errorf("status after GetResult: %+v, %v", st, err)
			}
		}
	})
}

// NarrowQueue lets each process run one task at a time.
var NarrowQueue = dbos.NewQueue("behaviour_narrow", dbos.WorkerConcurrency(1))

// TestClientsBatchReachesEveryWorker: on Postgres, a client enqueues three
// blocking tasks in one batch on a queue that lets each of three workers
// run one. The one notification wakes all three workers together; a worker
// whose claim meets another's in flight gives way (polite claims), and the
// one that filled its batch tells the others to claim again: all three
// tasks run at once, long before the workers' one-minute poll would have
// found them. (Whether the claims meet depends on timing; the dispatch
// package's TestPoliteClaims makes them meet.)
func TestClientsBatchReachesEveryWorker(t *testing.T) {
	url := testdb.PostgresURL(t)
	client := launchAs(t, url, dbos.Config{ClientOnly: true})
	for range 3 {
		launchAs(t, url, dbos.Config{ListenQueues: []*dbos.Queue{NarrowQueue}, PollInterval: time.Minute})
	}
	ctx := testCtx(t, client)
	calls := []BlockerArgs{{Name: "n0"}, {Name: "n1"}, {Name: "n2"}}
	hs, err := EnqueueBlockerBatch(ctx, NarrowQueue, calls)
	if err != nil {
		t.Fatal(err)
	}
	entered := map[string]bool{}
	timeout := time.After(20 * time.Second)
	for len(entered) < len(calls) {
		select {
		case name := <-Gate.Entered:
			if slices.Contains(calls, BlockerArgs{Name: name}) {
				entered[name] = true
			}
		case <-timeout:
			t.Fatalf("after 20 s only %v run, want all of %v at once (one per worker)", entered, calls)
		}
	}
	for range calls {
		Gate.Release <- struct{}{}
	}
	for i, h := range hs {
		if got, err := h.GetResult(ctx); err != nil || got != calls[i].Name+":3" {
			t.Errorf("Blocker %s = %q, %v", calls[i].Name, got, err)
		}
	}
}
