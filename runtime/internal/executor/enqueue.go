package executor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/dispatch"
	"github.com/dbosgen/dbosgen/runtime/internal/notify"
	"github.com/dbosgen/dbosgen/runtime/internal/registry"
	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/telemetry"
)

// EnqueueOptions are the options of one enqueue or start, set by
// dbos.EnqueueOption functions.
type EnqueueOptions struct {
	ID           string
	Priority     int
	DedupID      string
	Delay        time.Duration
	Timeout      time.Duration
	PartitionKey string
	// Err is the first option that was out of range; the call fails with
	// it.
	Err error
}

// SetErr records err unless an earlier option failed.
func (o *EnqueueOptions) SetErr(err error) {
	if o.Err == nil {
		o.Err = err
	}
}

// Apply applies option functions (dbos.EnqueueOption) in order.
func Apply[F ~func(*EnqueueOptions)](opts []F) EnqueueOptions {
	var o EnqueueOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Enqueue durably puts a call of fn with the encoded input on queue and
// returns its handle. Inside a workflow it is a checkpointed step and the
// child's ID is derived from the parent's ID and the step number.
func (e *Executor) Enqueue(ctx context.Context, queue string, fn *registry.Function, input []byte, o EnqueueOptions) (*Handle, error) {
	return e.enqueue(ctx, queue, fn, input, o)
}

// Start durably starts a call of fn in the background of this process, with
// no queue, and returns its handle. Inside a workflow it is a checkpointed
// step with a derived child ID.
func (e *Executor) Start(ctx context.Context, fn *registry.Function, input []byte, o EnqueueOptions) (*Handle, error) {
	return e.enqueue(ctx, "", fn, input, o)
}

// enqueue inserts a call of fn: on queue, or (queue "") started at once
// in this process. Inside a workflow it is a checkpointed step.
func (e *Executor) enqueue(ctx context.Context, queue string, fn *registry.Function, input []byte, cfg EnqueueOptions) (_ *Handle, err error) {
	verb, op := "enqueue", telemetry.OpEnqueue
	if queue == "" {
		verb, op = "start", telemetry.OpStart
	}
	err = cfg.Err
	if err == nil && queue == "" {
		err = cfg.queueOnly()
	}
	if err == nil && queue == "" && e.cfg.ClientOnly {
		err = fmt.Errorf("%w: it runs no workflows; enqueue the call on a queue that a worker runs instead (Enqueue%s)", sentinel.ErrClientOnly, shortName(fn.Name))
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", verb, fn.Name, err)
	}
	wf := workflowFrom(ctx)
	step, id, replayed, err := e.newChild(ctx, wf, fn, cfg.ID)
	if err != nil || replayed != nil {
		return replayed, err
	}
	// A new call (not a replay's): its span, whose context the row keeps.
	send := e.tel.Send(ctx, op, fn.Name, queue, id, 1)
	defer func() { send.End(err) }()
	p := cfg.row(id, fn, queue, input, e.executorID, e.cfg.AppVersion)
	p.TraceContext = send.TraceContext()
	var wt *notify.Watch
	if wf != nil {
		p.ParentID = wf.id
		if queue != "" && cfg.ID == "" && cfg.DedupID == "" {
			// Nothing can make this enqueue fail: it waits for the
			// workflow's next blocking point (see deferred.go).
			if err := e.deferEnqueue(ctx, wf, p, store.Step{WorkflowID: wf.id, StepID: step, Name: verb + " " + fn.Name, ChildID: id}); err != nil {
				return nil, err
			}
			return &Handle{e: e, fn: fn, id: id}, nil
		}
		if err := e.flush(ctx, wf); err != nil {
			return nil, err
		}
	} else {
		wt = e.waiters.Watch(id)
		defer func() {
			if wt != nil {
				wt.Release() // no handle holds it
			}
		}()
	}
	var r dispatch.Inserted
	insert := func(ctx context.Context) (err error) {
		r, err = e.queues.Insert(ctx, p)
		return err
	}
	if wf != nil {
		err = e.persist(ctx, "insert child workflow", insert)
	} else {
		err = insert(ctx)
	}
	var dup *store.DuplicateError
	switch {
	case errors.As(err, &dup):
		err = fmt.Errorf("%s %s on queue %q: %w: %q is held by workflow %q", verb, fn.Name, dup.Queue, sentinel.ErrDuplicate, dup.DedupID, dup.ExistingID)
		if wf != nil {
			_, err = e.recordStep(ctx, wf, store.Step{StepID: step, Name: verb + " " + fn.Name, Error: err.Error()}, err)
		}
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", verb, fn.Name, err)
	case !r.Created && r.Workflow.Name != fn.Name:
		return nil, fmt.Errorf("%s %s: %w: %q runs %s", verb, fn.Name, sentinel.ErrConflictingID, id, r.Workflow.Name)
	}
	if r.Created {
		e.tel.Enqueued(queue, fn.Name, 1)
		if !r.Taken {
			e.schedule(r.Workflow)
		}
	}
	if wf != nil {
		if _, err := e.recordStep(ctx, wf, store.Step{StepID: step, Name: verb + " " + fn.Name, ChildID: id}, nil); err != nil {
			return nil, err
		}
		return &Handle{e: e, fn: fn, id: id}, nil
	}
	h := e.watchedHandle(fn, id, wt)
	h.created = r.Created
	wt = nil
	return h, nil
}

// newChild numbers a durable call that creates a workflow (an enqueue, a
// start, a fork). Inside a workflow (wf not nil) the call is a step: when
// an earlier attempt recorded it, replayed is the handle it recorded (or
// err its error); else the new workflow's ID is id, or derived from the
// step. Outside a workflow step is 0 and the ID is id, or fresh.
func (e *Executor) newChild(ctx context.Context, wf *workflowState, fn *registry.Function, id string) (step int, childID string, replayed *Handle, err error) {
	if wf == nil {
		if id == "" {
			id = newWorkflowID()
		}
		return 0, id, nil, nil
	}
	step, rec, done, err := wf.nextStep(ctx)
	switch {
	case err != nil:
		return 0, "", nil, err
	case done && rec.Error != "":
		return 0, "", nil, recordedError(rec)
	case done:
		return step, rec.ChildID, &Handle{e: e, fn: fn, id: rec.ChildID}, nil
	case id == "":
		id = wf.childID(step)
	}
	return step, id, nil, nil
}

// watchedHandle returns the handle of a workflow created outside a
// workflow, which keeps wt, the watch of its end taken before its insert,
// until the handle is garbage.
func (e *Executor) watchedHandle(fn *registry.Function, id string, wt *notify.Watch) *Handle {
	h := &Handle{e: e, fn: fn, id: id, w: wt}
	runtime.AddCleanup(h, func(wt *notify.Watch) { wt.Release() }, wt)
	return h
}

// row is the row of a call of fn with input under these options: ENQUEUED
// on queue, or, when queue is "", PENDING under executorID (started here,
// under version).
func (c *EnqueueOptions) row(id string, fn *registry.Function, queue string, input []byte, executorID, version string) store.InsertParams {
	p := store.InsertParams{
		ID:           id,
		Name:         fn.Name,
		Signature:    fn.Key(),
		Input:        input,
		Priority:     c.Priority,
		DedupID:      c.DedupID,
		PartitionKey: c.PartitionKey,
		Delay:        c.Delay,
		Timeout:      c.Timeout,
	}
	if queue != "" {
		p.State, p.Queue = store.StateEnqueued, queue
	} else {
		p.State, p.ExecutorID, p.AppVersion = store.StatePending, executorID, version
	}
	return p
}

// shortName is the function name of a registered name: what follows its
// last dot.
func shortName(name string) string {
	return name[strings.LastIndex(name, ".")+1:]
}

// queueOnly rejects options that only mean something on a queue.
func (c *EnqueueOptions) queueOnly() error {
	switch {
	case c.DedupID != "":
		return errors.New("WithDeduplicationID needs a queue: use EnqueueF")
	case c.Priority != 0:
		return errors.New("WithPriority needs a queue: use EnqueueF")
	case c.Delay != 0:
		return errors.New("WithDelay needs a queue: use EnqueueF")
	case c.PartitionKey != "":
		return errors.New("WithPartitionKey needs a queue: use EnqueueF")
	}
	return nil
}
