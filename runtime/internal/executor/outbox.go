package executor

import (
	"context"
	"errors"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/commitwatch"
	"github.com/dbosgen/dbosgen/runtime/internal/registry"
	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/telemetry"
)

// EnqueueTx writes a call of fn with the encoded input on queue in tx, the
// caller's own open transaction (the outbox; see store.TxInserter for the
// types tx may have), and returns its handle: the call exists, and runs,
// only if the caller commits tx. It goes through the same queries as
// Enqueue, on tx, with the same options, idempotency on the workflow ID and
// deduplication. Refused inside a workflow, whose writes must be its
// checkpointed steps (Enqueue is one).
//
// Wake-up at the commit: on a store with notifications the insert sends
// its EventEnqueued in tx, delivered when tx commits (to this process's
// dispatcher too). Without them (SQLite, or Postgres when not listening),
// when this process runs queue, a commitwatch.Watcher looks for the row
// and wakes the queue's dispatcher when the commit shows; other processes
// find it at their next poll.
func (e *Executor) EnqueueTx(ctx context.Context, tx any, queue string, fn *registry.Function, input []byte, cfg EnqueueOptions) (_ *Handle, err error) {
	if cfg.Err != nil {
		return nil, fmt.Errorf("enqueue %s in the caller's transaction: %w", fn.Name, cfg.Err)
	}
	if workflowFrom(ctx) != nil {
		return nil, fmt.Errorf("enqueue %s in the caller's transaction: refused inside a workflow, whose durable calls are checkpointed steps and whose database writes belong in steps: use Enqueue%s instead", fn.Name, shortName(fn.Name))
	}
	id := cfg.ID
	if id == "" {
		id = newWorkflowID()
	}
	send := e.tel.Send(ctx, telemetry.OpEnqueue, fn.Name, queue, id, 1)
	defer func() { send.End(err) }()
	p := cfg.row(id, fn, queue, input, e.executorID, e.cfg.AppVersion)
	p.TraceContext = send.TraceContext()
	wt := e.waiters.Watch(id)
	defer func() {
		if wt != nil {
			wt.Release() // no handle holds it
		}
	}()
	res, err := e.store.InsertTx(ctx, tx, []store.InsertParams{p})
	if err != nil {
		return nil, fmt.Errorf("enqueue %s in the caller's transaction: %w", fn.Name, err)
	}
	r := res[0]
	var dup *store.DuplicateError
	switch {
	case errors.As(r.Err, &dup):
		return nil, fmt.Errorf("enqueue %s on queue %q in the caller's transaction: %w: %q is held by workflow %q", fn.Name, dup.Queue, sentinel.ErrDuplicate, dup.DedupID, dup.ExistingID)
	case r.Err != nil:
		return nil, fmt.Errorf("enqueue %s in the caller's transaction: %w", fn.Name, r.Err)
	case !r.Created && r.Workflow.Name != fn.Name:
		return nil, fmt.Errorf("enqueue %s in the caller's transaction: %w: %q runs %s", fn.Name, sentinel.ErrConflictingID, id, r.Workflow.Name)
	}
	if r.Created && e.store.Events() == nil && e.queues.Get(queue) != nil {
		e.commits.Add(id, queue)
	}
	h := e.watchedHandle(fn, id, wt)
	wt = nil
	return h, nil
}

// newCommitWatch returns the watcher of EnqueueTx's rows on a store
// without notifications.
func (e *Executor) newCommitWatch() *commitwatch.Watcher {
	return &commitwatch.Watcher{
		Visible: func(ctx context.Context, id string) (bool, error) {
			_, err := e.store.GetWorkflow(ctx, id)
			return err == nil, err
		},
		Wake: func(queue string) {
			if d := e.queues.Get(queue); d != nil {
				d.Wake()
			}
		},
		Horizon: e.cfg.PollInterval,
		Ctx:     e.runCtx,
	}
}
