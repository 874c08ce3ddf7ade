package dbos

import (
	"context"

	"github.com/dbosgen/dbosgen/runtime/internal/executor"
)

// Fork starts a new workflow from an existing one, the original: the same
// function and input, and a copy of the original's checkpoints before
// fromStep (numbered from 1, as Steps reports them). The new workflow
// replays those steps, so they do not run again, and runs the steps from
// fromStep on anew. fromStep 1 copies nothing and runs the whole workflow
// again; fromStep can be at most the original's last recorded step + 1.
// The original is not changed, whatever its state.
//
// If the original was enqueued, the fork is enqueued on the same queue
// with the same priority and partition key, for any process to run;
// otherwise it starts now in this process when this process runs the
// function as the original was called (see Config.AppVersion), else it
// waits, PENDING, for a process that does to take it over (as from a
// ClientOnly process). It keeps the original's timeout unless WithTimeout sets
// another.
//
// Options: WithID names the fork (an existing ID returns that workflow,
// as enqueues do, when it runs the same function, and fails with
// ErrConflictingID otherwise); WithTimeout; and WithDelay for an
// enqueued original. WithPriority, WithPartitionKey and
// WithDeduplicationID are refused. Without WithID the fork gets a fresh
// ID; inside a workflow Fork is a checkpointed step, and the ID is derived
// from the workflow's ID and the step number, so a replay never forks
// twice.
//
// Fork returns the new workflow's ID. It fails with an error matching
// ErrNotFound when id does not exist, and with an error naming the valid
// range when fromStep is out of it. Generated ForkF functions do the same
// and return a typed handle, checking that the original runs F.
func Fork(ctx context.Context, id string, fromStep int, opts ...EnqueueOption) (newID string, err error) {
	e, err := executor.From(ctx)
	if err != nil {
		return "", err
	}
	h, err := e.Fork(ctx, nil, id, fromStep, executor.Apply(opts))
	if err != nil {
		return "", err
	}
	return h.ID(), nil
}
