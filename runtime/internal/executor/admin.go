package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dbosgen/dbosgen/runtime/internal/fleet"
	"github.com/dbosgen/dbosgen/runtime/internal/registry"
	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// errCancelledCause is the cause of a running workflow's context when the
// workflow was cancelled: its outcome is already recorded as CANCELLED.
var errCancelledCause = fmt.Errorf("%w while running", sentinel.ErrCancelled)

// Cancel cancels a workflow; see dbos.Cancel.
func (e *Executor) Cancel(ctx context.Context, id string) error {
	if err := e.flushFrom(ctx); err != nil {
		return err
	}
	w, changed, err := e.store.CancelWorkflow(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		err = sentinel.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("cancel workflow %q: %w", id, err)
	}
	if changed {
		// Counted here, by the one call that cancelled it; a run that
		// sees it counts nothing.
		e.tel.Cancelled(w.Queue, w.Name)
		e.stopRunning(w.ID)
		e.waiters.Notify(w.ID)
		e.notifier.Completed(w.Queue, w.ID)
	}
	return nil
}

// stopRunning cancels the context of a workflow running in this process,
// cancelled (here or elsewhere).
func (e *Executor) stopRunning(id string) { e.stopRun(id, errCancelledCause) }

// stopRun cancels the context of a workflow running in this process, with
// cause.
func (e *Executor) stopRun(id string, cause error) {
	if cancel, ok := e.active.Load(id); ok {
		cancel.(context.CancelCauseFunc)(cause)
	}
}

// Resume puts a cancelled or dead-lettered workflow back to work; see
// dbos.Resume. Call it on an executor from ForRead. A workflow started
// without a queue runs here when this executor runs it; otherwise (a
// client-only executor, another version's workflow) it is left PENDING
// under no executor, for one that runs it to take over.
func (e *Executor) Resume(ctx context.Context, id string) error {
	owner := ""
	if !e.cfg.ClientOnly {
		w, err := e.store.GetWorkflow(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			err = sentinel.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("resume workflow %q: %w", id, err)
		}
		if e.runsHere(w) {
			owner = e.executorID
		}
	}
	w, changed, err := e.store.ResumeWorkflow(ctx, id, owner)
	if errors.Is(err, store.ErrNotFound) {
		err = sentinel.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("resume workflow %q: %w", id, err)
	}
	if changed {
		e.schedule(w)
	}
	return nil
}

// Waiting says, for each of ws, why it waits (see fleet.Why): "" unless
// it waits for an executor that no live one is. It reads the live
// executors once, when any of ws is not finished.
func (e *Executor) Waiting(ctx context.Context, ws []store.Workflow) ([]string, error) {
	out := make([]string, len(ws))
	if !slices.ContainsFunc(ws, func(w store.Workflow) bool { return !store.Terminal(w.State) }) {
		return out, nil
	}
	live, err := e.store.LiveExecutors(ctx)
	if err != nil {
		return nil, err
	}
	for i, w := range ws {
		out[i] = fleet.Why(w, live)
	}
	return out, nil
}

// Status reads a workflow's row. Call it on an executor from ForRead.
func (e *Executor) Status(ctx context.Context, id string) (store.Workflow, error) {
	w, err := e.store.GetWorkflow(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		err = sentinel.ErrNotFound
	}
	if err != nil {
		return store.Workflow{}, fmt.Errorf("status of workflow %q: %w", id, err)
	}
	return w, nil
}

// Retrieve returns a handle to an existing workflow of fn, from any
// process sharing the database. It fails with ErrNotFound when the ID does
// not exist and with ErrConflictingID when it belongs to another function.
func (e *Executor) Retrieve(ctx context.Context, fn *registry.Function, id string) (*Handle, error) {
	if err := e.flushFrom(ctx); err != nil {
		return nil, err
	}
	w, err := e.store.GetWorkflow(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		err = sentinel.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("retrieve %s %q: %w", fn.Name, id, err)
	}
	if w.Name != fn.Name {
		return nil, fmt.Errorf("retrieve %s %q: %w: it runs %s", fn.Name, id, sentinel.ErrConflictingID, w.Name)
	}
	return &Handle{e: e, fn: fn, id: id}, nil
}

// List returns the workflows matching f, newest first. Call it on an
// executor from ForRead.
func (e *Executor) List(ctx context.Context, f store.ListFilter) ([]store.Workflow, error) {
	return e.store.ListWorkflows(ctx, f)
}

// Steps returns a workflow's checkpoints in step order. Call it on an
// executor from ForRead.
func (e *Executor) Steps(ctx context.Context, id string) ([]store.Step, error) {
	steps, err := e.store.Steps(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("steps of workflow %q: %w", id, err)
	}
	return steps, nil
}

// ListQueues returns every queue with a stored row or unfinished
// workflows, with their counts (see store.QueueInfo). Call it on an
// executor from ForRead.
func (e *Executor) ListQueues(ctx context.Context) ([]store.QueueInfo, error) {
	return e.store.ListQueues(ctx)
}

// The names of the steps that enqueue a batch and that await a result
// begin with these; StepChildren reads them.
const (
	batchStepPrefix = "enqueue batch "
	awaitStepPrefix = "get result "
)

// StepChildren returns the workflows a recorded step created: the batch's
// IDs (its output) for a step that enqueued a batch, ChildID for one that
// enqueued, started, ran or forked one, none for one that only awaited
// one (or failed to enqueue a batch).
func StepChildren(s store.Step) []string {
	switch {
	case strings.HasPrefix(s.Name, batchStepPrefix):
		var ids []string
		if s.Error == "" {
			_ = json.Unmarshal(s.Output, &ids) // written by EnqueueBatch
		}
		return ids
	case s.ChildID != "" && !strings.HasPrefix(s.Name, awaitStepPrefix):
		return []string{s.ChildID}
	}
	return nil
}
