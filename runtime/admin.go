package dbos

import (
	"context"
	"errors"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// errCancelledCause is the cause of a running workflow's context when the
// workflow was cancelled: its outcome is already recorded as CANCELLED.
var errCancelledCause = fmt.Errorf("%w while running", ErrCancelled)

// Cancel cancels a workflow: an enqueued task never starts; a running one
// has its context cancelled (in this process at once, in another process
// sharing a Postgres database on the notification) and stops at its next
// step; GetResult returns an error matching ErrCancelled. Cancelling a
// finished workflow changes nothing. Resume puts it back to work.
func Cancel(ctx context.Context, id string) error {
	rt, err := runtimeFrom(ctx)
	if err != nil {
		return err
	}
	return rt.cancel(ctx, id)
}

// Cancel cancels the handle's workflow; see dbos.Cancel.
func (h *Handle) Cancel(ctx context.Context) error { return h.rt.cancel(ctx, h.id) }

func (rt *Runtime) cancel(ctx context.Context, id string) error {
	if err := rt.flushFrom(ctx); err != nil {
		return err
	}
	w, changed, err := rt.store.CancelWorkflow(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		err = ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("cancel workflow %q: %w", id, err)
	}
	if changed {
		rt.stopRunning(w.ID)
		rt.waiters.notify(w.ID)
		rt.notifier.completed(w.Queue, w.ID)
	}
	return nil
}

// stopRunning cancels the context of a workflow running in this process.
func (rt *Runtime) stopRunning(id string) {
	if cancel, ok := rt.active.Load(id); ok {
		cancel.(context.CancelCauseFunc)(errCancelledCause)
	}
}

// Resume puts a cancelled or dead-lettered workflow back to work from its
// checkpoints: on its queue, or, if it was started without one, running in
// this process. Its attempts count afresh. Resuming a workflow in any other
// state changes nothing.
func Resume(ctx context.Context, id string) error {
	rt, err := runtimeForRead(ctx)
	if err != nil {
		return err
	}
	w, changed, err := rt.store.ResumeWorkflow(ctx, id, rt.executorID)
	if errors.Is(err, store.ErrNotFound) {
		err = ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("resume workflow %q: %w", id, err)
	}
	if !changed {
		return nil
	}
	rt.schedule(w)
	return nil
}

// ListFilter selects workflows for ListWorkflows. Empty fields match all.
type ListFilter struct {
	// State keeps workflows in this state.
	State State
	// Queue keeps workflows enqueued on this queue.
	Queue string
	// Name keeps workflows of this registered function name.
	Name string
	// Limit caps the number returned. Defaults to 100.
	Limit int
}

// ListWorkflows returns the status of the workflows matching f, newest
// first: for tooling and tests.
func ListWorkflows(ctx context.Context, f ListFilter) ([]Status, error) {
	rt, err := runtimeForRead(ctx)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	ws, err := rt.store.ListWorkflows(ctx, store.ListFilter{State: string(f.State), Queue: f.Queue, Name: f.Name, Limit: f.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]Status, len(ws))
	for i, w := range ws {
		out[i] = statusOf(w)
	}
	return out, nil
}

// StepInfo is one checkpoint of a workflow.
type StepInfo struct {
	// StepID numbers the workflow's durable calls from 1, in call order.
	StepID int
	// Name says what the step was: a step function's name, or "enqueue F",
	// "enqueue batch F", "start F", "get result F".
	Name string
	// Output is the step's encoded output (JSON).
	Output []byte
	// Error is the step's error message; "" when it succeeded.
	Error string
	// ChildID is the workflow the step enqueued, started or awaited.
	ChildID string
}

// Steps returns a workflow's checkpoints in step order.
func Steps(ctx context.Context, id string) ([]StepInfo, error) {
	rt, err := runtimeForRead(ctx)
	if err != nil {
		return nil, err
	}
	steps, err := rt.store.Steps(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("steps of workflow %q: %w", id, err)
	}
	out := make([]StepInfo, len(steps))
	for i, s := range steps {
		out[i] = StepInfo{StepID: s.StepID, Name: s.Name, Output: s.Output, Error: s.Error, ChildID: s.ChildID}
	}
	return out, nil
}
