package executor

import (
	"context"
	"errors"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/notify"
	"github.com/dbosgen/dbosgen/runtime/internal/registry"
	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/telemetry"
)

// Fork makes a new workflow from workflow id, the original: the same
// function and input, and a copy of the original's checkpoints before
// fromStep, so that its run replays those and runs the steps from fromStep
// on again; see dbos.Fork. fn, when not nil (ForkF), must be the
// original's function. The fork goes ENQUEUED on the original's queue or,
// when the original ran without one, starts now in this process if it
// runs it, else waits under no executor for one that does. Inside a
// workflow it is a checkpointed step, and the fork's ID is derived from
// the workflow's ID and the step number unless o.ID sets it.
func (e *Executor) Fork(ctx context.Context, fn *registry.Function, id string, fromStep int, o EnqueueOptions) (_ *Handle, err error) {
	what := fmt.Sprintf("fork workflow %q from step %d", id, fromStep)
	if fn != nil {
		what = fmt.Sprintf("fork %s %q from step %d", fn.Name, id, fromStep)
	}
	err = o.Err
	if err == nil {
		err = o.forkOnly(id, fromStep)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	wf := workflowFrom(ctx)
	step, newID, replayed, err := e.newChild(ctx, wf, fn, o.ID)
	if err != nil || replayed != nil {
		return replayed, err
	}
	var wt *notify.Watch
	if wf != nil {
		// The original may be a child this run noted: write the notes.
		if err := e.flush(ctx, wf); err != nil {
			return nil, err
		}
	} else {
		wt = e.waiters.Watch(newID)
		defer func() {
			if wt != nil {
				wt.Release() // no handle holds it
			}
		}()
	}
	// call runs a database call: inside a workflow with retries, as the
	// workflow's other calls.
	call := func(op func(context.Context) error) error {
		if wf != nil {
			return e.persist(ctx, "fork workflow", op)
		}
		return op(ctx)
	}
	name := "" // the function forked: known once the original is read, unless fn says
	if fn != nil {
		name = fn.Name
	}
	send := e.tel.Send(ctx, telemetry.OpFork, name, "", newID, 1)
	defer func() { send.End(err) }()
	w, created, err := e.fork(ctx, fn, id, fromStep, newID, o, wf, call, send)
	if err != nil {
		err = fmt.Errorf("%s: %w", what, err)
		var outcome *forkOutcome
		if wf != nil && errors.As(err, &outcome) {
			// What the database said: recorded, so that a replay
			// sees it again.
			_, err = e.recordStep(ctx, wf, store.Step{StepID: step, Name: "fork " + outcome.name, Error: err.Error()}, err)
		}
		return nil, err
	}
	if created {
		e.tel.Enqueued(w.Queue, w.Name, 1)
		e.schedule(w)
	}
	if wf != nil {
		if _, err := e.recordStep(ctx, wf, store.Step{StepID: step, Name: "fork " + w.Name, ChildID: newID}, nil); err != nil {
			return nil, err
		}
		return &Handle{e: e, fn: fn, id: newID}, nil
	}
	h := e.watchedHandle(fn, newID, wt)
	wt = nil
	return h, nil
}

// forkOutcome marks a fork's error that the database's contents decided
// (no such workflow, a step out of range, an ID of another function): a
// fork inside a workflow records it as its step's outcome.
type forkOutcome struct {
	name string // the function forked, or the ID when unknown
	err  error
}

func (f *forkOutcome) Error() string { return f.err.Error() }
func (f *forkOutcome) Unwrap() error { return f.err }

// fork reads the original and writes the fork (see store.ForkWorkflow),
// each with call; the fork's row keeps the context of send, its span.
func (e *Executor) fork(ctx context.Context, fn *registry.Function, id string, fromStep int, newID string, o EnqueueOptions, wf *workflowState, call func(func(context.Context) error) error, send telemetry.Producer) (store.Workflow, bool, error) {
	outcome := func(name string, err error) error { return &forkOutcome{name: name, err: err} }
	var orig store.Workflow
	err := call(func(ctx context.Context) (err error) {
		orig, err = e.store.GetWorkflow(ctx, id)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Workflow{}, false, outcome(id, sentinel.ErrNotFound)
	case err != nil:
		return store.Workflow{}, false, err
	case fn != nil && orig.Name != fn.Name:
		return store.Workflow{}, false, outcome(orig.Name, fmt.Errorf("%w: it runs %s", sentinel.ErrConflictingID, orig.Name))
	case orig.Queue == "" && o.Delay != 0:
		return store.Workflow{}, false, outcome(orig.Name, errors.New("WithDelay needs a queue, and the original ran without one"))
	}
	if fn == nil {
		send.Function(orig.Name, orig.Queue)
	}
	p := store.InsertParams{
		ID:           newID,
		Name:         orig.Name,
		Input:        orig.Input,
		Priority:     orig.Priority,
		PartitionKey: orig.PartitionKey,
		Timeout:      orig.Timeout,
		Delay:        o.Delay,
		// The input was encoded for the original's signature: only an
		// executor that registers the same one may run the fork.
		Signature:    orig.Signature,
		TraceContext: send.TraceContext(),
	}
	if o.Timeout > 0 {
		p.Timeout = o.Timeout
	}
	switch {
	case orig.Queue != "":
		// Whoever claims it records its version.
		p.State, p.Queue = store.StateEnqueued, orig.Queue
	case e.runsHere(store.Workflow{Name: orig.Name, Signature: orig.Signature}):
		// It runs here, under this executor's version.
		p.State, p.ExecutorID, p.AppVersion = store.StatePending, e.executorID, e.cfg.AppVersion
	default:
		// This process does not run it (client-only, or it does not
		// register the function as the original was called): an
		// executor that does takes it over, under its own version.
		p.State = store.StatePending
	}
	if wf != nil {
		p.ParentID = wf.id
	}
	var w store.Workflow
	var created bool
	err = call(func(ctx context.Context) (err error) {
		w, created, err = e.store.ForkWorkflow(ctx, store.ForkParams{OriginalID: id, FromStep: fromStep, Workflow: p})
		return err
	})
	var rangeErr *store.StepRangeError
	switch {
	case errors.Is(err, store.ErrNotFound): // deleted meanwhile
		return store.Workflow{}, false, outcome(orig.Name, sentinel.ErrNotFound)
	case errors.As(err, &rangeErr):
		return store.Workflow{}, false, outcome(orig.Name, rangeErr)
	case err != nil:
		return store.Workflow{}, false, err
	case !created && w.Name != orig.Name:
		return store.Workflow{}, false, outcome(orig.Name, fmt.Errorf("%w: %q runs %s", sentinel.ErrConflictingID, newID, w.Name))
	}
	return w, created, nil
}

// forkOnly rejects what a fork of workflow id from fromStep cannot take:
// a fromStep below 1, the original's own ID, and the options that only
// make sense for a new call (a fork keeps the original's priority and
// partition key, and is never deduplicated). WithDelay is checked once
// the original is known (it needs a queue).
func (c *EnqueueOptions) forkOnly(id string, fromStep int) error {
	switch {
	case fromStep < 1:
		return fmt.Errorf("fromStep %d is out of range: steps are numbered from 1 (fromStep 1 runs the whole workflow again)", fromStep)
	case c.ID == id:
		return fmt.Errorf("WithID(%q) names the workflow being forked; a fork needs an ID of its own", id)
	case c.DedupID != "":
		return errors.New("WithDeduplicationID does not apply to a fork")
	case c.Priority != 0:
		return errors.New("WithPriority does not apply to a fork: it keeps the original's priority")
	case c.PartitionKey != "":
		return errors.New("WithPartitionKey does not apply to a fork: it keeps the original's partition key")
	}
	return nil
}
