package executor

import (
	"context"
	"fmt"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/dispatch"
	"github.com/dbosgen/dbosgen/runtime/internal/registry"
	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/telemetry"
)

// Run calls fn and waits for its encoded output. Inside a workflow a step
// runs as a checkpointed step and a workflow as a child workflow; on replay
// the recorded outcome is returned without running it again. Outside a
// workflow (or inside a step) fn runs durably, as with Start, and Run waits.
func (e *Executor) Run(ctx context.Context, fn *registry.Function, input []byte) ([]byte, error) {
	wf := workflowFrom(ctx)
	if wf == nil {
		h, err := e.enqueue(ctx, "", fn, input, EnqueueOptions{})
		if err != nil {
			return nil, err
		}
		return h.Await(ctx)
	}
	step, rec, done, err := wf.nextStep(ctx)
	if err != nil {
		return nil, err
	}
	if done {
		return rec.Output, recordedError(rec)
	}
	// The step's body, or the child, may look at what this run did so far.
	if err := e.flush(ctx, wf); err != nil {
		return nil, err
	}
	begun := time.Now()
	if fn.Kind == registry.KindStep {
		sctx, span := e.tel.StartStep(ctx, wf.id, step, fn.Name)
		out, err := e.callStep(outsideWorkflow(sctx), fn, input)
		span.End(err)
		if err != nil && ctx.Err() != nil {
			return nil, err // interrupted, not finished: no checkpoint
		}
		return e.recordStep(ctx, wf, store.Step{StepID: step, Name: fn.Name, Output: out, Error: errorText(err), StartedAt: begun}, err)
	}
	childID := wf.childID(step)
	if err := e.startChild(ctx, wf, fn, childID, input); err != nil {
		return nil, err
	}
	end, err := e.awaitEnd(ctx, childID)
	if err != nil {
		return nil, err
	}
	outcome := resultError(end)
	return e.recordStep(ctx, wf, store.Step{StepID: step, Name: fn.Name, Output: end.Output, Error: errorText(outcome), ChildID: childID, StartedAt: begun}, outcome)
}

// startChild starts child workflow id of wf, a call of fn with input, in
// this process (unless a replay finds it started already).
func (e *Executor) startChild(ctx context.Context, wf *workflowState, fn *registry.Function, id string, input []byte) (err error) {
	send := e.tel.Send(ctx, telemetry.OpStart, fn.Name, "", id, 1)
	defer func() { send.End(err) }()
	var none EnqueueOptions
	p := none.row(id, fn, "", input, e.executorID, e.cfg.AppVersion) // started here
	p.ParentID = wf.id
	p.TraceContext = send.TraceContext()
	var r dispatch.Inserted
	err = e.persist(ctx, "insert child workflow", func(ctx context.Context) (err error) {
		r, err = e.queues.Insert(ctx, p)
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("start child workflow %s: %w", fn.Name, err)
	case !r.Created && r.Workflow.Name != fn.Name:
		return fmt.Errorf("start child workflow %s: %w: %q runs %s", fn.Name, sentinel.ErrConflictingID, id, r.Workflow.Name)
	case r.Created:
		e.tel.Enqueued("", fn.Name, 1)
		e.spawn(r.Workflow)
	}
	return nil
}
