package dbos_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	// The annotated functions of these examples: ProcessTask (a step) and
	// ProcessTasks (a workflow that enqueues one ProcessTask per task and
	// waits for them), with the code dbosgen generated for them.
	"github.com/dbosgen/dbosgen/examples/tasks"
)

// Launch a runtime, start a workflow and wait for its typed result.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "dbos-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + filepath.Join(dir, "example.sqlite")})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Shutdown(ctx)

	h, err := tasks.StartProcessTasks(ctx, []tasks.Task{{ID: 1, Text: "hello"}, {ID: 2, Text: "queues"}}, dbos.WithID("example-batch"))
	if err != nil {
		log.Fatal(err)
	}
	results, err := h.GetResult(ctx) // []tasks.Result
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Println(r.TaskID, r.Upper)
	}
	// Output:
	// 1 HELLO
	// 2 QUEUES
}

// Launch a runtime on a database and shut it down with a deadline: work
// still running when the deadline passes stays PENDING and resumes when a
// process with the same executor ID launches again.
func ExampleLaunch() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "dbos-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	rt, err := dbos.Launch(ctx, dbos.Config{
		DatabaseURL: "sqlite:" + filepath.Join(dir, "example.sqlite"), // or postgres://...
		ExecutorID:  "worker-1",                                       // resumes worker-1's work after a restart
	})
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rt.Shutdown(stop); err != nil {
			log.Print(err)
		}
	}()
	fmt.Println(rt.ExecutorID())
	// Output: worker-1
}

// Enqueue a call, wait for its typed result through its handle, and read
// its status.
func Example_getResult() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "dbos-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + filepath.Join(dir, "example.sqlite")})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Shutdown(ctx)

	h, err := tasks.EnqueueProcessTask(ctx, tasks.TaskQueue, tasks.Task{ID: 7, Text: "typed"}, dbos.WithID("task-7"))
	if err != nil {
		log.Fatal(err)
	}
	r, err := h.GetResult(ctx) // a tasks.Result
	if err != nil {
		log.Fatal(err)
	}
	st, err := h.Status(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.TaskID, r.Upper, st.ID, st.State, st.Queue)
	// Output: 7 TYPED task-7 SUCCESS example_tasks
}

// Declare queues at package level, like routes; Launch starts their workers.
func ExampleNewQueue() {
	// At most 10 running at once across every process, 2 in this one, and no
	// more than 50 starts in any 30 seconds.
	emails := dbos.NewQueue("example_emails",
		dbos.Concurrency(10),
		dbos.WorkerConcurrency(2),
		dbos.RateLimit(50, 30*time.Second),
	)
	// Strictly one at a time, in the order enqueued.
	ledger := dbos.NewQueue("example_ledger", dbos.Concurrency(1))
	fmt.Println(emails.Name(), ledger.Name())
	// Output: example_emails example_ledger
}

// A task's error comes back from GetResult with its original message.
func ExampleWorkflowError() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "dbos-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + filepath.Join(dir, "example.sqlite")})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Shutdown(ctx)

	h, err := tasks.EnqueueProcessTask(ctx, tasks.TaskQueue, tasks.Task{ID: 3, Text: "fail:out of paper"})
	if err != nil {
		log.Fatal(err)
	}
	_, err = h.GetResult(ctx)
	var failed *dbos.WorkflowError
	if errors.As(err, &failed) {
		fmt.Println("task failed:", failed.Message)
	}
	// Output: task failed: out of paper
}
