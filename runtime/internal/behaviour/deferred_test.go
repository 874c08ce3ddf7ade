package behaviour

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// The tasks FanOutAndBlock enqueues in the crash program: IDs unique to
// this test binary's run (the log is per test).
var (
	fanOutFirst  = []int{1, 2, 3, 4, 5}
	fanOutSecond = []int{6, 7, 8}
)

// TestCrashLosesOnlyUnwrittenEnqueues kills a real process while its
// workflow holds enqueues not yet written (see runtime/internal/executor/deferred.go): five
// written when it awaited them (all finished), three only noted. The restarted
// program must run each of the eight tasks exactly once, create no extra
// child, and return the right sum.
func TestCrashLosesOnlyUnwrittenEnqueues(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		effects := filepath.Join(t.TempDir(), "effects.log")
		n := executorSeq.Add(1)
		wfID := fmt.Sprintf("fanout-%d-%d", os.Getpid(), n)
		env := crashEnv(url, wfID, fmt.Sprintf("fanout-executor-%d-%d", os.Getpid(), n), effects, crashProgramEnv+"=fanout")
		killAt(t, ctx, append(slices.Clone(env), FanOutBlockEnv+"=1"), "fanout-blocked")

		// Only the first five children reached the database. (This
		// process's runtime may run some of them: they log here too.)
		t.Setenv(CrashLogEnv, effects)
		rt := launch(t, url, "")
		tctx := testCtx(t, rt)
		if got := children(t, tctx, wfID); len(got) != len(fanOutFirst) {
			t.Fatalf("after the crash %d children exist, want the %d written ones: %v", len(got), len(fanOutFirst), got)
		}

		if got, _ := runCrashProgram(t, ctx, env); got != "result 72" { // 2 * (1+...+8)
			t.Fatalf("restarted program printed %q, want %q", got, "result 72")
		}
		if got := children(t, tctx, wfID); len(got) != len(fanOutFirst)+len(fanOutSecond) {
			t.Errorf("%d children exist, want %d: %v", len(got), len(fanOutFirst)+len(fanOutSecond), got)
		}
		data, err := os.ReadFile(effects)
		if err != nil {
			t.Fatal(err)
		}
		ran := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			task, _, _ := strings.Cut(line, " ")
			ran[task]++
		}
		for _, id := range slices.Concat(fanOutFirst, fanOutSecond) {
			if k := fmt.Sprintf("task%d", id); ran[k] != 1 {
				t.Errorf("%s ran %d times, want once (log:\n%s)", k, ran[k], data)
			}
		}
		// The checkpoints: 8 enqueues and 8 results, in call order.
		steps, err := dbos.Steps(tctx, wfID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range steps {
			names = append(names, strings.Fields(s.Name)[0])
		}
		want := strings.Fields(strings.Repeat("enqueue ", 5) + strings.Repeat("get ", 5) + strings.Repeat("enqueue ", 3) + strings.Repeat("get ", 3))
		if !slices.Equal(names, want) {
			t.Errorf("checkpoints %v, want %v", names, want)
		}
	})
}

// children returns the IDs of the workflows whose ID derives from parent's.
func children(t *testing.T, ctx context.Context, parent string) []string {
	t.Helper()
	all, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Name: "github.com/dbosgen/dbosgen/runtime/internal/behaviour.LoggedTask", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, w := range all {
		if w.ParentID == parent {
			ids = append(ids, w.ID)
		}
	}
	return ids
}

func TestStepSeesEnqueuedChild(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		h, err := StartEnqueueThenInspect(ctx, tasks(1, "inspect")[0])
		if err != nil {
			t.Fatal(err)
		}
		state, err := h.GetResult(ctx)
		if err != nil {
			t.Fatalf("the step could not read the child: %v", err)
		}
		if state == "" {
			t.Error("the step read an empty state")
		}
	})
}

func TestChildrenOfAReturnedWorkflowRun(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		for _, fail := range []bool{false, true} {
			in := tasks(3, "left")
			h, err := StartEnqueueAndLeave(ctx, in, fail)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.GetResult(ctx); (err != nil) != fail {
				t.Fatalf("fail=%v: GetResult err = %v", fail, err)
			}
			// Whether it returned or failed, its enqueues were written.
			for i, task := range in {
				child, err := RetrieveProcessTask(ctx, fmt.Sprintf("%s-%d", h.ID(), i+1))
				if err != nil {
					t.Fatalf("fail=%v: child %d: %v", fail, i+1, err)
				}
				r, err := child.GetResult(ctx)
				if err != nil || r.TaskID != task.ID {
					t.Errorf("fail=%v: child %d = %+v, %v", fail, i+1, r, err)
				}
			}
		}
	})
}
