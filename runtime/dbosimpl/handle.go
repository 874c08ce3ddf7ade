package dbosimpl

import (
	"context"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/executor"
)

// Handle is the untyped core of a generated typed handle (FHandle): a
// durable reference to one workflow, valid in any process sharing the
// database. The zero Handle is not valid.
type Handle struct {
	h *executor.Handle
}

// ID returns the workflow ID.
func (h Handle) ID() string { return h.h.ID() }

// Status reads the workflow's current status from the database.
func (h Handle) Status(ctx context.Context) (dbos.Status, error) {
	return dbos.WorkflowStatus(h.h.Bind(ctx), h.h.ID())
}

// Cancel cancels the handle's workflow; see dbos.Cancel.
func (h Handle) Cancel(ctx context.Context) error { return h.h.Cancel(ctx) }

// Await waits for the workflow to finish and returns its encoded output,
// or its error: a *dbos.WorkflowError carrying the task's message, or an
// error matching dbos.ErrCancelled, dbos.ErrTimeout or dbos.ErrDeadLetter.
// Called inside a workflow, it is a checkpointed step. Generated GetResult
// methods decode the output.
func (h Handle) Await(ctx context.Context) ([]byte, error) { return h.h.Await(ctx) }
