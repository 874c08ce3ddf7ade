package behaviour

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	if os.Getenv(forkChildEnv) != "" {
		os.Exit(forkChild())
	}
	if os.Getenv(outboxWorkerEnv) != "" {
		os.Exit(outboxWorker())
	}
	testdb.Main(m)
}

// engines runs a behaviour test on each engine, with a database URL to use.
func engines(t *testing.T, test func(t *testing.T, url string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, "sqlite:"+testdb.SQLitePath(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, testdb.PostgresURL(t)) })
}

var executorSeq atomic.Int64

// launch starts a runtime for a test and shuts it down when the test ends.
func launch(t *testing.T, url string, executorID string) *dbos.Runtime {
	t.Helper()
	if executorID == "" {
		executorID = fmt.Sprintf("%s-%d", t.Name(), executorSeq.Add(1))
	}
	rt, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: url, ExecutorID: executorID})
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	return rt
}

// testCtx is a context bound to rt that ends with the test.
func testCtx(t *testing.T, rt *dbos.Runtime) context.Context {
	ctx, cancel := context.WithTimeout(rt.WithContext(context.Background()), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var taskIDs atomic.Int64

// tasks returns n tasks with IDs no other test uses.
func tasks(n int, text string) []Task {
	out := make([]Task, n)
	for i := range out {
		out[i] = Task{ID: int(taskIDs.Add(1)), Text: fmt.Sprintf("%s-%d", text, i)}
	}
	return out
}

func TestWorkflowFansOutOnQueue(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		in := tasks(25, "hello")
		h, err := StartProcessTasks(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		results, err := h.GetResult(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(results) != len(in) {
			t.Fatalf("got %d results, want %d", len(results), len(in))
		}
		for i, r := range results {
			want := Result{TaskID: in[i].ID, Upper: fmt.Sprintf("HELLO-%d", i)}
			if r != want {
				t.Errorf("result %d = %+v, want %+v", i, r, want)
			}
		}
		st, err := h.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != dbos.StateSuccess || st.Name != "github.com/dbosgen/dbosgen/runtime/internal/behaviour.ProcessTasks" {
			t.Errorf("status = %+v", st)
		}
		// The children were enqueued with IDs derived from the parent.
		child, err := RetrieveProcessTask(ctx, h.ID()+"-1")
		if err != nil {
			t.Fatal(err)
		}
		if r, err := child.GetResult(ctx); err != nil || r != results[0] {
			t.Errorf("first child = %+v, %v; want %+v", r, err, results[0])
		}
	})
}

func TestWorkflowIDIsIdempotencyKey(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		in := tasks(3, "once")
		id := fmt.Sprintf("idem-%d", in[0].ID)
		h1, err := StartProcessTasks(ctx, in, dbos.WithID(id))
		if err != nil {
			t.Fatal(err)
		}
		r1, err := h1.GetResult(ctx)
		if err != nil {
			t.Fatal(err)
		}
		h2, err := StartProcessTasks(ctx, in, dbos.WithID(id))
		if err != nil {
			t.Fatal(err)
		}
		r2, err := h2.GetResult(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h2.ID() != id || fmt.Sprint(r1) != fmt.Sprint(r2) {
			t.Errorf("second start: id %q result %v; want %q %v", h2.ID(), r2, id, r1)
		}
		for _, task := range in {
			if n := CallCount(fmt.Sprintf("ProcessTask/%d", task.ID)); n != 1 {
				t.Errorf("task %d ran %d times, want 1", task.ID, n)
			}
		}
		// The same ID for another function is refused.
		if _, err := StartSum3(ctx, 1, 2, 3, dbos.WithID(id)); !errors.Is(err, dbos.ErrConflictingID) {
			t.Errorf("reusing an ID for another function: err = %v, want ErrConflictingID", err)
		}
	})
}

func TestTaskErrorCarriesMessage(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		h, err := EnqueueProcessTask(ctx, TaskQueue, Task{ID: int(taskIDs.Add(1)), Text: "fail:disk on fire"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.GetResult(ctx)
		var werr *dbos.WorkflowError
		if !errors.As(err, &werr) || werr.Message != "disk on fire" || werr.WorkflowID != h.ID() {
			t.Fatalf("GetResult err = %#v, want *WorkflowError with the task's message", err)
		}
		st, err := h.Status(ctx)
		if err != nil || st.State != dbos.StateError || st.Error != "disk on fire" {
			t.Errorf("status = %+v, %v", st, err)
		}
	})
}

func TestPanicIsRecordedAsError(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		h, err := EnqueueProcessTask(ctx, TaskQueue, Task{ID: int(taskIDs.Add(1)), Text: "panic"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.GetResult(ctx)
		var werr *dbos.WorkflowError
		if !errors.As(err, &werr) || !strings.Contains(werr.Message, "task asked to panic") {
			t.Fatalf("GetResult err = %v, want the panic recorded as an error", err)
		}
		// The process lives on and keeps working.
		if sum, err := RunSum3(ctx, 1, 2, 3); err != nil || sum != 6 {
			t.Errorf("after a panic: RunSum3 = %d, %v", sum, err)
		}
	})
}

func TestRetrieveFromAnotherProcess(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		rt1 := launch(t, url, "")
		rt2 := launch(t, url, "")
		in := tasks(4, "shared")
		h, err := StartProcessTasks(testCtx(t, rt1), in)
		if err != nil {
			t.Fatal(err)
		}
		other, err := RetrieveProcessTasks(testCtx(t, rt2), h.ID())
		if err != nil {
			t.Fatal(err)
		}
		results, err := other.GetResult(testCtx(t, rt2))
		if err != nil || len(results) != 4 || results[3].Upper != "SHARED-3" {
			t.Fatalf("GetResult from another runtime = %v, %v", results, err)
		}
		if _, err := RetrieveProcessTasks(testCtx(t, rt2), "no-such-workflow"); !errors.Is(err, dbos.ErrNotFound) {
			t.Errorf("retrieve unknown ID: err = %v, want ErrNotFound", err)
		}
		if _, err := RetrieveSum3(testCtx(t, rt2), h.ID()); !errors.Is(err, dbos.ErrConflictingID) {
			t.Errorf("retrieve with the wrong function: err = %v, want ErrConflictingID", err)
		}
	})
}

func TestChildWorkflowsAndSteps(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		id := fmt.Sprintf("parent-%d", taskIDs.Add(1))
		h, err := StartParent(ctx, 2, dbos.WithID(id))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := h.GetResult(ctx); err != nil || got != 8 {
			t.Fatalf("Parent(2) = %d, %v; want 8", got, err)
		}
		// Step 1 ran Sum3(2,2,2) as a child, step 2 started Sum3(6,1,1).
		for step, want := range map[int]int{1: 6, 2: 8} {
			child, err := RetrieveSum3(ctx, fmt.Sprintf("%s-%d", id, step))
			if err != nil {
				t.Fatal(err)
			}
			st, _ := child.Status(ctx)
			if got, err := child.GetResult(ctx); err != nil || got != want || st.ParentID != id {
				t.Errorf("child of step %d = %d, %v (parent %q); want %d", step, got, err, st.ParentID, want)
			}
		}
		// Outside a workflow, RunF runs durably and waits.
		if got, err := RunAdd(ctx, 40, 2); err != nil || got != 42 {
			t.Errorf("RunAdd = %d, %v", got, err)
		}
	})
}

func TestUnencodableInputFailsAtEnqueue(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		_, err := EnqueueRatio(ctx, TaskQueue, math.NaN())
		if !errors.Is(err, dbos.ErrEncode) {
			t.Fatalf("enqueue NaN: err = %v, want ErrEncode", err)
		}
		if got, err := RunRatio(ctx, 3); err != nil || got != 1.5 {
			t.Errorf("RunRatio(3) = %v, %v", got, err)
		}
	})
}

func TestConcurrencyOneRunsInOrder(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		Ordered.Lock()
		Ordered.seq = nil
		Ordered.maxActive.Store(0)
		Ordered.Unlock()
		ctx := testCtx(t, launch(t, url, ""))
		var handles []*RecordOrderHandle
		for i := range 30 {
			h, err := EnqueueRecordOrder(ctx, SerialQueue, i)
			if err != nil {
				t.Fatal(err)
			}
			handles = append(handles, h)
		}
		for _, h := range handles {
			if err := h.GetResult(ctx); err != nil {
				t.Fatal(err)
			}
		}
		seq, most := OrderedRun()
		if most != 1 {
			t.Errorf("%d tasks ran at once on a Concurrency(1) queue", most)
		}
		for i, n := range seq {
			if n != i {
				t.Fatalf("ran in order %v, want 0..29", seq)
			}
		}
	})
}

func TestShutdownLeavesWorkForTheSameExecutor(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		executor := fmt.Sprintf("resume-%d", executorSeq.Add(1))
		rt1, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: url, ExecutorID: executor})
		if err != nil {
			t.Fatal(err)
		}
		ctx := testCtx(t, rt1)
		id := fmt.Sprintf("blocker-%d", taskIDs.Add(1))
		adds := CallCount("Add")
		if _, err := StartBlocker(ctx, "b", dbos.WithID(id)); err != nil {
			t.Fatal(err)
		}
		<-Gate.Entered
		stopNow, cancel := context.WithCancel(context.Background())
		cancel()
		if err := rt1.Shutdown(stopNow); !errors.Is(err, context.Canceled) {
			t.Fatalf("Shutdown with a done context = %v, want context.Canceled", err)
		}
		rt2 := launch(t, url, executor) // resumes the workflow
		ctx2 := testCtx(t, rt2)
		h, err := RetrieveBlocker(ctx2, id)
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := h.Status(ctx2); st.State != dbos.StatePending || st.Attempts != 2 {
			t.Errorf("after relaunch: status %+v, want PENDING, attempt 2", st)
		}
		<-Gate.Entered
		Gate.Release <- struct{}{}
		got, err := h.GetResult(ctx2)
		if err != nil || got != "b:3" {
			t.Fatalf("resumed Blocker = %q, %v; want b:3", got, err)
		}
		if n := CallCount("Add") - adds; n != 2 {
			t.Errorf("Add ran %d times, want 2: its first checkpoint must be replayed, not rerun", n)
		}
	})
}
