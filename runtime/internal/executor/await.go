package executor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// await waits for a handle's workflow; see Handle.Await.
func (e *Executor) await(ctx context.Context, h *Handle) ([]byte, error) {
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	wf := workflowFrom(ctx)
	if wf == nil {
		if h.w != nil {
			if w := h.w.Finished(); w != nil {
				return w.Output, resultError(*w) // finished here: no read
			}
			if h.created && e.notifier != nil {
				w, err := e.awaitWatch(ctx, h)
				if err != nil {
					return nil, err
				}
				if w != nil {
					return w.Output, resultError(*w) // its end came with the notification
				}
			}
		}
		end, err := e.awaitEnd(ctx, h.id)
		if err != nil {
			return nil, err
		}
		return end.Output, resultError(end)
	}
	step, rec, done, err := wf.nextStep(ctx)
	if err != nil {
		return nil, err
	}
	if done {
		return rec.Output, recordedError(rec)
	}
	begun := time.Now()
	checkpoint := func(end store.Workflow) ([]byte, error) {
		outcome := resultError(end)
		s := store.Step{WorkflowID: wf.id, StepID: step, Name: awaitStepPrefix + h.fn.Name, Output: end.Output, Error: errorText(outcome), ChildID: h.id, StartedAt: begun}
		if !final(end) {
			return e.recordStep(ctx, wf, s, outcome)
		}
		// A replay would find the same result: no need to write it now
		// (see deferred.go).
		wf.deferStep(s)
		return end.Output, outcome
	}
	if w := wf.finishedChild(h.id); w != nil {
		return checkpoint(*w)
	}
	// About to wait: write what waits for a blocking point (the child's
	// row among it, perhaps).
	if err := e.flush(ctx, wf); err != nil {
		return nil, err
	}
	end, err := e.awaitEnd(ctx, h.id)
	if err != nil {
		return nil, err
	}
	return checkpoint(end)
}

// awaitWatch waits, without a read, for the end of a workflow that h's
// call created: its watch hears its end, from this process or, when small
// enough, in another process's notification (only where the store has
// notifications: elsewhere a read comes first). It returns nil when the
// poll interval passed first, or the watch woke without the end (a cancel,
// notifications lost): then read it (awaitEnd).
func (e *Executor) awaitWatch(ctx context.Context, h *Handle) (*store.Workflow, error) {
	t := time.NewTimer(e.cfg.PollInterval)
	defer t.Stop()
	select {
	case <-h.w.Done():
		return h.w.Finished(), nil
	case <-t.C:
		return nil, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for workflow %q: %w", h.id, ctx.Err())
	}
}

// awaitEnd waits until workflow id finishes and returns its end: its
// state, output and error as recorded (the whole row, or, when it finished
// in this process, those fields alone). err says that waiting itself
// failed (ctx done, database unreachable, no such workflow).
func (e *Executor) awaitEnd(ctx context.Context, id string) (end store.Workflow, err error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		entry, release := e.waiters.Subscribe(id)
		var w store.Workflow
		err := e.persist(ctx, "read workflow", func(ctx context.Context) (err error) {
			w, err = e.store.GetWorkflow(ctx, id)
			return err
		})
		if err != nil {
			release()
			if errors.Is(err, store.ErrNotFound) {
				err = sentinel.ErrNotFound
			}
			return store.Workflow{}, fmt.Errorf("wait for workflow %q: %w", id, err)
		}
		if store.Terminal(w.State) {
			release()
			return w, nil
		}
		if timer == nil {
			timer = time.NewTimer(e.cfg.PollInterval)
		} else {
			timer.Reset(e.cfg.PollInterval)
		}
		select {
		case <-entry.Done():
			if w := entry.Outcome(); w != nil {
				// Finished here: its end is known without reading it.
				release()
				return *w, nil
			}
		case <-timer.C:
		case <-ctx.Done():
			release()
			return store.Workflow{}, fmt.Errorf("wait for workflow %q: %w", id, ctx.Err())
		}
		release()
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// final reports whether a child's end can never change: it succeeded or
// failed. (A cancelled, timed-out or dead-lettered child can be resumed.)
// Only such results may be checkpointed late.
func final(end store.Workflow) bool {
	return end.State == store.StateSuccess || end.State == store.StateError
}
