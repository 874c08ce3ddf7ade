package dbos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// maxBatchChunk caps the workflows one store call of EnqueueBatch inserts:
// a larger batch is inserted in several calls, each committed before the
// next.
const maxBatchChunk = 1000

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
func EnqueueBatch(ctx context.Context, q *Queue, fn *Function, inputs [][]byte, opts ...EnqueueOption) ([]*Handle, error) {
	rt, err := runtimeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return rt.enqueueBatch(ctx, q, fn, inputs, opts)
}

// enqueueBatch implements EnqueueBatch.
func (rt *Runtime) enqueueBatch(ctx context.Context, q *Queue, fn *Function, inputs [][]byte, opts []EnqueueOption) ([]*Handle, error) {
	if q == nil {
		return nil, fmt.Errorf("enqueue batch of %d %s: the queue is nil; declare one with dbos.NewQueue (calls with no queue are started one by one with StartF)", len(inputs), fn.Name)
	}
	fail := func(err error) error {
		return fmt.Errorf("enqueue batch of %d %s on queue %q: %w", len(inputs), fn.Name, q.name, err)
	}
	cfg, err := newEnqueueConfig(opts)
	switch {
	case err != nil:
		return nil, fail(err)
	case cfg.id != "":
		return nil, fail(errors.New("WithID names one workflow, but a batch enqueues many; enqueue a call that needs its own ID by itself with EnqueueF"))
	case cfg.dedupID != "":
		return nil, fail(errors.New("WithDeduplicationID applies to one workflow, but a batch enqueues many; enqueue calls that need deduplication one by one with EnqueueF"))
	}
	if len(inputs) == 0 {
		return nil, nil
	}
	row := func(id string, input []byte) store.InsertParams { return cfg.row(id, fn, q, input, rt.executorID) }

	wf := workflowFrom(ctx)
	if wf == nil {
		handles := make([]*Handle, 0, len(inputs))
		for from := 0; from < len(inputs); from += maxBatchChunk {
			if err := ctx.Err(); err != nil {
				return nil, fail(committedBefore(from, err))
			}
			chunk := inputs[from:min(from+maxBatchChunk, len(inputs))]
			ps := make([]store.InsertParams, len(chunk))
			for i, input := range chunk {
				ps[i] = row(newWorkflowID(), input)
			}
			// Once sent, the insert finishes: its outcome is never unknown.
			res, err := rt.insertChunk(context.WithoutCancel(ctx), ps)
			if err == nil {
				err = checkExisting(fn, ps, res)
			}
			if err != nil {
				return nil, fail(committedBefore(from, err))
			}
			for _, p := range ps {
				handles = append(handles, &Handle{rt: rt, fn: fn, id: p.ID})
			}
		}
		return handles, nil
	}

	step, rec, done, err := wf.nextStep(ctx)
	if err != nil {
		return nil, err
	}
	if done {
		if rec.Error != "" {
			return nil, recordedError(rec)
		}
		return rt.batchHandles(fn, wf, step, rec.Output, len(inputs))
	}
	// Earlier enqueues still waiting to be written go first (deferred.go).
	if err := rt.flush(ctx, wf); err != nil {
		return nil, err
	}
	ids := make([]string, len(inputs))
	for i := range inputs {
		ids[i] = wf.childID(step) + "-" + strconv.Itoa(i)
	}
	for from := 0; from < len(inputs); from += maxBatchChunk {
		to := min(from+maxBatchChunk, len(inputs))
		ps := make([]store.InsertParams, 0, to-from)
		for i := from; i < to; i++ {
			p := row(ids[i], inputs[i])
			p.ParentID = wf.id
			ps = append(ps, p)
		}
		var res []store.InsertResult
		err := rt.persist(ctx, "insert child workflows", func(ctx context.Context) (err error) {
			res, err = rt.insertChunk(ctx, ps)
			return err
		})
		if err == nil {
			err = checkExisting(fn, ps, res)
		}
		if err != nil {
			// Nothing is checkpointed: a replay inserts the batch again,
			// finding the rows committed so far under the same IDs.
			return nil, fail(err)
		}
	}
	out, err := json.Marshal(ids)
	if err != nil {
		return nil, fail(err)
	}
	out, err = rt.recordStep(ctx, wf, store.Step{StepID: step, Name: "enqueue batch " + fn.Name, Output: out}, nil)
	if err != nil {
		return nil, err
	}
	return rt.batchHandles(fn, wf, step, out, len(inputs))
}

// insertChunk inserts one chunk of a batch in one store call and, when it
// created any row, puts the queue to work: waking it once wakes it for
// every row. It returns the store's results, and the first error of a row
// alone (the other rows are committed then).
func (rt *Runtime) insertChunk(ctx context.Context, ps []store.InsertParams) ([]store.InsertResult, error) {
	res, err := rt.store.InsertWorkflows(ctx, ps)
	if err != nil {
		return nil, err
	}
	scheduled := false
	for i, r := range res {
		if r.Created && !scheduled {
			rt.schedule(r.Workflow)
			scheduled = true
		}
		if r.Err != nil && err == nil {
			err = fmt.Errorf("workflow %q: %w", ps[i].ID, r.Err)
		}
	}
	return res, err
}

// checkExisting reports a row of a chunk whose ID existed already for
// another function than fn. One that calls fn is fine: a replay after a
// crash between the insert and the checkpoint finds its rows.
func checkExisting(fn *Function, ps []store.InsertParams, res []store.InsertResult) error {
	for i, r := range res {
		if !r.Created && r.Workflow.Name != fn.Name {
			return fmt.Errorf("%w: %q runs %s", ErrConflictingID, ps[i].ID, r.Workflow.Name)
		}
	}
	return nil
}

// batchHandles returns the handles of the IDs that step of wf recorded for
// a batch of n calls of fn.
func (rt *Runtime) batchHandles(fn *Function, wf *workflowState, step int, recorded []byte, n int) ([]*Handle, error) {
	var ids []string
	if err := json.Unmarshal(recorded, &ids); err != nil {
		return nil, fmt.Errorf("enqueue batch of %d %s: step %d of workflow %q did not record a batch's IDs (%w); a workflow must make the same durable calls, in the same order, on every attempt", n, fn.Name, step, wf.id, err)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("enqueue batch of %d %s: step %d of workflow %q recorded a batch of %d; a workflow must make the same durable calls, in the same order, on every attempt", n, fn.Name, step, wf.id, len(ids))
	}
	handles := make([]*Handle, len(ids))
	for i, id := range ids {
		handles[i] = &Handle{rt: rt, fn: fn, id: id}
	}
	return handles, nil
}

// committedBefore adds to err how many calls of the batch earlier chunks
// committed, when there are any: those stay enqueued.
func committedBefore(n int, err error) error {
	if n == 0 {
		return err
	}
	return fmt.Errorf("the first %d calls were enqueued before: %w", n, err)
}
