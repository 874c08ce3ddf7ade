// Command e2e runs the tasks workflow against an SQLite database and prints
// its results, for TestEndToEnd in cmd/dbosgen.
//
// Usage: e2e <sqlite file>
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"example.com/e2e/tasks"
	dbos "github.com/dbosgen/dbosgen/runtime"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: e2e <sqlite file>")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		log.Fatal(err)
	}
}

func run(dbFile string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + dbFile})
	if err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	defer rt.Shutdown(context.WithoutCancel(ctx))

	input := []tasks.Task{{ID: 1, Name: "alpha"}, {ID: 2, Name: "beta"}, {ID: 3, Name: "gamma"}}
	h, err := tasks.StartProcessTasks(ctx, input, dbos.WithID("e2e-batch"))
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	results, err := h.GetResult(ctx)
	if err != nil {
		return fmt.Errorf("get result: %w", err)
	}
	for _, r := range results {
		fmt.Printf("%d %s\n", r.ID, r.Upper)
	}

	again, err := tasks.RetrieveProcessTasks(ctx, "e2e-batch")
	if err != nil {
		return fmt.Errorf("retrieve: %w", err)
	}
	st, err := again.Status(ctx)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	fmt.Printf("%s %s %s\n", st.ID, st.Name, st.State)

	err = tasks.RunCheck(ctx, 0)
	var we *dbos.WorkflowError
	if !errors.As(err, &we) {
		return fmt.Errorf("RunCheck(0) returned %v, want a *dbos.WorkflowError", err)
	}
	fmt.Printf("check failed: %s\n", we.Message)

	batch, err := tasks.RunProcessBatch(ctx, []tasks.Task{{ID: 4, Name: "delta"}, {ID: 5, Name: "epsilon"}})
	if err != nil {
		return fmt.Errorf("batch: %w", err)
	}
	for _, r := range batch {
		fmt.Printf("batch %d %s\n", r.ID, r.Upper)
	}
	return nil
}
