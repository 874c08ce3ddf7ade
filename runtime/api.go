package dbos

import (
	"context"
)

// Handle is the untyped core of a generated typed handle (FHandle): a durable
// reference to one workflow, valid in any process sharing the database.
type Handle struct {
	rt *Runtime
	fn *Function
	id string
	w  *watch // set by Enqueue and Start outside a workflow: the end, if the workflow finished here
}

// ID returns the workflow ID.
func (h *Handle) ID() string { return h.id }

// Status reads the workflow's current status from the database.
func (h *Handle) Status(ctx context.Context) (Status, error) {
	return h.rt.status(ctx, h.id)
}

// Await waits for the workflow to finish and returns its encoded output, or
// its error: a *WorkflowError carrying the task's message, or an error
// matching ErrCancelled or ErrTimeout. Called inside a workflow, it is a
// checkpointed step. Generated GetResult methods decode the output.
func (h *Handle) Await(ctx context.Context) ([]byte, error) {
	return h.rt.await(ctx, h)
}

// Enqueue durably puts a call of fn with the encoded input on queue q and
// returns its handle. Inside a workflow it is a checkpointed step and the
// child's ID is derived from the parent's ID and the step number.
func Enqueue(ctx context.Context, q *Queue, fn *Function, input []byte, opts ...EnqueueOption) (*Handle, error) {
	rt, err := runtimeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return rt.enqueue(ctx, q, fn, input, opts)
}

// Start durably starts a call of fn in the background of this process, with
// no queue, and returns its handle. Inside a workflow it is a checkpointed
// step with a derived child ID.
func Start(ctx context.Context, fn *Function, input []byte, opts ...EnqueueOption) (*Handle, error) {
	rt, err := runtimeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return rt.enqueue(ctx, nil, fn, input, opts)
}

// Run calls fn and waits for its encoded output. Inside a workflow a step
// runs as a checkpointed step and a workflow as a child workflow; on replay
// the recorded outcome is returned without running it again. Outside a
// workflow (or inside a step) fn runs durably, as with Start, and Run waits.
func Run(ctx context.Context, fn *Function, input []byte) ([]byte, error) {
	rt, err := runtimeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return rt.run(ctx, fn, input)
}

// Retrieve returns a handle to an existing workflow of fn, from any process
// sharing the database. It fails with ErrNotFound when the ID does not exist
// and with ErrConflictingID when it belongs to another function.
func Retrieve(ctx context.Context, fn *Function, id string) (*Handle, error) {
	rt, err := runtimeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return rt.retrieve(ctx, fn, id)
}
