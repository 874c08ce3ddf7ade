package executor

import (
	"context"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// What the external tests of this package (package executor_test, which
// imports dbos) reach of its machinery.

// Run is a run of a workflow, driven by hand in tests as its code would.
type Run = workflowState

// MaxBatchChunk is maxBatchChunk.
const MaxBatchChunk = maxBatchChunk

// NewWorkflowID is newWorkflowID.
func NewWorkflowID() string { return newWorkflowID() }

// StoreOf returns the store of the executor a dbos.Runtime (bound to a
// context with its WithContext) wraps.
func StoreOf(rt interface {
	WithContext(context.Context) context.Context
}) store.Store {
	e, err := From(rt.WithContext(context.Background()))
	if err != nil {
		panic(err)
	}
	return e.store
}

// NewRun returns the state of a run of workflow id under owner.
func NewRun(id string, owner store.Owner) *Run { return &workflowState{id: id, owner: owner} }

// Rerun returns a new run of wf's workflow that has its checkpoints, as a
// recovery would.
func Rerun(wf *Run, steps []store.Step) *Run {
	again := &workflowState{id: wf.id, owner: wf.owner}
	again.load(steps)
	return again
}

// WithRun returns ctx inside the run wf.
func WithRun(ctx context.Context, wf *Run) context.Context { return withWorkflow(ctx, wf) }

// ID returns the run's workflow ID.
func (wf *workflowState) ID() string { return wf.id }

// LastStep returns the number of the run's last durable call.
func (wf *workflowState) LastStep() int { return wf.lastStep }

// Execute runs w, a PENDING workflow owned by the executor rt wraps, as if
// a claim had given it to that executor.
func Execute(rt interface {
	WithContext(context.Context) context.Context
}, w store.Workflow) {
	e, err := From(rt.WithContext(context.Background()))
	if err != nil {
		panic(err)
	}
	e.running.Add(1)
	e.live.Store(w.ID, struct{}{})
	go e.execute(w, nil, false)
}

// RecoverStranded is Executor.recoverStranded of the executor rt wraps.
func RecoverStranded(rt interface {
	WithContext(context.Context) context.Context
}, queue string) {
	e, err := From(rt.WithContext(context.Background()))
	if err != nil {
		panic(err)
	}
	e.recoverStranded(queue)
}

// StartStranded is Executor.startStranded (one look, at once) of the
// executor rt wraps.
func StartStranded(rt interface {
	WithContext(context.Context) context.Context
}, queue string) (int, error) {
	e, err := From(rt.WithContext(context.Background()))
	if err != nil {
		panic(err)
	}
	return e.startStranded(queue)
}
