package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/dbosgen/dbosgen/runtime/internal/registry"
	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/telemetry"
)

// maxBatchChunk caps the workflows one store call of EnqueueBatch inserts:
// a larger batch is inserted in several calls, each committed before the
// next.
const maxBatchChunk = 1000

// EnqueueBatch durably puts one call of fn per encoded input on queue and
// returns their handles, in the order of inputs; see
// dbosimpl.EnqueueBatch.
func (e *Executor) EnqueueBatch(ctx context.Context, queue string, fn *registry.Function, inputs [][]byte, cfg EnqueueOptions) (_ []*Handle, err error) {
	fail := func(err error) error {
		return fmt.Errorf("enqueue batch of %d %s on queue %q: %w", len(inputs), fn.Name, queue, err)
	}
	switch {
	case cfg.Err != nil:
		return nil, fail(cfg.Err)
	case cfg.ID != "":
		return nil, fail(errors.New("WithID names one workflow, but a batch enqueues many; enqueue a call that needs its own ID by itself with EnqueueF"))
	case cfg.DedupID != "":
		return nil, fail(errors.New("WithDeduplicationID applies to one workflow, but a batch enqueues many; enqueue calls that need deduplication one by one with EnqueueF"))
	}
	if len(inputs) == 0 {
		return nil, nil
	}
	var send telemetry.Producer // the batch's one span, once it is a new call (not a replay's)
	defer func() { send.End(err) }()
	row := func(id string, input []byte) store.InsertParams {
		p := cfg.row(id, fn, queue, input, e.executorID, e.cfg.AppVersion)
		p.TraceContext = send.TraceContext()
		return p
	}

	wf := workflowFrom(ctx)
	if wf == nil {
		send = e.tel.Send(ctx, telemetry.OpEnqueueBatch, fn.Name, queue, "", len(inputs))
		ps := make([]store.InsertParams, len(inputs))
		handles := make([]*Handle, len(inputs))
		for i, input := range inputs {
			ps[i] = row(newWorkflowID(), input)
			handles[i] = &Handle{e: e, fn: fn, id: ps[i].ID}
		}
		if committed, err := e.insertAll(ctx, nil, ps); err != nil {
			return nil, fail(committedBefore(committed, err))
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
		return e.batchHandles(fn, wf, step, rec.Output, len(inputs))
	}
	// Earlier enqueues still waiting to be written go first (deferred.go).
	if err := e.flush(ctx, wf); err != nil {
		return nil, err
	}
	send = e.tel.Send(ctx, telemetry.OpEnqueueBatch, fn.Name, queue, "", len(inputs))
	ids := make([]string, len(inputs))
	ps := make([]store.InsertParams, len(inputs))
	for i, input := range inputs {
		ids[i] = wf.childID(step) + "-" + strconv.Itoa(i)
		ps[i] = row(ids[i], input)
		ps[i].ParentID = wf.id
	}
	if _, err := e.insertAll(ctx, wf, ps); err != nil {
		// Nothing is checkpointed: a replay inserts the batch again,
		// finding the rows committed so far under the same IDs.
		return nil, fail(err)
	}
	out, err := json.Marshal(ids)
	if err != nil {
		return nil, fail(err)
	}
	out, err = e.recordStep(ctx, wf, store.Step{StepID: step, Name: batchStepPrefix + fn.Name, Output: out}, nil)
	if err != nil {
		return nil, err
	}
	return e.batchHandles(fn, wf, step, out, len(inputs))
}

// insertAll inserts ps in chunks of at most maxBatchChunk, each in one
// store call committed before the next is sent, and puts their queues to
// work. Inside a workflow (wf not nil) each call is retried through
// database outages (persist); outside one, a call once sent finishes, and
// ctx is checked between calls. A row whose ID exists for another function
// is an error (sentinel.ErrConflictingID); one for the same function is a replay's
// and fine. It returns how many rows were committed before an error.
func (e *Executor) insertAll(ctx context.Context, wf *workflowState, ps []store.InsertParams) (committed int, err error) {
	for chunk := range slices.Chunk(ps, maxBatchChunk) {
		var res []store.InsertResult
		if wf != nil {
			err = e.persist(ctx, "insert child workflows", func(ctx context.Context) (err error) {
				res, err = e.insertChunk(ctx, chunk)
				return err
			})
		} else if err = ctx.Err(); err == nil {
			res, err = e.insertChunk(context.WithoutCancel(ctx), chunk)
		}
		if err == nil {
			err = checkExisting(chunk, res)
		}
		if err != nil {
			return committed, err
		}
		committed += len(chunk)
	}
	return committed, nil
}

// insertChunk inserts rows in one store call and puts the queue of each
// row it created to work (once per queue: waking a queue wakes it for
// every row). It returns the store's results, and the first error of a
// row alone (the other rows are committed then).
func (e *Executor) insertChunk(ctx context.Context, ps []store.InsertParams) ([]store.InsertResult, error) {
	res, err := e.store.InsertWorkflows(ctx, ps)
	if err != nil {
		return nil, err
	}
	e.countCreated(res)
	var woken map[string]bool
	for i, r := range res {
		if r.Created && !woken[r.Workflow.Queue] {
			if woken == nil {
				woken = map[string]bool{}
			}
			woken[r.Workflow.Queue] = true
			e.schedule(r.Workflow)
		}
		if r.Err != nil && err == nil {
			err = fmt.Errorf("workflow %q: %w", ps[i].ID, r.Err)
		}
	}
	return res, err
}

// countCreated counts the workflows an insert created
// (dbos.workflows.enqueued), one measurement per run of rows of one queue
// and function.
func (e *Executor) countCreated(res []store.InsertResult) {
	if !e.tel.Measuring() {
		return
	}
	n := 0
	for i, r := range res {
		if r.Created {
			n++
		}
		if n > 0 && (i == len(res)-1 || !res[i+1].Created || res[i+1].Workflow.Queue != r.Workflow.Queue || res[i+1].Workflow.Name != r.Workflow.Name) {
			e.tel.Enqueued(r.Workflow.Queue, r.Workflow.Name, n)
			n = 0
		}
	}
}

// checkExisting reports a row whose ID existed already for another
// function than the one it was to call. One for the same function is fine:
// a replay after a crash between the insert and the checkpoint finds its
// rows.
func checkExisting(ps []store.InsertParams, res []store.InsertResult) error {
	for i, r := range res {
		if !r.Created && r.Workflow.Name != ps[i].Name {
			return fmt.Errorf("%w: %q runs %s", sentinel.ErrConflictingID, ps[i].ID, r.Workflow.Name)
		}
	}
	return nil
}

// batchHandles returns the handles of the IDs that step of wf recorded for
// a batch of n calls of fn.
func (e *Executor) batchHandles(fn *registry.Function, wf *workflowState, step int, recorded []byte, n int) ([]*Handle, error) {
	var ids []string
	if err := json.Unmarshal(recorded, &ids); err != nil {
		return nil, fmt.Errorf("enqueue batch of %d %s: step %d of workflow %q did not record a batch's IDs (%w); a workflow must make the same durable calls, in the same order, on every attempt", n, fn.Name, step, wf.id, err)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("enqueue batch of %d %s: step %d of workflow %q recorded a batch of %d; a workflow must make the same durable calls, in the same order, on every attempt", n, fn.Name, step, wf.id, len(ids))
	}
	handles := make([]*Handle, len(ids))
	for i, id := range ids {
		handles[i] = &Handle{e: e, fn: fn, id: id}
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
