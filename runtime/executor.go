package dbos

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Error messages recorded for workflows the runtime ended itself. They are
// mapped back to sentinels when results are read.
const (
	timeoutMessage = "workflow timed out"
)

// schedule puts a workflow that just became ready to work: one PENDING
// under this executor (started directly, resumed, taken over) runs here at
// once; one ENQUEUED on a queue wakes this process's dispatcher of that
// queue and, through the notifier, the other processes'.
func (rt *Runtime) schedule(w store.Workflow) {
	if w.Queue == "" {
		rt.spawn(w)
		return
	}
	if d := rt.dispatchers[w.Queue]; d != nil {
		d.wake()
	}
	rt.notifier.enqueued(w.Queue)
}

// spawn runs a PENDING workflow owned by this executor in a new goroutine,
// counting it in its queue's local count.
func (rt *Runtime) spawn(w store.Workflow) {
	d := rt.dispatchers[w.Queue]
	if d != nil {
		d.running.Add(1)
	}
	rt.start(w, d)
}

// start runs a PENDING workflow in a new goroutine; d, if not nil, is its
// queue's dispatcher, whose local count already counts it.
func (rt *Runtime) start(w store.Workflow, d *dispatcher) {
	rt.running.Add(1)
	go rt.execute(w, d)
}

// execute runs one workflow to its end (or to an interruption at Shutdown)
// and records the outcome. Its slot in the queue's local count is freed
// then; when the call that recorded the outcome did not claim the queue's
// next tasks, the dispatcher is woken to.
func (rt *Runtime) execute(w store.Workflow, d *dispatcher) {
	defer rt.running.Done()
	claimed := false
	if d != nil {
		defer func() {
			d.running.Add(-1)
			if !claimed {
				d.wake()
			}
		}()
	}
	outcome := store.CompleteParams{ID: w.ID, ExecutorID: rt.executorID, Attempts: w.Attempts}
	fn, ok := lookupFunction(w.Name)
	if ok && w.Attempts-1 > fn.MaxRecovery {
		outcome.State = store.StateDeadLetter
		outcome.Error = fmt.Sprintf("recovered %d times; max_recovery is %d", w.Attempts-1, fn.MaxRecovery)
		rt.log.Warn("dbos: workflow dead-lettered", "workflow_id", w.ID, "name", w.Name, "recoveries", w.Attempts-1)
		claimed = rt.complete(w.Queue, d, outcome)
		return
	}
	var out []byte
	var err error
	if ok {
		out, err = rt.invoke(w, fn)
	} else {
		err = fmt.Errorf("%w: %q is not registered in executor %q (is its package imported by this program?)", ErrUnregistered, w.Name, rt.executorID)
	}
	switch {
	case err != nil && rt.interrupted():
		rt.log.Info("dbos: workflow interrupted by shutdown; it stays PENDING", "workflow_id", w.ID)
		return
	case errors.Is(err, errStaleRun):
		rt.log.Info("dbos: workflow run stopped: it was cancelled or is run elsewhere now", "workflow_id", w.ID)
		rt.waiters.notify(w.ID)
		return
	case errors.Is(err, errCancelledCause):
		rt.log.Info("dbos: workflow cancelled while running", "workflow_id", w.ID)
		rt.waiters.notify(w.ID)
		return
	case errors.Is(err, errTimedOut):
		outcome.State, outcome.Error = store.StateCancelled, timeoutMessage
	case err != nil:
		outcome.State, outcome.Error = store.StateError, err.Error()
	default:
		outcome.State, outcome.Output = store.StateSuccess, out
	}
	claimed = rt.complete(w.Queue, d, outcome)
}

// errStaleRun marks a run that lost its workflow (cancelled elsewhere, or
// taken over after this executor's lease lapsed): its outcome is not its to
// record.
var errStaleRun = errors.New("stale run")

// errTimedOut marks a workflow that ran past its deadline.
var errTimedOut = errors.New("timed out")

// invoke calls the workflow's function with a context carrying the runtime
// (and, for a workflow, its checkpoint state). A panic becomes an error.
func (rt *Runtime) invoke(w store.Workflow, fn *Function) (out []byte, err error) {
	ctx, cancel := context.WithCancelCause(rt.WithContext(rt.runCtx))
	rt.active.Store(w.ID, cancel)
	defer func() {
		rt.active.Delete(w.ID)
		cancel(nil)
	}()
	if deadline := workflowDeadline(w); !deadline.IsZero() {
		var stop context.CancelFunc
		ctx, stop = context.WithDeadline(ctx, deadline)
		defer stop()
	}
	var wf *workflowState
	if fn.Kind == KindWorkflow {
		wf = &workflowState{id: w.ID, owner: store.Owner{ExecutorID: rt.executorID, Attempts: w.Attempts}}
		if w.Attempts > 1 {
			// Only a workflow that ran before can have checkpoints.
			var steps []store.Step
			err := rt.persist(ctx, "load checkpoints", func(ctx context.Context) (err error) {
				steps, err = rt.store.Steps(ctx, w.ID)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("load checkpoints of workflow %q: %w", w.ID, err)
			}
			wf.load(steps)
		}
		ctx = withWorkflow(ctx, wf)
	}

	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("panic in %s: %v\n%s", w.Name, p, debug.Stack())
		}
		if wf != nil {
			if ferr := rt.finish(ctx, wf); ferr != nil {
				out, err = nil, ferr
			}
		}
		switch {
		case err == nil:
		case errors.Is(context.Cause(ctx), errCancelledCause):
			err = errCancelledCause
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			err = errTimedOut
		}
	}()
	if fn.Kind == KindStep {
		return callStep(ctx, fn, w.Input)
	}
	return fn.invoke(ctx, w.Input)
}

// workflowDeadline is when a workflow with a timeout must stop.
func workflowDeadline(w store.Workflow) time.Time {
	if !w.Deadline.IsZero() {
		return w.Deadline
	}
	if w.Timeout > 0 && !w.StartedAt.IsZero() {
		return w.StartedAt.Add(w.Timeout)
	}
	return time.Time{}
}

// complete records the outcome of a workflow of queue ("" if none), with
// other outcomes (see completer), wakes its local waiters and notifies other
// processes. d, if not nil, is the queue's dispatcher: the call that records
// the outcome may claim the queue's next tasks, and complete reports
// whether it did.
func (rt *Runtime) complete(queue string, d *dispatcher, p store.CompleteParams) (claimed bool) {
	c := rt.done
	if d != nil {
		c = d.done
	}
	// Retried until written, or until Shutdown gives up on running work:
	// then the workflow stays PENDING and is resumed later.
	var ok bool
	err := rt.persist(rt.runCtx, "record workflow outcome", func(context.Context) (err error) {
		ok, claimed, err = c.complete(p)
		return err
	})
	switch {
	case err != nil:
		rt.log.Error("dbos: record workflow outcome failed; it stays PENDING and will be resumed", "workflow_id", p.ID, "err", err)
	case !ok:
		rt.log.Warn("dbos: workflow outcome not recorded: another executor owns it now", "workflow_id", p.ID)
	default:
		rt.notifier.completed(queue, p.ID)
		rt.waiters.finished(p.ID, &store.Workflow{ID: p.ID, State: p.State, Output: p.Output, Error: p.Error})
		return claimed
	}
	rt.waiters.notify(p.ID)
	return claimed
}
