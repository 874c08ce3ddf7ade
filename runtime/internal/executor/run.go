package executor

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/dispatch"
	"github.com/dbosgen/dbosgen/runtime/internal/registry"
	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/telemetry"
)

// schedule puts a workflow that just became ready to work: one PENDING
// under this executor (started directly, resumed, taken over) runs here at
// once, one PENDING under no executor (released for whoever runs it) waits
// for a takeover; one ENQUEUED on a queue wakes this process's dispatcher of that
// queue and, through the notifier, the other processes'.
func (e *Executor) schedule(w store.Workflow) {
	if w.Queue == "" {
		if w.ExecutorID == e.executorID {
			e.spawn(w)
		} // else it waits for an executor that runs it to take it over
		return
	}
	if d := e.queues.Get(w.Queue); d != nil {
		d.Wake()
	}
	e.notifier.Enqueued(w.Queue)
}

// spawn runs a PENDING workflow owned by this executor in a new goroutine,
// counting it in its queue's local count.
func (e *Executor) spawn(w store.Workflow) {
	d := e.queues.Get(w.Queue)
	if d != nil {
		d.Took()
	}
	e.running.Add(1)
	e.live.Store(w.ID, struct{}{})
	go e.execute(w, d, false)
}

// startClaimed runs a workflow a claim of d's queue took for this process
// (d's local count already counts it) in a new goroutine; its run measures
// how long it waited on the queue.
func (e *Executor) startClaimed(w store.Workflow, d *dispatch.Dispatcher) {
	e.running.Add(1)
	e.live.Store(w.ID, struct{}{})
	go e.execute(w, d, true)
}

// execute runs one workflow to its end (or to an interruption at Shutdown)
// and records the outcome. Its slot in the queue's local count is freed
// then; when the call that recorded the outcome did not claim the queue's
// next tasks, the dispatcher is woken to.
//
// Each run has its span (telemetry.Run), a child of the span that enqueued
// the workflow (the trace context its row keeps), and is measured; fresh,
// the workflow was just claimed from its queue: its wait there, from its
// enqueue to the claim (both by the database's clock), is measured too.
func (e *Executor) execute(w store.Workflow, d *dispatch.Dispatcher, fresh bool) {
	// end frees what the run holds, once its outcome is recorded (or given
	// up on): its slot in the queue's local count, its place among the
	// live workflows and in the running count. An outcome to record is
	// handed to the completer, which calls end after the commit; the run's
	// goroutine does not wait for it (fewer live goroutines, whose stacks
	// the garbage collector scans).
	id := w.ID
	end := func(claimed bool) {
		if d != nil {
			d.Finished(claimed)
		}
		e.live.Delete(id)
		e.running.Done()
	}
	handed := false
	defer func() {
		if !handed {
			end(false)
		}
	}()
	if fresh {
		e.tel.QueueWait(w.Queue, w.Name, w.StartedAt.Sub(w.CreatedAt))
	}
	run := e.tel.StartRun(w.Queue, w.Name, w.ID, w.Attempts, w.TraceContext)
	outcome := store.CompleteParams{ID: w.ID, ExecutorID: e.executorID, Attempts: w.Attempts}
	fn, ok := e.canRun(w)
	if !ok {
		// Claims, recovery and takeover move only what this executor
		// runs: this is a bug. Never fail the workflow for it.
		e.log.Error(fmt.Sprintf("dbos: executor %s got workflow %s of %s, which it cannot run (its function is not registered here, or not with the signature its input was encoded for, or it started under another version); leaving it for an executor that can", e.executorID, w.ID, w.Name),
			"workflow_id", w.ID, "name", w.Name, "app_version", w.AppVersion)
		e.release(w)
		run.Event("released: this executor cannot run it")
		run.End("", false, nil)
		return
	}
	if w.Attempts-1 > fn.MaxRecovery {
		outcome.State = store.StateDeadLetter
		outcome.Error = fmt.Sprintf("recovered %d times; max_recovery is %d", w.Attempts-1, fn.MaxRecovery)
		e.log.Warn("dbos: workflow dead-lettered", "workflow_id", w.ID, "name", w.Name, "recoveries", w.Attempts-1)
		handed = true
		e.complete(w.Queue, d, outcome, &run, fmt.Errorf("%w: %s", sentinel.ErrDeadLetter, outcome.Error), end)
		return
	}
	run.Begin()
	out, err := e.invoke(run.Context(e.runCtx), w, fn)
	var failure error // the run's failure, for its span
	switch {
	case err != nil && e.interrupted():
		e.log.Info("dbos: workflow interrupted by shutdown; it stays PENDING", "workflow_id", w.ID)
		run.Event("interrupted by shutdown: the workflow stays PENDING")
		run.End("", false, nil)
		return
	case errors.Is(err, errStaleRun):
		e.logStale(w)
		run.Event("stopped: this executor no longer owns the workflow")
		run.End("", false, nil)
		e.waiters.Notify(w.ID)
		return
	case errors.Is(err, errCancelledCause):
		e.log.Info("dbos: workflow cancelled while running", "workflow_id", w.ID)
		run.Event("cancelled while running")
		run.End(store.StateCancelled, false, nil) // counted where it was cancelled
		e.waiters.Notify(w.ID)
		return
	case errors.Is(err, errTimedOut):
		outcome.State, outcome.Error = store.StateCancelled, timeoutMessage
		failure = sentinel.ErrTimeout
	case err != nil:
		outcome.State, outcome.Error = store.StateError, err.Error()
		failure = err
	default:
		outcome.State, outcome.Output = store.StateSuccess, out
	}
	handed = true
	e.complete(w.Queue, d, outcome, &run, failure, end)
}

// errStaleRun marks a run that lost its workflow (cancelled elsewhere, or
// taken over after this executor's lease lapsed): its outcome is not its to
// record.
var errStaleRun = errors.New("stale run")

// errDisowned is the cause of a running workflow's context when the
// heartbeat found that this executor no longer owns it.
var errDisowned = fmt.Errorf("%w: the workflow is no longer owned by this executor", errStaleRun)

// logStale logs the end of a stale run: at Warn when the workflow runs
// elsewhere now (taken over after this executor's lease lapsed), at Info
// when it was cancelled.
func (e *Executor) logStale(w store.Workflow) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.runCtx), e.cfg.LeaseDuration)
	defer cancel()
	now, err := e.store.GetWorkflow(ctx, w.ID)
	if err == nil && now.State == store.StateCancelled {
		e.log.Info("dbos: workflow cancelled while running", "workflow_id", w.ID)
		return
	}
	where := "its state could not be read"
	if err == nil {
		where = fmt.Sprintf("it is %s now", now.State)
		if now.ExecutorID != "" {
			where += fmt.Sprintf(" under executor %s (attempt %d)", now.ExecutorID, now.Attempts)
		}
	}
	e.log.Warn(fmt.Sprintf("dbos: stale run of workflow %s stopped: executor %s no longer owns it (%s); its outcome is not recorded", w.ID, e.executorID, where),
		"workflow_id", w.ID, "name", w.Name, "attempt", w.Attempts, "executor_id", e.executorID)
}

// stopDisowned stops the run here of a workflow that the heartbeat found
// this executor no longer owns (cancelled elsewhere, or taken over).
func (e *Executor) stopDisowned(id string) { e.stopRun(id, errDisowned) }

// release gives a workflow this executor cannot run back, for one that
// can: queued, to its queue; otherwise PENDING under no executor.
func (e *Executor) release(w store.Workflow) {
	var released bool
	err := e.persist(e.runCtx, "release workflow", func(ctx context.Context) (err error) {
		_, released, err = e.store.ReleaseWorkflow(ctx, w.ID, store.Owner{ExecutorID: e.executorID, Attempts: w.Attempts})
		return err
	})
	switch {
	case err != nil:
		e.log.Error("dbos: release workflow failed; it stays PENDING under this executor", "workflow_id", w.ID, "err", err)
	case released && w.Queue != "":
		e.notifier.Enqueued(w.Queue)
	}
}

// errTimedOut marks a workflow that ran past its deadline.
var errTimedOut = errors.New("timed out")

// invoke calls the workflow's function with a context, derived from
// parent, carrying the runtime (and, for a workflow, its checkpoint
// state). A panic becomes an error.
func (e *Executor) invoke(parent context.Context, w store.Workflow, fn *registry.Function) (out []byte, err error) {
	ctx, cancel := context.WithCancelCause(e.Bind(parent))
	e.active.Store(w.ID, cancel)
	defer func() {
		e.active.Delete(w.ID)
		cancel(nil)
	}()
	if deadline := workflowDeadline(w); !deadline.IsZero() {
		var stop context.CancelFunc
		ctx, stop = context.WithDeadline(ctx, deadline)
		defer stop()
	}
	var wf *workflowState
	if fn.Kind == registry.KindWorkflow {
		wf = &workflowState{id: w.ID, owner: store.Owner{ExecutorID: e.executorID, Attempts: w.Attempts}}
		if w.Attempts > 1 {
			// Only a workflow that ran before can have checkpoints.
			var steps []store.Step
			err := e.persist(ctx, "load checkpoints", func(ctx context.Context) (err error) {
				steps, err = e.store.Steps(ctx, w.ID)
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
			if ferr := e.finish(ctx, wf); ferr != nil {
				out, err = nil, ferr
			}
		}
		switch {
		case err == nil:
		case errors.Is(context.Cause(ctx), errCancelledCause):
			err = errCancelledCause
		case errors.Is(context.Cause(ctx), errDisowned):
			err = errDisowned
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			err = errTimedOut
		}
	}()
	if fn.Kind == registry.KindStep {
		return e.callStep(ctx, fn, w.Input)
	}
	return fn.Call(ctx, w.Input)
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
// other outcomes (see dispatch.Queues.Complete), without waiting for it.
// Once it is recorded, complete ends its run (whose failure, if any, is
// failure), wakes its local waiters, notifies other processes (once a
// waiter wakes, the run's span has ended and its outcome is counted) and
// calls end. d, if not nil, is the queue's dispatcher: the call that
// records the outcome may claim the queue's next tasks, and end learns
// whether it did.
//
// A failed call is retried with backoff on a goroutine of its own until
// the outcome is written, or until Shutdown gives up on running work: then
// the workflow stays PENDING and is resumed later.
func (e *Executor) complete(queue string, d *dispatch.Dispatcher, p store.CompleteParams, run *telemetry.Run, failure error, end func(claimed bool)) {
	e.queues.CompleteAsync(d, p, func(ok, claimed bool, err error) {
		answered := err == nil || permanent(err)
		if answered {
			e.outage.Succeeded(e.log) // the database answered
		}
		if answered || e.runCtx.Err() != nil {
			end(e.recorded(queue, p, run, failure, ok, claimed, err))
			return
		}
		go func() {
			err := e.retry(e.runCtx, "record workflow outcome", err, func(context.Context) (err error) {
				ok, claimed, err = e.queues.Complete(d, p)
				return err
			})
			end(e.recorded(queue, p, run, failure, ok, claimed, err))
		}()
	})
}

// recorded finishes complete once the outcome's call returned ok, claimed
// and err, and returns claimed when the outcome was recorded.
func (e *Executor) recorded(queue string, p store.CompleteParams, run *telemetry.Run, failure error, ok, claimed bool, err error) bool {
	switch {
	case err != nil:
		e.log.Error("dbos: record workflow outcome failed; it stays PENDING and will be resumed", "workflow_id", p.ID, "err", err)
	case !ok:
		e.log.Warn("dbos: workflow outcome not recorded: another executor owns it now", "workflow_id", p.ID)
	default:
		run.End(p.State, true, failure)
		if e.notifier != nil {
			e.notifier.Finished(queue, p.ID, &store.End{State: p.State, Output: p.Output, Error: p.Error})
		}
		e.waiters.Finished(p.ID, func() *store.Workflow {
			return &store.Workflow{ID: p.ID, State: p.State, Output: p.Output, Error: p.Error}
		})
		return claimed
	}
	run.End("", false, failure) // not this run's to decide after all
	e.waiters.Notify(p.ID)
	return claimed
}
