package dbos

import (
	"context"
	"fmt"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/executor"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// WorkflowStatus reads a workflow's current status from the database, from
// any process sharing it. It fails with an error matching ErrNotFound when
// the ID does not exist.
func WorkflowStatus(ctx context.Context, id string) (Status, error) {
	e, err := executor.ForRead(ctx)
	if err != nil {
		return Status{}, err
	}
	w, err := e.Status(ctx, id)
	if err != nil {
		return Status{}, err
	}
	waiting, err := e.Waiting(ctx, []store.Workflow{w})
	if err != nil {
		return Status{}, fmt.Errorf("status of workflow %q: %w", id, err)
	}
	st := statusOf(w)
	st.Waiting = waiting[0]
	return st, nil
}

// ListFilter selects workflows for ListWorkflows and DeleteWorkflows.
// Empty fields match all.
type ListFilter struct {
	// State keeps workflows in this state.
	State State
	// Queue keeps workflows enqueued on this queue.
	Queue string
	// Name keeps workflows of this registered function name.
	Name string
	// CompletedBefore keeps workflows that finished before this time (so
	// finished ones only).
	CompletedBefore time.Time
	// CreatedAfter keeps workflows created (enqueued or started) after
	// this time.
	CreatedAfter time.Time
	// Offset skips this many of the matching workflows, newest first,
	// before the first one returned: page k (from 0) of n workflows is
	// Offset k*n, Limit n. Workflows created or deleted between two calls
	// shift the pages. Must not be negative.
	Offset int
	// Limit caps the number returned. Defaults to 100 for ListWorkflows;
	// for DeleteWorkflows 0 means no cap.
	Limit int
}

// store is f as the store takes it.
func (f ListFilter) store() store.ListFilter {
	return store.ListFilter{
		State:           string(f.State),
		Queue:           f.Queue,
		Name:            f.Name,
		CompletedBefore: f.CompletedBefore,
		CreatedAfter:    f.CreatedAfter,
		Offset:          f.Offset,
		Limit:           f.Limit,
	}
}

// ListWorkflows returns the status of the workflows matching f, newest
// first: for tooling and tests.
func ListWorkflows(ctx context.Context, f ListFilter) ([]Status, error) {
	e, err := executor.ForRead(ctx)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	ws, err := e.List(ctx, f.store())
	if err != nil {
		return nil, err
	}
	waiting, err := e.Waiting(ctx, ws)
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	out := make([]Status, len(ws))
	for i, w := range ws {
		out[i] = statusOf(w)
		out[i].Waiting = waiting[i]
	}
	return out, nil
}

// StepInfo is one checkpoint of a workflow.
type StepInfo struct {
	// StepID numbers the workflow's durable calls from 1, in call order.
	StepID int
	// Name says what the step was: a step function's name, or "enqueue F",
	// "enqueue batch F", "start F", "get result F", "fork F"; "dbos.Sleep"
	// (its output is the wake-up time), "dbos.Send T" and "dbos.Recv T" (a
	// message on topic T; a Recv's output is the message, none when it
	// timed out), "dbos.SetEvent K" and "dbos.GetEvent K" (event K's
	// value); "dbos.Recv T deadline" and "dbos.GetEvent K deadline" record
	// when a waiting Recv or Get times out.
	Name string
	// Output is the step's encoded output (JSON).
	Output []byte
	// Error is the step's error message; "" when it succeeded.
	Error string
	// ChildID is the workflow the step enqueued, started or awaited.
	ChildID string
	// Children are the workflows the step created: ChildID for a step
	// that enqueued, started, ran or forked one, the batch's IDs for an
	// "enqueue batch" step; nil for a step that only awaited one.
	Children []string
	// StartedAt is when the call began, by the clock of the process that
	// ran it, and CompletedAt when its outcome was recorded, by the
	// database's clock. A step done at once (an enqueue) and one recorded
	// before this field existed have StartedAt equal to CompletedAt.
	StartedAt   time.Time
	CompletedAt time.Time
}

// Steps returns a workflow's checkpoints in step order.
func Steps(ctx context.Context, id string) ([]StepInfo, error) {
	e, err := executor.ForRead(ctx)
	if err != nil {
		return nil, err
	}
	steps, err := e.Steps(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]StepInfo, len(steps))
	for i, s := range steps {
		out[i] = stepInfo(s)
	}
	return out, nil
}

// stepInfo is the StepInfo of a recorded step.
func stepInfo(s store.Step) StepInfo {
	info := StepInfo{StepID: s.StepID, Name: s.Name, Output: s.Output, Error: s.Error, ChildID: s.ChildID, Children: executor.StepChildren(s), StartedAt: s.StartedAt, CompletedAt: s.RecordedAt}
	if info.StartedAt.IsZero() {
		info.StartedAt = info.CompletedAt
	}
	return info
}
