package executor

import (
	"context"

	"github.com/dbosgen/dbosgen/runtime/internal/notify"
	"github.com/dbosgen/dbosgen/runtime/internal/registry"
)

// Handle is a durable reference to one workflow of a registered function,
// valid in any process sharing the database.
type Handle struct {
	e  *Executor
	fn *registry.Function
	id string
	w  *notify.Watch // set by Enqueue and Start outside a workflow: the end, if the workflow finished here
	// created: the call that made the handle created the workflow, after
	// w began to watch it: w hears its end (from this process, or from
	// another one's notification), so the first wait needs no read.
	created bool
}

// ID returns the workflow ID.
func (h *Handle) ID() string { return h.id }

// Bind returns ctx bound to the executor that made the handle.
func (h *Handle) Bind(ctx context.Context) context.Context { return h.e.Bind(ctx) }

// Await waits for the workflow to finish and returns its encoded output,
// or its error: a *dbos.WorkflowError carrying the task's message, or an
// error matching ErrCancelled, ErrTimeout or ErrDeadLetter. Called inside
// a workflow, it is a checkpointed step.
func (h *Handle) Await(ctx context.Context) ([]byte, error) {
	return h.e.await(ctx, h)
}

// Cancel cancels the handle's workflow; see dbos.Cancel.
func (h *Handle) Cancel(ctx context.Context) error { return h.e.Cancel(ctx, h.id) }
