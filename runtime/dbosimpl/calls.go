package dbosimpl

import (
	"context"
	"fmt"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/executor"
)

// Enqueue durably puts a call of fn with the encoded input on queue q and
// returns its handle. Inside a workflow it is a checkpointed step and the
// child's ID is derived from the parent's ID and the step number. A nil q
// starts the call as Start does.
func Enqueue(ctx context.Context, q *dbos.Queue, fn *Function, input []byte, opts ...dbos.EnqueueOption) (Handle, error) {
	e, err := executor.From(ctx)
	if err != nil {
		return Handle{}, err
	}
	if q == nil {
		return handle(e.Start(ctx, fn, input, executor.Apply(opts)))
	}
	return handle(e.Enqueue(ctx, q.Name(), fn, input, executor.Apply(opts)))
}

// Start durably starts a call of fn in the background of this process, with
// no queue, and returns its handle. Inside a workflow it is a checkpointed
// step with a derived child ID.
func Start(ctx context.Context, fn *Function, input []byte, opts ...dbos.EnqueueOption) (Handle, error) {
	e, err := executor.From(ctx)
	if err != nil {
		return Handle{}, err
	}
	return handle(e.Start(ctx, fn, input, executor.Apply(opts)))
}

// Run calls fn and waits for its encoded output. Inside a workflow a step
// runs as a checkpointed step and a workflow as a child workflow; on replay
// the recorded outcome is returned without running it again. Outside a
// workflow (or inside a step) fn runs durably, as with Start, and Run waits.
func Run(ctx context.Context, fn *Function, input []byte) ([]byte, error) {
	e, err := executor.From(ctx)
	if err != nil {
		return nil, err
	}
	return e.Run(ctx, fn, input)
}

// Retrieve returns a handle to an existing workflow of fn, from any process
// sharing the database. It fails with dbos.ErrNotFound when the ID does not
// exist and with dbos.ErrConflictingID when it belongs to another function.
func Retrieve(ctx context.Context, fn *Function, id string) (Handle, error) {
	e, err := executor.From(ctx)
	if err != nil {
		return Handle{}, err
	}
	return handle(e.Retrieve(ctx, fn, id))
}

// EnqueueBatch durably puts one call of fn per encoded input on queue q
// and returns their handles, in the order of inputs. The calls are inserted
// with one multi-row insert per chunk of at most 1000, each chunk committed
// before the next is sent; when EnqueueBatch returns without an error,
// every call is committed. Generated EnqueueFBatch functions encode the
// inputs and call it.
//
// opts apply to every call of the batch: WithPriority, WithDelay,
// WithTimeout and WithPartitionKey. WithID and WithDeduplicationID name a
// single workflow, so they are rejected; enqueue the calls that need them
// one by one (EnqueueF). An empty batch enqueues nothing and returns nil,
// nil.
//
// Outside a workflow each call gets a new random ID. If a later chunk
// fails, the calls of the chunks committed before it stay enqueued and the
// error says how many those were. Inside a workflow the whole batch is one
// checkpointed step: the children's IDs are derived from the parent's ID
// and the step number, so a replay (even after a crash between the insert
// and the checkpoint) returns the same handles and never enqueues a call
// twice.
func EnqueueBatch(ctx context.Context, q *dbos.Queue, fn *Function, inputs [][]byte, opts ...dbos.EnqueueOption) ([]Handle, error) {
	e, err := executor.From(ctx)
	if err != nil {
		return nil, err
	}
	if q == nil {
		return nil, fmt.Errorf("enqueue batch of %d %s: the queue is nil; declare one with dbos.NewQueue (calls with no queue are started one by one with StartF)", len(inputs), fn.Name)
	}
	hs, err := e.EnqueueBatch(ctx, q.Name(), fn, inputs, executor.Apply(opts))
	if err != nil || hs == nil {
		return nil, err
	}
	out := make([]Handle, len(hs))
	for i, h := range hs {
		out[i] = Handle{h}
	}
	return out, nil
}

// handle wraps what the executor returned.
func handle(h *executor.Handle, err error) (Handle, error) {
	if err != nil {
		return Handle{}, err
	}
	return Handle{h}, nil
}
