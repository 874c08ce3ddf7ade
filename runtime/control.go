package dbos

import (
	"context"

	"github.com/dbosgen/dbosgen/runtime/internal/executor"
)

// Cancel cancels a workflow: an enqueued task never starts; a running one
// has its context cancelled (in this process at once, in another process
// sharing a Postgres database on the notification) and stops at its next
// step; GetResult returns an error matching ErrCancelled. Cancelling a
// finished workflow changes nothing. Resume puts it back to work.
func Cancel(ctx context.Context, id string) error {
	e, err := executor.From(ctx)
	if err != nil {
		return err
	}
	return e.Cancel(ctx, id)
}

// Resume puts a cancelled or dead-lettered workflow back to work from its
// checkpoints: on its queue, or, if it was started without one, running in
// this process when this process runs it (its function, its version), and
// otherwise waiting for a process that does to take it over (as it does
// in a client-only process). Its attempts count afresh. Resuming a
// workflow in any other state changes nothing.
func Resume(ctx context.Context, id string) error {
	e, err := executor.ForRead(ctx)
	if err != nil {
		return err
	}
	return e.Resume(ctx, id)
}
