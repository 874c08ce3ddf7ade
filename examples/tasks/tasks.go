// Package tasks holds the annotated functions used by the runtime's go doc
// examples (go doc github.com/dbosgen/dbosgen/runtime), and is an example of
// a tasks package: a library whose //dbos:step and //dbos:workflow functions
// any program of the module can enqueue, start or run once it has launched a
// runtime.
//
// Its dbos_gen.go is generated from the directives below:
//
//	go generate ./examples/tasks
package tasks

import (
	"context"
	"errors"
	"strings"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

// Task is one piece of work for ProcessTask.
type Task struct {
	ID   int    `json:"id"`
	Text string `json:"text"`
}

// Result is what ProcessTask makes of a Task.
type Result struct {
	TaskID int    `json:"task_id"`
	Upper  string `json:"upper"`
}

// TaskQueue is the queue ProcessTasks fans out on: at most 10 tasks run at
// once across every process sharing the database.
var TaskQueue = dbos.NewQueue("example_tasks", dbos.Concurrency(10))

// ProcessTask upper-cases a task's text. A task whose text is "fail:X"
// fails with the error message X, which comes back from GetResult as a
// *dbos.WorkflowError.
//
//dbos:step
func ProcessTask(ctx context.Context, task Task) (Result, error) {
	if msg, ok := strings.CutPrefix(task.Text, "fail:"); ok {
		return Result{}, errors.New(msg)
	}
	return Result{TaskID: task.ID, Upper: strings.ToUpper(task.Text)}, nil
}

// ProcessTasks enqueues each task on TaskQueue, so they run concurrently,
// then waits for each one and returns the results in the order of tasks.
// It fails with the first failed task's error, in that order. Every enqueue
// and every wait is checkpointed: after a crash the workflow resumes where
// it was.
//
//dbos:workflow
func ProcessTasks(ctx context.Context, tasks []Task) ([]Result, error) {
	handles := make([]*ProcessTaskHandle, 0, len(tasks))
	for _, t := range tasks {
		h, err := EnqueueProcessTask(ctx, TaskQueue, t)
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
