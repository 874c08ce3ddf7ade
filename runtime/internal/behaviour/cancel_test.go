package behaviour

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

func TestCancelEnqueuedTaskNeverStarts(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		task := Task{ID: int(taskIDs.Add(1)), Text: "never"}
		h, err := EnqueueProcessTask(ctx, TaskQueue, task, dbos.WithDelay(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Cancel(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := h.GetResult(ctx); !errors.Is(err, dbos.ErrCancelled) {
			t.Errorf("GetResult = %v, want ErrCancelled", err)
		}
		if st, _ := h.Status(ctx); st.State != dbos.StateCancelled {
			t.Errorf("state %s, want CANCELLED", st.State)
		}
		if n := CallCount(fmt.Sprintf("ProcessTask/%d", task.ID)); n != 0 {
			t.Errorf("a cancelled task ran %d times", n)
		}
		if err := dbos.Cancel(ctx, "no-such-workflow"); !errors.Is(err, dbos.ErrNotFound) {
			t.Errorf("Cancel of an unknown ID = %v, want ErrNotFound", err)
		}
	})
}

func TestCancelRunningThenResumeFromCheckpoints(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		id := fmt.Sprintf("cancel-%d", taskIDs.Add(1))
		adds := CallCount("Add")
		h, err := StartBlocker(ctx, "c", dbos.WithID(id))
		if err != nil {
			t.Fatal(err)
		}
		<-Gate.Entered // step 1 is checkpointed; the workflow waits on its context
		if err := h.Cancel(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := h.GetResult(ctx); !errors.Is(err, dbos.ErrCancelled) {
			t.Fatalf("GetResult after Cancel = %v, want ErrCancelled", err)
		}
		if n := CallCount("Add") - adds; n != 1 {
			t.Errorf("Add ran %d times before the cancel, want 1", n)
		}

		if err := dbos.Resume(ctx, id); err != nil {
			t.Fatal(err)
		}
		<-Gate.Entered // step 1 replayed from its checkpoint, not run
		Gate.Release <- struct{}{}
		got, err := h.GetResult(ctx)
		if err != nil || got != "c:3" {
			t.Fatalf("resumed Blocker = %q, %v; want c:3", got, err)
		}
		if n := CallCount("Add") - adds; n != 2 {
			t.Errorf("Add ran %d times in all, want 2 (step 1 once, step 2 once)", n)
		}

		steps, err := dbos.Steps(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(steps) != 2 || steps[0].StepID != 1 || string(steps[0].Output) != "2" || string(steps[1].Output) != "3" {
			t.Errorf("checkpoints = %+v, want steps 1 and 2 with outputs 2 and 3", steps)
		}
		listed, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Name: "github.com/dbosgen/dbosgen/runtime/internal/behaviour.Blocker", State: dbos.StateSuccess})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(listed, func(s dbos.Status) bool { return s.ID == id }) {
			t.Errorf("ListWorkflows did not list %s", id)
		}
		// Cancelling a finished workflow changes nothing.
		if err := h.Cancel(ctx); err != nil {
			t.Fatal(err)
		}
		if st, _ := h.Status(ctx); st.State != dbos.StateSuccess {
			t.Errorf("state after cancelling a finished workflow: %s", st.State)
		}
	})
}

// TestCancelFromAnotherProcessStopsTheRun cancels, from a second runtime, a
// workflow running in the first: the running process cancels the
// workflow's context, on Postgres when the notification arrives, on SQLite
// at its next heartbeat.
func TestCancelFromAnotherProcessStopsTheRun(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		rt1 := launch(t, url, "")
		rt2 := launch(t, url, "")
		name := fmt.Sprintf("remote-%d", taskIDs.Add(1))
		h, err := StartBlocker(testCtx(t, rt1), name)
		if err != nil {
			t.Fatal(err)
		}
		<-Gate.Entered
		if err := dbos.Cancel(testCtx(t, rt2), h.ID()); err != nil {
			t.Fatal(err)
		}
		if _, err := h.GetResult(testCtx(t, rt1)); !errors.Is(err, dbos.ErrCancelled) {
			t.Fatalf("GetResult = %v, want ErrCancelled", err)
		}
		// Blocker returns only when its context is done (or the gate
		// opens, which this test never does).
		timeout := time.After(30 * time.Second)
		for {
			select {
			case exited := <-Gate.Exited:
				if exited == name {
					return
				}
			case <-timeout:
				t.Fatal("the cancelled workflow's context in the first process was not cancelled")
			}
		}
	})
}
