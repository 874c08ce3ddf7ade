package executor

import (
	"context"
	"strconv"
	"sync"

	"github.com/dbosgen/dbosgen/runtime/internal/notify"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// workflowState is what a running workflow's context carries: its ID, the
// step counter that numbers its durable calls, and the checkpoints recorded
// by earlier attempts.
type workflowState struct {
	id    string
	owner store.Owner // this run's fencing token for checkpoints

	mu       sync.Mutex
	lastStep int
	recorded map[int]store.Step

	// Writes that wait for the workflow's next blocking point (see
	// deferred.go), guarded by mu.
	deferredInserts []store.InsertParams
	deferredSteps   []store.Step
	flushErr        error                    // a failed flush: the run must not finish as if it had succeeded
	children        map[string]*notify.Watch // children enqueued by this run, watched until awaited
	flushMu         sync.Mutex               // held while a flush writes: one at a time, in order
}

type workflowKey struct{}

func withWorkflow(ctx context.Context, wf *workflowState) context.Context {
	return context.WithValue(ctx, workflowKey{}, wf)
}

// workflowFrom returns the workflow whose code is running on ctx, or nil
// outside a workflow and inside a step's body.
func workflowFrom(ctx context.Context) *workflowState {
	wf, _ := ctx.Value(workflowKey{}).(*workflowState)
	return wf
}

// outsideWorkflow returns ctx for a step's body: durable calls made in it
// are not steps of the enclosing workflow.
func outsideWorkflow(ctx context.Context) context.Context {
	return context.WithValue(ctx, workflowKey{}, (*workflowState)(nil))
}

func (wf *workflowState) load(steps []store.Step) {
	wf.recorded = make(map[int]store.Step, len(steps))
	for _, s := range steps {
		wf.recorded[s.StepID] = s
	}
}

// nextStep numbers the workflow's next durable call and returns its
// checkpoint when an earlier attempt recorded one. Durable calls must be
// made in the same order on every attempt: that order is what replay
// matches checkpoints by. A workflow whose context is done (timed out,
// cancelled, interrupted by Shutdown) stops here: err is the context's.
func (wf *workflowState) nextStep(ctx context.Context) (step int, rec store.Step, done bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, store.Step{}, false, err
	}
	wf.mu.Lock()
	defer wf.mu.Unlock()
	wf.lastStep++
	s, ok := wf.recorded[wf.lastStep]
	return wf.lastStep, s, ok, nil
}

// childID derives the ID of a child created by a step: stable across
// replays because the step number is.
func (wf *workflowState) childID(step int) string {
	return wf.id + "-" + strconv.Itoa(step)
}
