package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

func TestProcessTasksProcessesEveryTaskInOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "queue.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Shutdown(ctx)

	var tasks []Task
	var want []Result
	for i := range 30 {
		word := fmt.Sprintf("word-%02d", i)
		tasks = append(tasks, Task{ID: i + 1, Word: word})
		want = append(want, Result{TaskID: i + 1, Output: fmt.Sprintf("WORD-%02d", i)})
	}
	h, err := StartProcessTasks(ctx, tasks, dbos.WithID("queue-test-batch"))
	if err != nil {
		t.Fatal(err)
	}
	results, err := h.GetResult(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(results, want) {
		t.Errorf("results = %+v, want %+v", results, want)
	}

	// Every task ran as its own durable workflow on example_queue.
	st, err := h.Status(ctx)
	if err != nil || st.State != dbos.StateSuccess {
		t.Errorf("workflow status = %+v, %v; want %s", st, err, dbos.StateSuccess)
	}
	on, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Queue: exampleQueue.Name(), State: dbos.StateSuccess})
	if err != nil {
		t.Fatal(err)
	}
	if len(on) != len(tasks) {
		t.Errorf("%d tasks succeeded on %s, want %d", len(on), exampleQueue.Name(), len(tasks))
	}
	for _, s := range on {
		if s.ParentID != h.ID() {
			t.Errorf("task %s has parent %q, want %q", s.ID, s.ParentID, h.ID())
		}
	}

	// The workflow ID is an idempotency key: starting it again returns the
	// recorded result and runs nothing again.
	again, err := StartProcessTasks(ctx, tasks, dbos.WithID(h.ID()))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := again.GetResult(ctx); err != nil || !slices.Equal(r, want) {
		t.Errorf("second start: %+v, %v; want %+v", r, err, want)
	}
	if on, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Queue: exampleQueue.Name()}); err != nil || len(on) != len(tasks) {
		t.Errorf("after the second start: %d tasks on %s (err %v), want %d", len(on), exampleQueue.Name(), err, len(tasks))
	}
}
