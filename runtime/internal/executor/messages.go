package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/notify"
	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Durable sleep, messages between workflows and workflows' events.
//
// Each is one or two steps of the calling workflow, numbered like every
// durable call and returned from their checkpoints on replay:
//
//   - Sleep records its wake-up time (the executor's clock, absolute), then
//     sleeps until it; a replay sleeps only what is left.
//   - Send, in a workflow, records its step and the message in one
//     transaction (store.SendMessage): a replay does not send again.
//   - Recv takes two: its deadline (recorded before it first waits, so a
//     replay waits only what is left), then its outcome, the message it
//     received, recorded in the transaction that deletes the message
//     (store.ReceiveMessage), or nothing (NULL output) on timeout.
//   - SetEvent records its step and the event's value in one transaction.
//   - GetEvent, in a workflow, takes two like Recv: its deadline, then the
//     value read (NULL on timeout).
//
// Waiters wake at a local send or set at once (e.inboxes, e.events), at a
// notification from another process (EventMessage, EventSet, Postgres
// only), or at the poll, every waitPoll.

// The names of the steps, as dbos.Steps shows them.
const (
	sleepStepName  = "dbos.Sleep"
	sendStepPrefix = "dbos.Send "     // + topic
	recvStepPrefix = "dbos.Recv "     // + topic
	setStepPrefix  = "dbos.SetEvent " // + key
	getStepPrefix  = "dbos.GetEvent " // + key
	deadlineSuffix = " deadline"      // the deadline step of a Recv or GetEvent
)

// minWaitPoll is the shortest interval between two reads of a waiting
// Recv or GetEvent when nothing wakes it: Config.PollInterval, but no less.
// On SQLite, which has no notifications, a message sent by another process
// is seen within it.
const minWaitPoll = 100 * time.Millisecond

func (e *Executor) waitPoll() time.Duration { return max(e.cfg.PollInterval, minWaitPoll) }

// Sleep sleeps for d inside a workflow; see dbos.Sleep.
func (e *Executor) Sleep(ctx context.Context, d time.Duration) error {
	wf := workflowFrom(ctx)
	if wf == nil {
		return fmt.Errorf("dbos.Sleep: %w", sentinel.ErrOutsideWorkflow)
	}
	step, rec, done, err := wf.nextStep(ctx)
	if err != nil {
		return fmt.Errorf("dbos.Sleep: %w", err)
	}
	var wake time.Time
	if done {
		if wake, err = recordedTime(rec); err != nil {
			return fmt.Errorf("dbos.Sleep: %w", err)
		}
	} else {
		begun := time.Now()
		s := timeStep(wf, step, sleepStepName, begun.Add(max(d, 0)))
		s.StartedAt = begun
		out, err := e.recordStep(ctx, wf, s, nil)
		if err != nil {
			return fmt.Errorf("dbos.Sleep: %w", err)
		}
		if wake, err = decodeTime(out); err != nil {
			return fmt.Errorf("dbos.Sleep: %w", err)
		}
	}
	if err := sleepUntil(ctx, wake); err != nil {
		return fmt.Errorf("dbos.Sleep until %s: %w", wake.Format(time.RFC3339Nano), err)
	}
	return nil
}

// sleepUntil waits until t, or until ctx is done: then it returns ctx's
// cause (a cancelled workflow's wraps ErrCancelled).
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// timeStep is the checkpoint of a moment (a wake-up time, a deadline).
func timeStep(wf *workflowState, step int, name string, t time.Time) store.Step {
	out, _ := json.Marshal(t.UTC()) // RFC 3339, readable in dbos.Steps
	return store.Step{WorkflowID: wf.id, StepID: step, Name: name, Output: out}
}

func decodeTime(out []byte) (time.Time, error) {
	var t time.Time
	if err := json.Unmarshal(out, &t); err != nil {
		return time.Time{}, fmt.Errorf("recorded time %q: %w: %w", out, sentinel.ErrDecode, err)
	}
	return t, nil
}

func recordedTime(s store.Step) (time.Time, error) {
	if err := recordedError(s); err != nil {
		return time.Time{}, err
	}
	return decodeTime(s.Output)
}

// deadline numbers the deadline step of a Recv or GetEvent: the time
// recorded by an earlier attempt, or now+timeout with the step to record
// (pending) before the first wait.
func (wf *workflowState) deadline(ctx context.Context, name string, timeout time.Duration) (t time.Time, pending *store.Step, err error) {
	step, rec, done, err := wf.nextStep(ctx)
	if err != nil {
		return time.Time{}, nil, err
	}
	if done {
		t, err = recordedTime(rec)
		return t, nil, err
	}
	begun := time.Now()
	t = begun.Add(max(timeout, 0))
	s := timeStep(wf, step, name+deadlineSuffix, t)
	s.StartedAt = begun
	return t, &s, nil
}

// Send sends a message; see dbos.Topic.Send. Inside a workflow it is a
// step: the message and the checkpoint commit together.
func (e *Executor) Send(ctx context.Context, destinationID, topic string, payload []byte) error {
	m := store.Message{DestinationID: destinationID, Topic: topic, Payload: payload}
	wf := workflowFrom(ctx)
	if wf == nil {
		_, _, err := e.store.SendMessage(ctx, m, nil, store.Owner{})
		if err != nil {
			return sendError(m, err)
		}
		e.sent(destinationID)
		return nil
	}
	step, rec, done, err := wf.nextStep(ctx)
	if err != nil {
		return sendError(m, err)
	}
	if done {
		return recordedError(rec)
	}
	// The destination may be a child this run enqueued, not written yet.
	if err := e.flush(ctx, wf); err != nil {
		return sendError(m, err)
	}
	s := store.Step{WorkflowID: wf.id, StepID: step, Name: sendStepPrefix + topic, StartedAt: time.Now()}
	var saved store.Step
	var recorded bool
	err = e.persist(ctx, "send message", func(ctx context.Context) (err error) {
		saved, recorded, err = e.store.SendMessage(ctx, m, &s, wf.owner)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		// No such destination: an outcome like any other, replayed as is.
		err = sendError(m, err)
		s.Error = err.Error()
		_, err = e.recordStep(ctx, wf, s, err)
		return err
	case errors.Is(err, store.ErrFenced):
		return fmt.Errorf("send message on topic %q from workflow %q: %w: it was cancelled or is run elsewhere now", topic, wf.id, errStaleRun)
	case err != nil:
		return sendError(m, err)
	case !recorded:
		return recordedError(saved)
	}
	e.sent(destinationID)
	return nil
}

func sendError(m store.Message, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("send on topic %q: %w: no workflow has ID %q (send to the ID of an existing workflow, after it was started or enqueued)", m.Topic, sentinel.ErrNotFound, m.DestinationID)
	}
	return fmt.Errorf("send on topic %q to workflow %q: %w", m.Topic, m.DestinationID, err)
}

// sent wakes the receivers of destinationID, here at once and elsewhere by
// notification.
func (e *Executor) sent(destinationID string) {
	e.inboxes.Notify(destinationID)
	e.notifier.Message(destinationID)
}

// Recv receives the workflow's next message on topic; see dbos.Topic.Recv.
// ok is false when none came before the timeout.
func (e *Executor) Recv(ctx context.Context, topic string, timeout time.Duration) (payload []byte, ok bool, err error) {
	wf := workflowFrom(ctx)
	if wf == nil {
		return nil, false, fmt.Errorf("receive on topic %q: %w", topic, sentinel.ErrOutsideWorkflow)
	}
	name := recvStepPrefix + topic
	deadline, pending, err := wf.deadline(ctx, name, timeout)
	if err != nil {
		return nil, false, fmt.Errorf("receive on topic %q: %w", topic, err)
	}
	step, rec, done, err := wf.nextStep(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("receive on topic %q: %w", topic, err)
	}
	if done {
		return recordedValue(rec)
	}
	if err := e.flush(ctx, wf); err != nil {
		return nil, false, err
	}
	s := store.Step{WorkflowID: wf.id, StepID: step, Name: name, StartedAt: time.Now()}
	var got store.Step
	timedOut, err := e.waitFor(ctx, e.inboxes, wf.id, deadline, func() (bool, error) {
		var also []store.Step
		if pending != nil {
			also = []store.Step{*pending}
		}
		var received bool
		err := e.persist(ctx, "receive message", func(ctx context.Context) (err error) {
			got, received, err = e.store.ReceiveMessage(ctx, topic, s, also, wf.owner)
			return err
		})
		if errors.Is(err, store.ErrFenced) {
			return false, fmt.Errorf("receive on topic %q in workflow %q: %w: it was cancelled or is run elsewhere now", topic, wf.id, errStaleRun)
		}
		if err != nil || received {
			return received, err
		}
		if pending != nil && time.Now().Before(deadline) {
			// About to wait: record the deadline, so that a replay
			// waits only what is left of it.
			if _, err := e.recordStep(ctx, wf, *pending, nil); err != nil {
				return false, err
			}
			pending = nil
		}
		return false, nil
	})
	if err != nil {
		return nil, false, err
	}
	if !timedOut {
		return recordedValue(got)
	}
	return e.recordNothing(ctx, wf, pending, s)
}

// recordNothing checkpoints a Recv's or GetEvent's timeout (s with no
// output), after its deadline step if that is still pending.
func (e *Executor) recordNothing(ctx context.Context, wf *workflowState, pending *store.Step, s store.Step) ([]byte, bool, error) {
	if pending != nil {
		if _, err := e.recordStep(ctx, wf, *pending, nil); err != nil {
			return nil, false, err
		}
	}
	out, err := e.recordStep(ctx, wf, s, nil)
	if err != nil {
		return nil, false, err
	}
	if len(out) > 0 { // another attempt recorded a value first
		return out, true, nil
	}
	return nil, false, nil
}

// recordedValue is the outcome of a recorded Recv or GetEvent: its output,
// or ok=false for one that timed out (no output).
func recordedValue(s store.Step) ([]byte, bool, error) {
	if err := recordedError(s); err != nil {
		return nil, false, err
	}
	return s.Output, len(s.Output) > 0, nil
}

// waitFor calls try until it reports done, waking when waiters is notified
// for key or every waitPoll; timedOut once a try at or after deadline
// found nothing. A done ctx stops it with ctx's cause.
func (e *Executor) waitFor(ctx context.Context, waiters *notify.Waiters, key string, deadline time.Time, try func() (bool, error)) (timedOut bool, err error) {
	for {
		entry, release := waiters.Subscribe(key) // before the read: no wake-up is missed
		done, err := try()
		if err != nil || done {
			release()
			return false, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			release()
			return true, nil
		}
		timer := time.NewTimer(min(left, e.waitPoll()))
		select {
		case <-entry.Done():
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			release()
			return false, context.Cause(ctx)
		}
		timer.Stop()
		release()
	}
}

// SetEvent sets the calling workflow's event key; see dbos.Event.Set.
func (e *Executor) SetEvent(ctx context.Context, key string, value []byte) error {
	wf := workflowFrom(ctx)
	if wf == nil {
		return fmt.Errorf("set event %q: %w", key, sentinel.ErrOutsideWorkflow)
	}
	step, rec, done, err := wf.nextStep(ctx)
	if err != nil {
		return fmt.Errorf("set event %q: %w", key, err)
	}
	if done {
		return recordedError(rec)
	}
	if err := e.flush(ctx, wf); err != nil {
		return err
	}
	s := store.Step{WorkflowID: wf.id, StepID: step, Name: setStepPrefix + key, Output: value, StartedAt: time.Now()}
	var saved store.Step
	var recorded bool
	err = e.persist(ctx, "set event", func(ctx context.Context) (err error) {
		saved, recorded, err = e.store.SetEvent(ctx, key, value, s, wf.owner)
		return err
	})
	switch {
	case errors.Is(err, store.ErrFenced):
		return fmt.Errorf("set event %q of workflow %q: %w: it was cancelled or is run elsewhere now", key, wf.id, errStaleRun)
	case err != nil:
		return fmt.Errorf("set event %q of workflow %q: %w", key, wf.id, err)
	case !recorded:
		return recordedError(saved)
	}
	e.events.Notify(wf.id)
	e.notifier.EventSet(wf.id)
	return nil
}

// GetEvent reads workflow workflowID's event key, waiting until timeout
// for it to be set; see dbos.Event.Get. Inside a workflow it is a step.
func (e *Executor) GetEvent(ctx context.Context, workflowID, key string, timeout time.Duration) ([]byte, bool, error) {
	wf := workflowFrom(ctx)
	if wf == nil {
		return e.awaitEvent(ctx, workflowID, key, time.Now().Add(timeout), nil)
	}
	name := getStepPrefix + key
	deadline, pending, err := wf.deadline(ctx, name, timeout)
	if err != nil {
		return nil, false, fmt.Errorf("get event %q of workflow %q: %w", key, workflowID, err)
	}
	step, rec, done, err := wf.nextStep(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("get event %q of workflow %q: %w", key, workflowID, err)
	}
	if done {
		return recordedValue(rec)
	}
	if err := e.flush(ctx, wf); err != nil {
		return nil, false, err
	}
	s := store.Step{WorkflowID: wf.id, StepID: step, Name: name, StartedAt: time.Now()}
	value, ok, err := e.awaitEvent(ctx, workflowID, key, deadline, func() error {
		if pending == nil || !time.Now().Before(deadline) {
			return nil
		}
		_, err := e.recordStep(ctx, wf, *pending, nil)
		pending = nil
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return e.recordNothing(ctx, wf, pending, s)
	}
	s.Output = value
	steps := []store.Step{s}
	if pending != nil {
		steps = []store.Step{*pending, s}
	}
	err = e.persist(ctx, "checkpoint steps", func(ctx context.Context) error {
		return e.store.RecordSteps(ctx, wf.id, steps, wf.owner)
	})
	if errors.Is(err, store.ErrFenced) {
		return nil, false, fmt.Errorf("get event %q of workflow %q: %w: it was cancelled or is run elsewhere now", key, workflowID, errStaleRun)
	}
	if err != nil {
		return nil, false, fmt.Errorf("get event %q of workflow %q: checkpoint: %w", key, workflowID, err)
	}
	return value, true, nil
}

// awaitEvent reads workflowID's event key until it is set or deadline
// passes (ok=false); before it first waits it calls waiting, if not nil.
func (e *Executor) awaitEvent(ctx context.Context, workflowID, key string, deadline time.Time, waiting func() error) (value []byte, ok bool, err error) {
	timedOut, err := e.waitFor(ctx, e.events, workflowID, deadline, func() (bool, error) {
		var found bool
		err := e.persist(ctx, "read event", func(ctx context.Context) (err error) {
			value, found, err = e.store.GetEvent(ctx, workflowID, key)
			return err
		})
		if err != nil || found {
			return found, err
		}
		if waiting != nil {
			err, waiting = waiting(), nil
		}
		return false, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("get event %q of workflow %q: %w", key, workflowID, err)
	}
	return value, !timedOut, nil
}
