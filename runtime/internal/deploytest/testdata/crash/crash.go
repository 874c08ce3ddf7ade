// Package crash is the durable work of the deploy tests' worker program:
// Pipeline, a workflow of three steps whose step 2 can be made to block
// until the process is killed, and Work, a short task run on the queues.
// Its dbos_gen.go is committed; regenerate it from the repository root
// with
//
//	go run ./cmd/dbosgen ./runtime/internal/deploytest/testdata/crash ./runtime/internal/deploytest/testdata/other/ping
//
// (the go command leaves testdata out of ./..., and go generate with it).
package crash

import (
	"context"
	"fmt"
	"os"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// The queues the worker program declares: Tasks without limits, Limited
// with a concurrency limit of 5 across every process.
var (
	Tasks   = dbos.NewQueue("deploy_tasks")
	Limited = dbos.NewQueue("deploy_limited", dbos.Concurrency(5))
)

// Queues are the declared queues by name.
var Queues = map[string]*dbos.Queue{Tasks.Name(): Tasks, Limited.Name(): Limited}

// EffectsEnv names the file Step appends a line to each time its body
// runs: "step<n> <pid>". BlockEnv, when "1", makes step 2 print
// "step2-entered" on stdout and block until the process is killed.
const (
	EffectsEnv = "DEPLOY_EFFECTS"
	BlockEnv   = "DEPLOY_BLOCK_STEP2"
)

// Step is step n of Pipeline.
//
//dbos:step
func Step(ctx context.Context, n, input int) (int, error) {
	if err := appendLine(os.Getenv(EffectsEnv), fmt.Sprintf("step%d %d", n, os.Getpid())); err != nil {
		return 0, err
	}
	if n == 2 && os.Getenv(BlockEnv) == "1" {
		fmt.Println("step2-entered")
		<-ctx.Done() // until SIGKILL
		return 0, ctx.Err()
	}
	return input*10 + n, nil
}

// Pipeline runs Step 1, 2 and 3 in turn: Pipeline(7) is 7123.
//
//dbos:workflow
func Pipeline(ctx context.Context, seed int) (int, error) {
	v := seed
	for n := 1; n <= 3; n++ {
		var err error
		if v, err = RunStep(ctx, n, v); err != nil {
			return 0, err
		}
	}
	return v, nil
}

// Work takes 20ms and returns i.
//
//dbos:step
func Work(ctx context.Context, i int) (int, error) {
	time.Sleep(20 * time.Millisecond)
	return i, nil
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open side-effect log: %w", err)
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("append to side-effect log: %w", err)
	}
	return f.Close()
}
