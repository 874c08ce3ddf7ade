package behaviour

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// stageRuns returns how many times each of ThreeStages' steps ran for key.
func stageRuns(key string) [3]int {
	var n [3]int
	for i := range n {
		n[i] = CallCount(fmt.Sprintf("Stage/%s/%d", key, i+1))
	}
	return n
}

// finishedThreeStages runs ThreeStages(key, 7) to its end and returns its
// ID.
func finishedThreeStages(t *testing.T, ctx context.Context, key string, opts ...dbos.EnqueueOption) string {
	t.Helper()
	h, err := StartThreeStages(ctx, key, 7, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := h.GetResult(ctx); err != nil || r != 7123 {
		t.Fatalf("ThreeStages = %d, %v; want 7123", r, err)
	}
	return h.ID()
}

// forkResult waits for a fork's result, which must be 7123.
func forkResult(t *testing.T, ctx context.Context, h *ThreeStagesHandle) {
	t.Helper()
	if r, err := h.GetResult(ctx); err != nil || r != 7123 {
		t.Fatalf("fork %s = %d, %v; want 7123", h.ID(), r, err)
	}
}

func checkRuns(t *testing.T, what, key string, want [3]int) {
	t.Helper()
	if got := stageRuns(key); got != want {
		t.Errorf("%s: steps 1, 2, 3 ran %v times in all, want %v", what, got, want)
	}
}

// sameSteps reports whether two workflows' checkpoints record the same
// outcomes.
func sameSteps(a, b []dbos.StepInfo) bool {
	return slices.EqualFunc(a, b, func(x, y dbos.StepInfo) bool {
		return x.StepID == y.StepID && x.Name == y.Name && bytes.Equal(x.Output, y.Output) && x.Error == y.Error && x.ChildID == y.ChildID
	})
}

func steps(t *testing.T, ctx context.Context, id string) []dbos.StepInfo {
	t.Helper()
	s, err := dbos.Steps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestForkReplaysStepsBeforeFromStep forks a finished 3-step workflow:
// from step 2, steps 2 and 3 run again and step 1 does not; from step 1
// all run again; from step 4 none. The forks' results are right and the
// original is unchanged.
func TestForkReplaysStepsBeforeFromStep(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		key := fmt.Sprint("fork-", taskIDs.Add(1))
		id := finishedThreeStages(t, ctx, key)
		checkRuns(t, "the original", key, [3]int{1, 1, 1})
		origSteps := steps(t, ctx, id)
		origStatus, err := dbos.WorkflowStatus(ctx, id)
		if err != nil {
			t.Fatal(err)
		}

		h, err := ForkThreeStages(ctx, id, 2)
		if err != nil {
			t.Fatal(err)
		}
		forkResult(t, ctx, h)
		checkRuns(t, "after a fork from step 2", key, [3]int{1, 2, 2})
		st, err := h.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h.ID() == id || st.State != dbos.StateSuccess || st.Name != origStatus.Name || st.Queue != "" || st.ParentID != "" {
			t.Errorf("fork status = %+v; want a new SUCCESS workflow of %s without a queue or parent", st, origStatus.Name)
		}
		if forkSteps := steps(t, ctx, h.ID()); !sameSteps(forkSteps, origSteps) {
			t.Errorf("fork's steps = %+v, want the same outcomes as the original's %+v", forkSteps, origSteps)
		}

		h, err = ForkThreeStages(ctx, id, 1)
		if err != nil {
			t.Fatal(err)
		}
		forkResult(t, ctx, h)
		checkRuns(t, "after a fork from step 1", key, [3]int{2, 3, 3})

		h, err = ForkThreeStages(ctx, id, 4) // the last step + 1
		if err != nil {
			t.Fatal(err)
		}
		forkResult(t, ctx, h)
		checkRuns(t, "after a fork from step 4", key, [3]int{2, 3, 3})

		// Untyped, from step 3, under an ID of our own.
		forkID := id + "-again"
		newID, err := dbos.Fork(ctx, id, 3, dbos.WithID(forkID))
		if err != nil || newID != forkID {
			t.Fatalf("dbos.Fork with WithID(%q) = %q, %v", forkID, newID, err)
		}
		h, err = RetrieveThreeStages(ctx, newID)
		if err != nil {
			t.Fatal(err)
		}
		forkResult(t, ctx, h)
		checkRuns(t, "after a fork from step 3", key, [3]int{2, 3, 4})
		// The same ID again: that workflow, nothing run.
		h, err = ForkThreeStages(ctx, id, 1, dbos.WithID(forkID))
		if err != nil || h.ID() != forkID {
			t.Fatalf("a fork again under %q = %v, %v; want that workflow", forkID, h, err)
		}
		forkResult(t, ctx, h)
		checkRuns(t, "after a fork under an existing ID", key, [3]int{2, 3, 4})

		// The original is untouched.
		if after := steps(t, ctx, id); !sameSteps(after, origSteps) || len(after) != 3 {
			t.Errorf("original's steps after the forks = %+v, want %+v", after, origSteps)
		}
		after, err := dbos.WorkflowStatus(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(after, origStatus) {
			t.Errorf("original's status after the forks = %+v, want %+v", after, origStatus)
		}
		orig, err := RetrieveThreeStages(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		forkResult(t, ctx, orig)
	})
}

// TestForkErrors: an unknown ID, a fromStep out of range, an ID of another
// function and the options a fork cannot take fail with errors that say
// so, and create nothing.
func TestForkErrors(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		key := fmt.Sprint("fork-", taskIDs.Add(1))
		id := finishedThreeStages(t, ctx, key)
		sum, err := StartSum3(ctx, 1, 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sum.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
		listed := func() int {
			ws, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Limit: 100000})
			if err != nil {
				t.Fatal(err)
			}
			return len(ws)
		}
		before := listed()

		missing := id + "-missing"
		if _, err := ForkThreeStages(ctx, missing, 1); !errors.Is(err, dbos.ErrNotFound) || !strings.Contains(err.Error(), missing) {
			t.Errorf("ForkF of an unknown ID: err = %v, want ErrNotFound naming it", err)
		}
		if _, err := dbos.Fork(ctx, missing, 1); !errors.Is(err, dbos.ErrNotFound) {
			t.Errorf("dbos.Fork of an unknown ID: err = %v, want ErrNotFound", err)
		}
		if _, err := ForkSum3(ctx, id, 1); !errors.Is(err, dbos.ErrConflictingID) {
			t.Errorf("ForkSum3 of a ThreeStages ID: err = %v, want ErrConflictingID", err)
		}
		if _, err := ForkThreeStages(ctx, id, 2, dbos.WithID(sum.ID())); !errors.Is(err, dbos.ErrConflictingID) {
			t.Errorf("a fork under the ID of a Sum3: err = %v, want ErrConflictingID", err)
		}
		for _, c := range []struct {
			fromStep int
			opts     []dbos.EnqueueOption
			want     string
		}{
			{0, nil, "fromStep 0 is out of range"},
			{-1, nil, "fromStep -1 is out of range"},
			{5, nil, "must be from 1 to 4"},
			{2, []dbos.EnqueueOption{dbos.WithID(id)}, "a fork needs an ID of its own"},
			{2, []dbos.EnqueueOption{dbos.WithPriority(1)}, "WithPriority does not apply to a fork"},
			{2, []dbos.EnqueueOption{dbos.WithDeduplicationID("d")}, "WithDeduplicationID does not apply to a fork"},
			{2, []dbos.EnqueueOption{dbos.WithPartitionKey("k")}, "WithPartitionKey does not apply to a fork"},
			{2, []dbos.EnqueueOption{dbos.WithDelay(time.Second)}, "WithDelay needs a queue"},
			{2, []dbos.EnqueueOption{dbos.WithTimeout(0)}, "WithTimeout(0s): must be positive"},
		} {
			if _, err := ForkThreeStages(ctx, id, c.fromStep, c.opts...); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("fork from step %d: err = %v, want it to say %q", c.fromStep, err, c.want)
			}
		}
		if after := listed(); after != before {
			t.Errorf("failed forks created %d workflows", after-before)
		}
		checkRuns(t, "after failed forks", key, [3]int{1, 1, 1})
	})
}

// TestForkOnQueue: the fork of an enqueued workflow goes on its queue,
// where a dispatcher runs it; WithDelay holds it there.
func TestForkOnQueue(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		key := fmt.Sprint("fork-", taskIDs.Add(1))
		orig, err := EnqueueThreeStages(ctx, TaskQueue, key, 7, dbos.WithPriority(2))
		if err != nil {
			t.Fatal(err)
		}
		forkResult(t, ctx, orig)
		h, err := ForkThreeStages(ctx, orig.ID(), 3, dbos.WithTimeout(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		forkResult(t, ctx, h)
		checkRuns(t, "after a fork from step 3", key, [3]int{1, 1, 2})
		st, err := h.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Queue != TaskQueue.Name() || st.Priority != 2 || st.State != dbos.StateSuccess {
			t.Errorf("fork status = %+v; want SUCCESS on %s with priority 2", st, TaskQueue.Name())
		}

		later, err := ForkThreeStages(ctx, orig.ID(), 1, dbos.WithDelay(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if st, err := later.Status(ctx); err != nil || st.State != dbos.StateEnqueued || st.Queue != TaskQueue.Name() {
			t.Errorf("delayed fork status = %+v, %v; want ENQUEUED on %s", st, err, TaskQueue.Name())
		}
		if err := later.Cancel(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestForkInsideWorkflow: inside a workflow a fork is a checkpointed step
// with an ID derived from the workflow's; replaying that step (in a fork
// of the forking workflow) returns the same fork without forking again,
// and a recorded error replays as the same sentinel.
func TestForkInsideWorkflow(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		key := fmt.Sprint("fork-", taskIDs.Add(1))
		id := finishedThreeStages(t, ctx, key)

		parent, err := StartForkFrom(ctx, id, 2)
		if err != nil {
			t.Fatal(err)
		}
		want := parent.ID() + "-1=7123"
		if got, err := parent.GetResult(ctx); err != nil || got != want {
			t.Fatalf("ForkFrom = %q, %v; want %q", got, err, want)
		}
		checkRuns(t, "after a fork inside a workflow", key, [3]int{1, 2, 2})
		s := steps(t, ctx, parent.ID())
		if len(s) != 2 || s[0].Name != "fork "+dbosFnThreeStages.Name || s[0].ChildID != parent.ID()+"-1" || s[0].Error != "" {
			t.Errorf("ForkFrom's steps = %+v; want step 1 the fork of %s-1", s, parent.ID())
		}

		// The fork of the forking workflow from its step 2 replays step 1:
		// the same fork, which is not forked again.
		again, err := ForkForkFrom(ctx, parent.ID(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := again.GetResult(ctx); err != nil || got != want {
			t.Fatalf("ForkFrom forked from step 2 = %q, %v; want %q", got, err, want)
		}
		checkRuns(t, "after replaying a fork", key, [3]int{1, 2, 2})

		// A fork that finds nothing: recorded, and replayed as ErrNotFound.
		lost, err := StartForkFrom(ctx, id+"-missing", 2)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := lost.GetResult(ctx); err != nil || got != "not found" {
			t.Fatalf("ForkFrom of a missing ID = %q, %v; want %q", got, err, "not found")
		}
		s = steps(t, ctx, lost.ID())
		if len(s) != 1 || !strings.Contains(s[0].Error, "not found") {
			t.Errorf("ForkFrom's steps = %+v; want step 1 a recorded not-found error", s)
		}
		replayed, err := ForkForkFrom(ctx, lost.ID(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := replayed.GetResult(ctx); err != nil || got != "not found" {
			t.Fatalf("ForkFrom replaying the error = %q, %v; want %q", got, err, "not found")
		}
	})
}

// Environment of the program TestForkFromAnotherProcess runs: it forks
// ThreeSteps call $DBOS_FORK_ORIGINAL from step 2 and prints the fork's
// result.
const (
	forkChildEnv    = "DBOS_FORK_CHILD"
	forkOriginalEnv = "DBOS_FORK_ORIGINAL"
)

func forkChild() int {
	ctx := context.Background()
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: os.Getenv(crashURLEnv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer rt.Shutdown(ctx)
	h, err := ForkThreeSteps(ctx, os.Getenv(forkOriginalEnv), 2)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	r, err := h.GetResult(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("result %d\n", r)
	return 0
}

// TestForkFromAnotherProcess runs a 3-step workflow here, then has another
// OS process fork it from step 2: the side-effect log shows steps 2 and 3
// ran again in that process, which printed the right result.
func TestForkFromAnotherProcess(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		effects := filepath.Join(t.TempDir(), "effects.log")
		t.Setenv(CrashLogEnv, effects)
		h, err := StartThreeSteps(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := h.GetResult(ctx); err != nil || r != 7123 {
			t.Fatalf("ThreeSteps = %d, %v; want 7123", r, err)
		}

		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), forkChildEnv+"=1", crashURLEnv+"="+url, forkOriginalEnv+"="+h.ID(),
			"DBOS_EXECUTOR_ID=fork-child-"+strconv.Itoa(int(executorSeq.Add(1))))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("the forking program failed: %v\n%s%s", err, out, stderr.String())
		}
		if got := strings.TrimSpace(string(out)); got != "result 7123" {
			t.Errorf("the forking program printed %q, want %q", got, "result 7123")
		}
		data, err := os.ReadFile(effects)
		if err != nil {
			t.Fatal(err)
		}
		here, there := os.Getpid(), cmd.Process.Pid
		want := []string{
			fmt.Sprintf("step1 %d", here), fmt.Sprintf("step2 %d", here), fmt.Sprintf("step3 %d", here),
			fmt.Sprintf("step2 %d", there), fmt.Sprintf("step3 %d", there),
		}
		if got := strings.Split(strings.TrimSpace(string(data)), "\n"); !slices.Equal(got, want) {
			t.Errorf("step bodies ran as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestForkStep: a step enqueued on its own records no checkpoints, so its
// fork runs it again from step 1, and only from step 1.
func TestForkStep(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		key := fmt.Sprint("fork-", taskIDs.Add(1))
		orig, err := EnqueueStage(ctx, TaskQueue, key, 1, 7)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := orig.GetResult(ctx); err != nil || r != 71 {
			t.Fatalf("Stage = %d, %v; want 71", r, err)
		}
		h, err := ForkStage(ctx, orig.ID(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := h.GetResult(ctx); err != nil || r != 71 {
			t.Fatalf("fork of Stage = %d, %v; want 71", r, err)
		}
		checkRuns(t, "after forking a step", key, [3]int{2, 0, 0})
		if _, err := ForkStage(ctx, orig.ID(), 2); err == nil || !strings.Contains(err.Error(), "must be from 1 to 1") {
			t.Errorf("fork of a step from step 2: err = %v, want the range 1 to 1", err)
		}
	})
}
