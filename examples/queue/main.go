// Command queue is the seed's Queue Example: a workflow enqueues each task on
// a queue so they are processed concurrently, waits for every result, and
// returns them all.
//
//	go run ./examples/queue
//
// It runs on embedded SQLite (dbos.sqlite in the working directory) unless
// $DBOS_DATABASE_URL names another database, for example
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

// Task is one piece of work.
type Task struct {
	ID   int    `json:"id"`
	Word string `json:"word"`
}

// Result is a processed Task.
type Result struct {
	TaskID int    `json:"task_id"`
	Output string `json:"output"`
}

var exampleQueue = dbos.NewQueue("example_queue", dbos.Concurrency(10))

// ProcessTask processes one task. Enqueued, it runs as a durable task on
// example_queue; its result is recorded once it returns.
//
//dbos:step
func ProcessTask(ctx context.Context, task Task) (Result, error) {
	return Result{TaskID: task.ID, Output: strings.ToUpper(task.Word)}, nil
}

// ProcessTasks enqueues each task so all are processed concurrently, then
// waits for each one and returns all the results. Every enqueue and every
// wait is checkpointed: after a crash the workflow resumes where it was.
//
//dbos:workflow
func ProcessTasks(ctx context.Context, tasks []Task) ([]Result, error) {
	handles := make([]*ProcessTaskHandle, 0, len(tasks))
	for _, t := range tasks {
		h, err := EnqueueProcessTask(ctx, exampleQueue, t)
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

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "queue:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	rt, err := dbos.Launch(ctx, dbos.Config{})
	if err != nil {
		return err
	}
	defer rt.Shutdown(ctx)

	words := strings.Fields("durable workflows and queues for go with typed handles")
	tasks := make([]Task, len(words))
	for i, w := range words {
		tasks[i] = Task{ID: i + 1, Word: w}
	}
	h, err := StartProcessTasks(ctx, tasks)
	if err != nil {
		return err
	}
	results, err := h.GetResult(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("workflow %s processed %d tasks:\n", h.ID(), len(results))
	for _, r := range results {
		fmt.Printf("  task %d -> %s\n", r.TaskID, r.Output)
	}
	return nil
}
