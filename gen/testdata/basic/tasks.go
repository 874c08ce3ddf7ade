// Package basic is the generator's basic golden case: one step enqueued
// from one workflow.
package basic

import (
	"context"
	"fmt"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

var taskQueue = dbos.NewQueue("basic_tasks", dbos.Concurrency(10))

// Task is one unit of work.
type Task struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// Result is what processing a Task produced.
type Result struct {
	ID     int    `json:"id"`
	Output string `json:"output"`
}

// ProcessTask processes one task.
//
//dbos:step
func ProcessTask(ctx context.Context, task Task) (Result, error) {
	return Result{ID: task.ID, Output: fmt.Sprintf("processed %s", task.Name)}, nil
}

// ProcessTasks processes tasks on a queue and collects their results.
//
//dbos:workflow
func ProcessTasks(ctx context.Context, tasks []Task) ([]Result, error) {
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
