package behaviour

import (
	"context"
	"errors"
	"fmt"
	"os"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// OutboxQueue is the queue of the outbox tests' tasks.
var OutboxQueue = dbos.NewQueue("behaviour_outbox")

// OutboxLogEnv names the file OutboxTask appends its runs to.
const OutboxLogEnv = "DBOS_OUTBOX_LOG"

// OutboxTask records its run: it appends "key pid" to $DBOS_OUTBOX_LOG, so
// that a test sees which process ran it and how many times, and returns
// its process's pid.
//
//dbos:step
func OutboxTask(ctx context.Context, key string) (int, error) {
	if path := os.Getenv(OutboxLogEnv); path != "" {
		if err := appendLine(path, fmt.Sprintf("%s %d", key, os.Getpid())); err != nil {
			return 0, err
		}
	}
	return os.Getpid(), nil
}

// OutboxInWorkflow calls EnqueueOutboxTaskTx inside a workflow and returns
// the error it got.
//
//dbos:workflow
func OutboxInWorkflow(ctx context.Context, key string) (string, error) {
	if _, err := EnqueueOutboxTaskTx(ctx, nil, OutboxQueue, key); err != nil {
		return err.Error(), nil
	}
	return "", errors.New("EnqueueOutboxTaskTx succeeded inside a workflow")
}
