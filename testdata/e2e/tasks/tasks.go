// Package tasks is the user-like package of the end-to-end test: a
// workflow that enqueues a step per task on a queue and collects the
// results, and one that enqueues the steps as one batch.
package tasks

import (
	"context"
	"fmt"
	"strings"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

var taskQueue = dbos.NewQueue("e2e_tasks", dbos.Concurrency(2))

// Task is one unit of work.
type Task struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// Result is what processing a Task produced.
type Result struct {
	ID    int    `json:"id"`
	Upper string `json:"upper"`
}

// ProcessTask processes one task.
//
//dbos:step
func ProcessTask(ctx context.Context, task Task) (Result, error) {
	return Result{ID: task.ID, Upper: strings.ToUpper(task.Name)}, nil
}

// Check fails for an empty batch; it returns only an error.
//
//dbos:step
func Check(ctx context.Context, n int) error {
	if n == 0 {
		return fmt.Errorf("empty batch")
	}
	return nil
}

// ProcessTasks enqueues every task on the queue and collects the results
// in order.
//
//dbos:workflow name=e2e.ProcessTasks
func ProcessTasks(ctx context.Context, tasks []Task) ([]Result, error) {
	if err := RunCheck(ctx, len(tasks)); err != nil {
		return nil, err
	}
	handles := make([]*ProcessTaskHandle, 0, len(tasks))
	for _, t := range tasks {
		h, err := EnqueueProcessTask(ctx, taskQueue, t)
		if err != nil {
			return nil, err
		}
		handles = append(handles, h)
	}
	results := make([]Result, 0, len(handles))
	for _, h := range handles {
		r, err := h.GetResult(ctx)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	return results, nil
}

// ProcessBatch enqueues every task on the queue as one batch (one insert,
// one checkpointed step) and collects the results in order.
//
//dbos:workflow
func ProcessBatch(ctx context.Context, tasks []Task) ([]Result, error) {
	calls := make([]ProcessTaskArgs, len(tasks))
	for i, t := range tasks {
		calls[i] = ProcessTaskArgs{Task: t}
	}
	handles, err := EnqueueProcessTaskBatch(ctx, taskQueue, calls)
	if err != nil {
		return nil, err
	}
	results := make([]Result, 0, len(handles))
	for _, h := range handles {
		r, err := h.GetResult(ctx)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	return results, nil
}
