package dbosimpl

import (
	"context"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/executor"
)

// Fork starts a new workflow of fn from workflow id, which must run fn,
// with the checkpoints of id's steps before fromStep, and returns its
// handle; see dbos.Fork. It fails with dbos.ErrConflictingID when id runs
// another function.
func Fork(ctx context.Context, fn *Function, id string, fromStep int, opts ...dbos.EnqueueOption) (Handle, error) {
	e, err := executor.From(ctx)
	if err != nil {
		return Handle{}, err
	}
	return handle(e.Fork(ctx, fn, id, fromStep, executor.Apply(opts)))
}
