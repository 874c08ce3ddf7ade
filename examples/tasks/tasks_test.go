package tasks_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"

	"github.com/dbosgen/dbosgen/examples/tasks"
)

// launch starts a runtime on a fresh SQLite file and returns a context that
// ends with the test.
func launch(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "tasks.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	return ctx
}

func TestProcessTasksReturnsResultsInOrder(t *testing.T) {
	ctx := launch(t)
	in := []tasks.Task{{ID: 1, Text: "hello"}, {ID: 2, Text: "queues"}, {ID: 3, Text: "and workflows"}}
	h, err := tasks.StartProcessTasks(ctx, in, dbos.WithID("tasks-test-batch"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.GetResult(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []tasks.Result{{TaskID: 1, Upper: "HELLO"}, {TaskID: 2, Upper: "QUEUES"}, {TaskID: 3, Upper: "AND WORKFLOWS"}}
	if !slices.Equal(got, want) {
		t.Errorf("results = %+v, want %+v", got, want)
	}
	// Each task ran on TaskQueue.
	on, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Queue: tasks.TaskQueue.Name()})
	if err != nil {
		t.Fatal(err)
	}
	if len(on) != len(in) {
		t.Errorf("%d workflows on %s, want %d", len(on), tasks.TaskQueue.Name(), len(in))
	}
}

func TestProcessTaskFailureCarriesMessage(t *testing.T) {
	ctx := launch(t)
	h, err := tasks.EnqueueProcessTask(ctx, tasks.TaskQueue, tasks.Task{ID: 4, Text: "fail:out of paper"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.GetResult(ctx)
	var failed *dbos.WorkflowError
	if !errors.As(err, &failed) || failed.Message != "out of paper" {
		t.Fatalf("GetResult err = %v, want a *dbos.WorkflowError with message %q", err, "out of paper")
	}

	// In a workflow, the failed task fails the whole batch with its message.
	w, err := tasks.StartProcessTasks(ctx, []tasks.Task{{ID: 5, Text: "fine"}, {ID: 6, Text: "fail:jammed"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.GetResult(ctx); !errors.As(err, &failed) || failed.Message != "jammed" {
		t.Fatalf("ProcessTasks err = %v, want a *dbos.WorkflowError with message %q", err, "jammed")
	}
}
