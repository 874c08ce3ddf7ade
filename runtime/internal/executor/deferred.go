package executor

import (
	"context"
	"errors"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/notify"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Deferred writes.
//
// A workflow that enqueues children one by one and then awaits them would
// pay a commit for each enqueue (the child's row and the step's checkpoint)
// and one for each result (its checkpoint). Instead, an enqueue on a queue
// with a derived child ID and no deduplication ID only notes the child's
// row and its checkpoint, and a result of a child that finished for good
// (SUCCESS or ERROR) only notes its checkpoint; the notes are written
// together, children first, at the workflow's next blocking point: before
// it waits for a child that has not finished, before any other durable
// call (a step, a child workflow, an enqueue that can fail), before a
// handle of it reads or cancels a workflow, when maxDeferred children are
// noted, and when the workflow returns, before its outcome is recorded.
//
// Replay makes this safe. A crash loses only notes, never the outcome of a
// workflow that returned; the next run makes the same calls in the same
// order, so it derives the same child IDs (an insert of an existing row
// finds it) and awaits the same children, whose results are final. Nothing
// outside the workflow can see a noted child before it is written: the
// handle exists only inside the workflow, and every way out of it (a step,
// a read, the return) writes the notes first.

// maxDeferred caps the child enqueues a workflow notes before writing them.
const maxDeferred = 1000

// deferEnqueue notes a child enqueue (its row p and checkpoint s) to be
// written at the next blocking point.
func (e *Executor) deferEnqueue(ctx context.Context, wf *workflowState, p store.InsertParams, s store.Step) error {
	wt := e.waiters.Watch(p.ID)
	wf.mu.Lock()
	wf.deferredInserts = append(wf.deferredInserts, p)
	wf.deferredSteps = append(wf.deferredSteps, s)
	if wf.children == nil {
		wf.children = map[string]*notify.Watch{}
	}
	wf.children[p.ID] = wt // p.ID is derived from a step, new in this run
	full := len(wf.deferredInserts) >= maxDeferred
	wf.mu.Unlock()
	if full {
		return e.flush(ctx, wf)
	}
	return nil
}

// deferStep notes a checkpoint to be written at the next blocking point.
func (wf *workflowState) deferStep(s store.Step) {
	wf.mu.Lock()
	wf.deferredSteps = append(wf.deferredSteps, s)
	wf.mu.Unlock()
}

// finishedChild returns the end of a child this run enqueued when it
// finished in this process (its outcome committed), or nil. Either way
// the child is no longer watched.
func (wf *workflowState) finishedChild(id string) *store.Workflow {
	wf.mu.Lock()
	c, ok := wf.children[id]
	delete(wf.children, id)
	wf.mu.Unlock()
	if !ok {
		return nil
	}
	defer c.Release()
	return c.Finished()
}

// ForRead is From for a read or an admin call: when ctx is a running
// workflow's, the workflow's notes are written first, so that the call
// sees everything the workflow did (see flushFrom).
func ForRead(ctx context.Context) (*Executor, error) {
	e, err := From(ctx)
	if err != nil {
		return nil, err
	}
	return e, e.flushFrom(ctx)
}

// flushFrom writes the notes of the workflow running on ctx, if any.
func (e *Executor) flushFrom(ctx context.Context) error {
	if wf := workflowFrom(ctx); wf != nil {
		return e.flush(ctx, wf)
	}
	return nil
}

// flush writes the workflow's notes: the children's rows, then all the
// checkpoints in one call. It returns once they are committed. After a
// failure every later flush fails the same way, so the run can never
// finish as though the lost notes had been written.
func (e *Executor) flush(ctx context.Context, wf *workflowState) error {
	wf.flushMu.Lock()
	defer wf.flushMu.Unlock()
	wf.mu.Lock()
	inserts, steps, err := wf.deferredInserts, wf.deferredSteps, wf.flushErr
	wf.deferredInserts, wf.deferredSteps = nil, nil
	wf.mu.Unlock()
	if err != nil || len(inserts)+len(steps) == 0 {
		return err
	}
	if err := e.writeDeferred(ctx, wf, inserts, steps); err != nil {
		wf.mu.Lock()
		wf.flushErr = err
		wf.mu.Unlock()
		return err
	}
	return nil
}

func (e *Executor) writeDeferred(ctx context.Context, wf *workflowState, inserts []store.InsertParams, steps []store.Step) error {
	if _, err := e.insertAll(ctx, wf, inserts); err != nil {
		return fmt.Errorf("enqueue %d children of workflow %q: %w", len(inserts), wf.id, err)
	}
	err := e.persist(ctx, "checkpoint steps", func(ctx context.Context) error {
		return e.store.RecordSteps(ctx, wf.id, steps, wf.owner)
	})
	if errors.Is(err, store.ErrFenced) {
		return fmt.Errorf("checkpoint %d steps of workflow %q: %w: it was cancelled or is run elsewhere now", len(steps), wf.id, errStaleRun)
	}
	if err != nil {
		return fmt.Errorf("checkpoint %d steps of workflow %q: %w", len(steps), wf.id, err)
	}
	return nil
}

// finish writes the notes of a workflow that returned (or panicked), before
// its outcome is recorded, and lets go of its children. A workflow
// cancelled while it ran writes nothing more: its outcome is recorded
// already, and a Resume replays it.
func (e *Executor) finish(ctx context.Context, wf *workflowState) error {
	defer wf.unwatch()
	if cause := context.Cause(ctx); errors.Is(cause, errCancelledCause) || errors.Is(cause, errDisowned) {
		return nil
	}
	// A timed-out workflow's context is done, but its enqueues returned
	// handles: they are written until Shutdown interrupts.
	return e.flush(e.runCtx, wf)
}

// unwatch releases the subscriptions to children never awaited.
func (wf *workflowState) unwatch() {
	wf.mu.Lock()
	children := wf.children
	wf.children = nil
	wf.mu.Unlock()
	for _, c := range children {
		c.Release()
	}
}
