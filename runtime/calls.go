package dbos

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// enqueue inserts a call of fn: on queue q, or (q == nil) started at once
// in this process. Inside a workflow it is a checkpointed step.
func (rt *Runtime) enqueue(ctx context.Context, q *Queue, fn *Function, input []byte, opts []EnqueueOption) (*Handle, error) {
	verb := "enqueue"
	if q == nil {
		verb = "start"
	}
	cfg, err := newEnqueueConfig(opts)
	if err == nil && q == nil {
		err = cfg.queueOnly()
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", verb, fn.Name, err)
	}
	wf := workflowFrom(ctx)
	var step int
	id := cfg.id
	if wf != nil {
		var rec store.Step
		var done bool
		if step, rec, done, err = wf.nextStep(ctx); err != nil {
			return nil, err
		} else if done {
			if rec.Error != "" {
				return nil, recordedError(rec)
			}
			return &Handle{rt: rt, fn: fn, id: rec.ChildID}, nil
		}
		if id == "" {
			id = wf.childID(step)
		}
	} else if id == "" {
		id = newWorkflowID()
	}
	p := cfg.row(id, fn, q, input, rt.executorID)
	var wt *watch
	if wf != nil {
		p.ParentID = wf.id
		if q != nil && cfg.id == "" && cfg.dedupID == "" {
			// Nothing can make this enqueue fail: it waits for the
			// workflow's next blocking point (see deferred.go).
			if err := rt.deferEnqueue(ctx, wf, p, store.Step{WorkflowID: wf.id, StepID: step, Name: verb + " " + fn.Name, ChildID: id}); err != nil {
				return nil, err
			}
			return &Handle{rt: rt, fn: fn, id: id}, nil
		}
		if err := rt.flush(ctx, wf); err != nil {
			return nil, err
		}
	} else {
		wt = rt.waiters.watch(id)
		defer func() {
			if wt != nil {
				wt.release() // no handle holds it
			}
		}()
	}
	var w store.Workflow
	var created, taken bool
	insert := func(ctx context.Context) (err error) {
		w, created, taken, err = rt.insert(ctx, p)
		return err
	}
	if wf != nil {
		err = rt.persist(ctx, "insert child workflow", insert)
	} else {
		err = insert(ctx)
	}
	var dup *store.DuplicateError
	switch {
	case errors.As(err, &dup):
		err = fmt.Errorf("%s %s on queue %q: %w: %q is held by workflow %q", verb, fn.Name, dup.Queue, ErrDuplicate, dup.DedupID, dup.ExistingID)
		if wf != nil {
			_, err = rt.recordStep(ctx, wf, store.Step{StepID: step, Name: verb + " " + fn.Name, Error: err.Error()}, err)
		}
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", verb, fn.Name, err)
	case !created && w.Name != fn.Name:
		return nil, fmt.Errorf("%s %s: %w: %q runs %s", verb, fn.Name, ErrConflictingID, id, w.Name)
	}
	if created && !taken {
		rt.schedule(w)
	}
	if wf != nil {
		if _, err := rt.recordStep(ctx, wf, store.Step{StepID: step, Name: verb + " " + fn.Name, ChildID: id}, nil); err != nil {
			return nil, err
		}
		return &Handle{rt: rt, fn: fn, id: id}, nil
	}
	h := &Handle{rt: rt, fn: fn, id: id, w: wt}
	runtime.AddCleanup(h, func(wt *watch) { wt.release() }, wt)
	wt = nil
	return h, nil
}

// maxInsertBatch caps the workflows one store call inserts.
const maxInsertBatch = 128

// insert inserts a workflow (see store.InsertWorkflow) with the concurrent
// inserts of the same queue (or of workflows started without one): one
// statement and one commit for all (see batcher and
// store.InsertWorkflows). It returns once the workflow is committed; a
// caller whose ctx ends while it waits for a call gives up. taken reports
// that the call also claimed the queue's ready tasks for this process (see
// inserter): nobody needs waking for this one.
func (rt *Runtime) insert(ctx context.Context, p store.InsertParams) (w store.Workflow, created, taken bool, err error) {
	r, err := rt.inserter(p.Queue).do(ctx, p)
	if err != nil {
		return store.Workflow{}, false, false, err
	}
	return r.Workflow, r.Created, r.taken, r.Err
}

// inserted is one insert's result, as the inserter reports it.
type inserted struct {
	store.InsertResult
	taken bool // its call claimed every ready task of the queue
}

// inserter returns the batcher of the inserts on queue. When this process
// runs the queue, the queue has no limits and the process has room, the
// call also claims the queue's ready tasks, oldest first, in the insert's
// transaction (store.InsertAndClaim): the tasks an idle worker enqueues
// start with the commit that enqueued them, without a wake-up and a claim
// of their own.
func (rt *Runtime) inserter(queue string) *batcher[store.InsertParams, inserted] {
	if b, ok := rt.inserters.Load(queue); ok {
		return b.(*batcher[store.InsertParams, inserted])
	}
	b := &batcher[store.InsertParams, inserted]{
		call: func(ps []store.InsertParams) ([]inserted, error) {
			// The call inserts for every caller of the batch: no one
			// caller's cancellation may interrupt it.
			return rt.insertBatch(context.WithoutCancel(rt.runCtx), queue, ps)
		},
		max: maxInsertBatch,
	}
	actual, _ := rt.inserters.LoadOrStore(queue, b)
	return actual.(*batcher[store.InsertParams, inserted])
}

// insertBatch makes an inserter's store call.
func (rt *Runtime) insertBatch(ctx context.Context, queue string, ps []store.InsertParams) ([]inserted, error) {
	out := make([]inserted, len(ps))
	d := rt.dispatchers[queue]
	n := 0
	if d != nil && !d.limited() && !rt.stopping.Load() {
		n = d.reserve(0)
	}
	if n == 0 {
		res, err := rt.store.InsertWorkflows(ctx, ps)
		for i, r := range res {
			out[i].InsertResult = r
		}
		return out, err
	}
	res, claimed, err := rt.store.InsertAndClaim(ctx, ps, d.claimParams(n))
	if err := d.settle(n, claimed, err); err != nil {
		return nil, err
	}
	// Fewer than it could take: nothing ready is left, these rows included.
	taken := len(claimed.Claimed) < n && claimed.RetryAt.IsZero()
	for i, r := range res {
		out[i] = inserted{InsertResult: r, taken: taken}
	}
	return out, nil
}

// row is the row of a call of fn with input under cfg's options: ENQUEUED
// on q, or, when q is nil, PENDING under executorID (started here).
func (c *enqueueConfig) row(id string, fn *Function, q *Queue, input []byte, executorID string) store.InsertParams {
	p := store.InsertParams{
		ID:           id,
		Name:         fn.Name,
		Input:        input,
		Priority:     c.priority,
		DedupID:      c.dedupID,
		PartitionKey: c.partitionKey,
		Delay:        c.delay,
		Timeout:      c.timeout,
	}
	if q != nil {
		p.State, p.Queue = store.StateEnqueued, q.name
	} else {
		p.State, p.ExecutorID = store.StatePending, executorID
	}
	return p
}

// queueOnly rejects options that only mean something on a queue.
func (c *enqueueConfig) queueOnly() error {
	switch {
	case c.dedupID != "":
		return errors.New("WithDeduplicationID needs a queue: use EnqueueF")
	case c.priority != 0:
		return errors.New("WithPriority needs a queue: use EnqueueF")
	case c.delay != 0:
		return errors.New("WithDelay needs a queue: use EnqueueF")
	case c.partitionKey != "":
		return errors.New("WithPartitionKey needs a queue: use EnqueueF")
	}
	return nil
}

// run calls fn and waits for its output; see Run.
func (rt *Runtime) run(ctx context.Context, fn *Function, input []byte) ([]byte, error) {
	wf := workflowFrom(ctx)
	if wf == nil {
		h, err := rt.enqueue(ctx, nil, fn, input, nil)
		if err != nil {
			return nil, err
		}
		return h.Await(ctx)
	}
	step, rec, done, err := wf.nextStep(ctx)
	if err != nil {
		return nil, err
	}
	if done {
		return rec.Output, recordedError(rec)
	}
	// The step's body, or the child, may look at what this run did so far.
	if err := rt.flush(ctx, wf); err != nil {
		return nil, err
	}
	if fn.Kind == KindStep {
		out, err := callStep(outsideWorkflow(ctx), fn, input)
		if err != nil && ctx.Err() != nil {
			return nil, err // interrupted, not finished: no checkpoint
		}
		return rt.recordStep(ctx, wf, store.Step{StepID: step, Name: fn.Name, Output: out, Error: errorText(err)}, err)
	}
	childID := wf.childID(step)
	var w store.Workflow
	var created bool
	err = rt.persist(ctx, "insert child workflow", func(ctx context.Context) (err error) {
		w, created, _, err = rt.insert(ctx, store.InsertParams{
			ID: childID, Name: fn.Name, State: store.StatePending, ExecutorID: rt.executorID, Input: input, ParentID: wf.id,
		})
		return err
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("start child workflow %s: %w", fn.Name, err)
	case !created && w.Name != fn.Name:
		return nil, fmt.Errorf("start child workflow %s: %w: %q runs %s", fn.Name, ErrConflictingID, childID, w.Name)
	case created:
		rt.spawn(w)
	}
	out, outcome, err := rt.awaitID(ctx, childID)
	if err != nil {
		return nil, err
	}
	return rt.recordStep(ctx, wf, store.Step{StepID: step, Name: fn.Name, Output: out, Error: errorText(outcome), ChildID: childID}, outcome)
}

// await waits for a handle's workflow; see Handle.Await.
func (rt *Runtime) await(ctx context.Context, h *Handle) ([]byte, error) {
	if err := rt.checkOpen(); err != nil {
		return nil, err
	}
	wf := workflowFrom(ctx)
	if wf == nil {
		if h.w != nil {
			if w := h.w.finished(); w != nil {
				return w.Output, resultError(*w) // finished here: no read
			}
		}
		out, outcome, err := rt.awaitID(ctx, h.id)
		if err != nil {
			return nil, err
		}
		return out, outcome
	}
	step, rec, done, err := wf.nextStep(ctx)
	if err != nil {
		return nil, err
	}
	if done {
		return rec.Output, recordedError(rec)
	}
	checkpoint := func(out []byte, outcome error) ([]byte, error) {
		s := store.Step{WorkflowID: wf.id, StepID: step, Name: "get result " + h.fn.Name, Output: out, Error: errorText(outcome), ChildID: h.id}
		if !final(outcome) {
			return rt.recordStep(ctx, wf, s, outcome)
		}
		// A replay would find the same result: no need to write it now
		// (see deferred.go).
		wf.deferStep(s)
		return out, outcome
	}
	if w := wf.finishedChild(h.id); w != nil {
		return checkpoint(w.Output, resultError(*w))
	}
	// About to wait: write what waits for a blocking point (the child's
	// row among it, perhaps).
	if err := rt.flush(ctx, wf); err != nil {
		return nil, err
	}
	out, outcome, err := rt.awaitID(ctx, h.id)
	if err != nil {
		return nil, err
	}
	return checkpoint(out, outcome)
}

// awaitID waits until workflow id finishes. It returns the workflow's output
// and outcome (nil, or the error it finished with), or err when waiting
// itself failed (ctx done, database unreachable, no such workflow).
func (rt *Runtime) awaitID(ctx context.Context, id string) (out []byte, outcome, err error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		entry, release := rt.waiters.subscribe(id)
		var w store.Workflow
		err := rt.persist(ctx, "read workflow", func(ctx context.Context) (err error) {
			w, err = rt.store.GetWorkflow(ctx, id)
			return err
		})
		if err != nil {
			release()
			if errors.Is(err, store.ErrNotFound) {
				err = ErrNotFound
			}
			return nil, nil, fmt.Errorf("wait for workflow %q: %w", id, err)
		}
		if State(w.State).Terminal() {
			release()
			return w.Output, resultError(w), nil
		}
		if timer == nil {
			timer = time.NewTimer(rt.cfg.PollInterval)
		} else {
			timer.Reset(rt.cfg.PollInterval)
		}
		select {
		case <-entry.ch:
			if w := entry.outcome; w != nil {
				// Finished here: its end is known without reading it.
				release()
				return w.Output, resultError(*w), nil
			}
		case <-timer.C:
		case <-ctx.Done():
			release()
			return nil, nil, fmt.Errorf("wait for workflow %q: %w", id, ctx.Err())
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

// recordStep checkpoints a step's outcome. When another attempt recorded
// the step first, its outcome wins, so every attempt sees the same one.
func (rt *Runtime) recordStep(ctx context.Context, wf *workflowState, s store.Step, stepErr error) ([]byte, error) {
	s.WorkflowID = wf.id
	if err := rt.flush(ctx, wf); err != nil {
		return nil, err
	}
	var saved store.Step
	var recorded bool
	err := rt.persist(ctx, "checkpoint step", func(ctx context.Context) (err error) {
		saved, recorded, err = rt.store.RecordStep(ctx, s, wf.owner)
		return err
	})
	if errors.Is(err, store.ErrFenced) {
		// Cancelled, or taken over by a newer run: this run must stop.
		return nil, fmt.Errorf("checkpoint step %d (%s) of workflow %q: %w: it was cancelled or is run elsewhere now", s.StepID, s.Name, wf.id, errStaleRun)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint step %d (%s) of workflow %q: %w", s.StepID, s.Name, wf.id, err)
	}
	if !recorded {
		return saved.Output, recordedError(saved)
	}
	return s.Output, stepErr
}

func (rt *Runtime) status(ctx context.Context, id string) (Status, error) {
	if err := rt.checkOpen(); err != nil {
		return Status{}, err
	}
	if err := rt.flushFrom(ctx); err != nil {
		return Status{}, err
	}
	w, err := rt.store.GetWorkflow(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		err = ErrNotFound
	}
	if err != nil {
		return Status{}, fmt.Errorf("status of workflow %q: %w", id, err)
	}
	return statusOf(w), nil
}

func (rt *Runtime) retrieve(ctx context.Context, fn *Function, id string) (*Handle, error) {
	if err := rt.flushFrom(ctx); err != nil {
		return nil, err
	}
	w, err := rt.store.GetWorkflow(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("retrieve %s %q: %w", fn.Name, id, err)
	}
	if w.Name != fn.Name {
		return nil, fmt.Errorf("retrieve %s %q: %w: it runs %s", fn.Name, id, ErrConflictingID, w.Name)
	}
	return &Handle{rt: rt, fn: fn, id: id}, nil
}

func statusOf(w store.Workflow) Status {
	return Status{
		ID:          w.ID,
		Name:        w.Name,
		State:       State(w.State),
		Queue:       w.Queue,
		ExecutorID:  w.ExecutorID,
		Attempts:    w.Attempts,
		Error:       w.Error,
		Priority:    w.Priority,
		ParentID:    w.ParentID,
		CreatedAt:   w.CreatedAt,
		StartedAt:   w.StartedAt,
		CompletedAt: w.CompletedAt,
	}
}

// resultError is the error GetResult returns for a finished workflow.
func resultError(w store.Workflow) error {
	switch w.State {
	case store.StateError:
		return &WorkflowError{WorkflowID: w.ID, Message: w.Error}
	case store.StateDeadLetter:
		return fmt.Errorf("workflow %q: %w: %s", w.ID, ErrDeadLetter, w.Error)
	case store.StateCancelled:
		if w.Error == timeoutMessage {
			return fmt.Errorf("workflow %q: %w", w.ID, ErrTimeout)
		}
		return fmt.Errorf("workflow %q: %w", w.ID, ErrCancelled)
	}
	return nil
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// replayedSentinels are the sentinel errors a recorded error message is
// matched against on replay, so errors.Is answers as it did the first time.
var replayedSentinels = []error{ErrDuplicate, ErrTimeout, ErrCancelled, ErrDeadLetter, ErrNotFound, ErrConflictingID, ErrEncode, ErrDecode, ErrUnregistered}

// recordedError rebuilds the error a checkpointed step returned. Error
// values cannot be stored, so replay returns one with the same message: a
// *WorkflowError for a step that awaited a child workflow, else an error
// that still matches the runtime's sentinel errors.
func recordedError(s store.Step) error {
	if s.Error == "" {
		return nil
	}
	for _, sentinel := range replayedSentinels {
		if strings.Contains(s.Error, sentinel.Error()) {
			return &replayError{msg: s.Error, sentinel: sentinel}
		}
	}
	if s.ChildID != "" {
		return &WorkflowError{WorkflowID: s.ChildID, Message: s.Error}
	}
	return &replayError{msg: s.Error}
}

type replayError struct {
	msg      string
	sentinel error
}

func (e *replayError) Error() string { return e.msg }
func (e *replayError) Unwrap() error { return e.sentinel }
