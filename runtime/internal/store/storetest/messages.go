package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// receive calls ReceiveMessage for step stepID of wf on topic.
func receive(t *testing.T, ctx context.Context, s store.Store, wf, topic string, stepID int, owner store.Owner, also ...store.Step) (store.Step, bool) {
	t.Helper()
	saved, received, err := s.ReceiveMessage(ctx, topic, store.Step{WorkflowID: wf, StepID: stepID, Name: "recv " + topic}, also, owner)
	if err != nil {
		t.Fatalf("ReceiveMessage(%s, step %d): %v", topic, stepID, err)
	}
	return saved, received
}

func send(t *testing.T, ctx context.Context, s store.Store, dest, topic, payload string) {
	t.Helper()
	if _, _, err := s.SendMessage(ctx, store.Message{DestinationID: dest, Topic: topic, Payload: []byte(payload)}, nil, store.Owner{}); err != nil {
		t.Fatalf("SendMessage(%s, %s): %v", dest, payload, err)
	}
}

// testMessagesInOrder: messages sent to a workflow, from any process, are
// received one by one in the order sent, per topic; a receive with none
// waiting writes nothing; a send to a missing workflow is ErrNotFound.
func testMessagesInOrder(t *testing.T, open Opener) {
	ctx := testContext(t)
	a, b := open(t), open(t)
	wf, owner := running(t, a)
	if _, received := receive(t, ctx, a, wf, "t", 1, owner); received {
		t.Fatal("ReceiveMessage with no message waiting received one")
	}
	if steps, _ := a.Steps(ctx, wf); len(steps) != 0 {
		t.Fatalf("ReceiveMessage with no message waiting recorded %+v", steps)
	}
	send(t, ctx, a, wf, "t", `"one"`)
	send(t, ctx, b, wf, "other", `"elsewhere"`)
	send(t, ctx, b, wf, "t", `"two"`)
	send(t, ctx, a, wf, "t", `"three"`)
	for i, want := range []string{`"one"`, `"two"`, `"three"`} {
		saved, received := receive(t, ctx, []store.Store{a, b}[i%2], wf, "t", i+1, owner)
		if !received || string(saved.Output) != want || saved.StepID != i+1 || saved.Name != "recv t" {
			t.Errorf("receive %d = %+v, %v; want %s", i+1, saved, received, want)
		}
	}
	if _, received := receive(t, ctx, a, wf, "t", 4, owner); received {
		t.Error("a fourth receive on t received a message; three were sent")
	}
	if saved, received := receive(t, ctx, a, wf, "other", 4, owner); !received || string(saved.Output) != `"elsewhere"` {
		t.Errorf("receive on another topic = %+v, %v", saved, received)
	}
	missing := unique("missing")
	if _, _, err := a.SendMessage(ctx, store.Message{DestinationID: missing, Topic: "t", Payload: []byte(`1`)}, nil, store.Owner{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SendMessage to a missing workflow: err = %v, want ErrNotFound", err)
	}
}

// testReceiveOnce: a receive records its step with the message in one
// transaction (and the steps it brings along); a second receive of the
// same step takes no other message and returns the recorded one; a stale
// run takes nothing.
func testReceiveOnce(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	wf, owner := running(t, s)
	send(t, ctx, s, wf, "t", `1`)
	send(t, ctx, s, wf, "t", `2`)
	deadline := store.Step{WorkflowID: wf, StepID: 1, Name: "deadline", Output: []byte(`"2026-01-01T00:00:00Z"`)}
	saved, received := receive(t, ctx, s, wf, "t", 2, owner, deadline)
	if !received || string(saved.Output) != `1` {
		t.Fatalf("first receive = %+v, %v", saved, received)
	}
	again, received := receive(t, ctx, s, wf, "t", 2, owner)
	if !received || string(again.Output) != `1` {
		t.Errorf("the same step received again = %+v, %v; want the recorded 1", again, received)
	}
	steps, err := s.Steps(ctx, wf)
	if err != nil || len(steps) != 2 || steps[0].Name != "deadline" || string(steps[1].Output) != `1` {
		t.Errorf("steps after the receives = %+v, %v; want the deadline and the message", steps, err)
	}
	stale := store.Owner{ExecutorID: owner.ExecutorID, Attempts: owner.Attempts - 1}
	if _, _, err := s.ReceiveMessage(ctx, "t", store.Step{WorkflowID: wf, StepID: 3, Name: "recv t"}, nil, stale); !errors.Is(err, store.ErrFenced) {
		t.Errorf("ReceiveMessage by a stale run: err = %v, want ErrFenced", err)
	}
	if saved, received := receive(t, ctx, s, wf, "t", 3, owner); !received || string(saved.Output) != `2` {
		t.Errorf("after a stale run's receive, the owner's = %+v, %v; want the message 2 still there", saved, received)
	}
}

// testSendFromWorkflow: a workflow's send records its step and the message
// in one transaction, once; a stale run sends nothing; a send to a missing
// workflow writes no step.
func testSendFromWorkflow(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	sender, owner := running(t, s)
	dest, destOwner := running(t, s)
	st := store.Step{WorkflowID: sender, StepID: 1, Name: "send t"}
	m := store.Message{DestinationID: dest, Topic: "t", Payload: []byte(`"hi"`)}
	if _, recorded, err := s.SendMessage(ctx, m, &st, owner); err != nil || !recorded {
		t.Fatalf("SendMessage from a workflow = recorded %v, %v", recorded, err)
	}
	if saved, recorded, err := s.SendMessage(ctx, m, &st, owner); err != nil || recorded || saved.Name != "send t" {
		t.Errorf("SendMessage replayed = %+v, recorded %v, %v; want the recorded step", saved, recorded, err)
	}
	stale := store.Owner{ExecutorID: "someone-else", Attempts: owner.Attempts}
	if _, _, err := s.SendMessage(ctx, m, &store.Step{WorkflowID: sender, StepID: 2, Name: "send t"}, stale); !errors.Is(err, store.ErrFenced) {
		t.Errorf("SendMessage from a stale run: err = %v, want ErrFenced", err)
	}
	missing := store.Message{DestinationID: unique("missing"), Topic: "t", Payload: []byte(`1`)}
	if _, _, err := s.SendMessage(ctx, missing, &store.Step{WorkflowID: sender, StepID: 3, Name: "send t"}, owner); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SendMessage from a workflow to a missing one: err = %v, want ErrNotFound", err)
	}
	if steps, err := s.Steps(ctx, sender); err != nil || len(steps) != 1 {
		t.Errorf("sender's steps = %+v, %v; want only the first send's", steps, err)
	}
	if saved, received := receive(t, ctx, s, dest, "t", 1, destOwner); !received || string(saved.Output) != `"hi"` {
		t.Errorf("receive = %+v, %v; want the one message", saved, received)
	}
	if _, received := receive(t, ctx, s, dest, "t", 2, destOwner); received {
		t.Error("a replayed or stale send sent a second message")
	}
}

// testEventsLatest: an unset event is not found; SetEvent sets it with its
// step; the latest set wins; a replayed set changes nothing; a stale run
// sets nothing.
func testEventsLatest(t *testing.T, open Opener) {
	ctx := testContext(t)
	a, b := open(t), open(t)
	wf, owner := running(t, a)
	if _, found, err := b.GetEvent(ctx, wf, "k"); err != nil || found {
		t.Fatalf("GetEvent of an unset key = found %v, %v", found, err)
	}
	if _, found, err := b.GetEvent(ctx, unique("missing"), "k"); err != nil || found {
		t.Fatalf("GetEvent of a missing workflow = found %v, %v; want not found, no error", found, err)
	}
	set := func(step int, value string, o store.Owner) (store.Step, bool, error) {
		return a.SetEvent(ctx, "k", []byte(value), store.Step{WorkflowID: wf, StepID: step, Name: "set k", Output: []byte(value)}, o)
	}
	if _, recorded, err := set(1, `1`, owner); err != nil || !recorded {
		t.Fatalf("SetEvent = recorded %v, %v", recorded, err)
	}
	if v, found, err := b.GetEvent(ctx, wf, "k"); err != nil || !found || string(v) != `1` {
		t.Errorf("GetEvent after a set = %s, %v, %v; want 1", v, found, err)
	}
	if _, recorded, err := set(2, `2`, owner); err != nil || !recorded {
		t.Fatalf("second SetEvent = recorded %v, %v", recorded, err)
	}
	if saved, recorded, err := set(1, `3`, owner); err != nil || recorded || string(saved.Output) != `1` {
		t.Errorf("a replayed SetEvent = %+v, recorded %v, %v; want step 1 as recorded", saved, recorded, err)
	}
	if _, _, err := set(3, `4`, store.Owner{ExecutorID: "someone-else", Attempts: owner.Attempts}); !errors.Is(err, store.ErrFenced) {
		t.Errorf("SetEvent by a stale run: err = %v, want ErrFenced", err)
	}
	if v, found, err := b.GetEvent(ctx, wf, "k"); err != nil || !found || string(v) != `2` {
		t.Errorf("GetEvent = %s, %v, %v; want the latest set, 2", v, found, err)
	}
	if _, found, _ := b.GetEvent(ctx, wf, "other"); found {
		t.Error("GetEvent of another key found a value")
	}
}

// testDeleteTakesMessagesAndEvents: deleting a workflow (DeleteWorkflows,
// DeleteExpired) deletes its waiting messages and its events.
func testDeleteTakesMessagesAndEvents(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	for _, how := range []string{"DeleteWorkflows", "DeleteExpired"} {
		name := unique("pkg.Messaging")
		w := runningNamed(t, s, name)
		owner := store.Owner{ExecutorID: w.ExecutorID, Attempts: w.Attempts}
		send(t, ctx, s, w.ID, "t", `1`)
		if _, _, err := s.SetEvent(ctx, "k", []byte(`1`), store.Step{WorkflowID: w.ID, StepID: 1, Name: "set k"}, owner); err != nil {
			t.Fatal(err)
		}
		complete(t, ctx, s, w)
		if how == "DeleteWorkflows" {
			if n := deleteWorkflows(t, s, store.ListFilter{Name: name}, 0); n != 1 {
				t.Fatalf("DeleteWorkflows deleted %d, want 1", n)
			}
		} else {
			// Until it is old enough (a millisecond by the database's
			// clock) and this process is the sweeper.
			for {
				if _, err := s.GetWorkflow(ctx, w.ID); errors.Is(err, store.ErrNotFound) {
					break
				}
				if _, _, err := s.DeleteExpired(ctx, store.ExpireParams{Retention: time.Millisecond, ExecutorID: unique("sweeper")}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, found, err := s.GetEvent(ctx, w.ID, "k"); err != nil || found {
			t.Errorf("%s: the deleted workflow's event is still there (%v)", how, err)
		}
		// A new workflow under the deleted one's ID finds no old message.
		again, _, err := InsertOne(ctx, s, store.InsertParams{ID: w.ID, Name: name, State: store.StatePending, ExecutorID: w.ExecutorID})
		if err != nil {
			t.Fatal(err)
		}
		if saved, received := receive(t, ctx, s, w.ID, "t", 1, store.Owner{ExecutorID: again.ExecutorID, Attempts: again.Attempts}); received {
			t.Errorf("%s: a message to the deleted workflow is still there: %+v", how, saved)
		}
	}
}

// testMessageEvents: EventMessage and EventSet travel between processes,
// with their workflow IDs.
func testMessageEvents(t *testing.T, open Opener) {
	ctx := testContext(t)
	a, b := open(t), open(t)
	events := b.Events()
	if events == nil {
		t.Skipf("engine %s has no events", b.Engine())
	}
	id := unique("wf")
	notify(t, ctx, a, store.Event{Kind: store.EventMessage, WorkflowID: id}, store.Event{Kind: store.EventSet, WorkflowID: id})
	awaitEvent(t, ctx, events, store.Event{Kind: store.EventMessage, WorkflowID: id})
	awaitEvent(t, ctx, events, store.Event{Kind: store.EventSet, WorkflowID: id})
}
