package executor

import (
	"context"
	"errors"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Waits between retries of a failed database call.
const (
	persistFirstWait = 50 * time.Millisecond
	persistMaxWait   = 2 * time.Second
)

// persist runs a database call that running work depends on (a checkpoint,
// a child's insert, an outcome), retrying failures with backoff until it
// succeeds, fails in a way retrying cannot fix (no such workflow, a
// duplicate), or ctx ends. A database that restarts or drops a connection
// thus delays work but never fails it.
func (e *Executor) persist(ctx context.Context, what string, op func(context.Context) error) error {
	// Once sent, a call must finish: never leave its outcome unknown.
	return e.retry(ctx, what, op(context.WithoutCancel(ctx)), op)
}

// retry goes on with persist after op's first attempt, whose error was err.
func (e *Executor) retry(ctx context.Context, what string, err error, op func(context.Context) error) error {
	wait := persistFirstWait
	for {
		if err == nil || permanent(err) {
			e.outage.Succeeded(e.log) // the database answered
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		e.outage.Failed(e.log, what, err, wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		wait = min(2*wait, persistMaxWait)
		err = op(context.WithoutCancel(ctx))
	}
}

// permanent reports whether a store error means the same call can never
// succeed.
func permanent(err error) bool {
	var dup *store.DuplicateError
	var stepRange *store.StepRangeError
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrFenced) || errors.As(err, &dup) || errors.As(err, &stepRange)
}
