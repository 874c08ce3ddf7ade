package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// notifyStore is a store.Store whose Notify records its calls; only Events
// and Notify may be called.
type notifyStore struct {
	store.Store
	events chan store.Event

	mu      sync.Mutex
	calls   [][]store.Event
	block   chan struct{} // when not nil, Notify waits for it to close
	failing bool
}

func (s *notifyStore) Events() <-chan store.Event { return s.events }

func (s *notifyStore) Notify(_ context.Context, evs []store.Event) error {
	s.mu.Lock()
	block, failing := s.block, s.failing
	s.calls = append(s.calls, evs)
	s.mu.Unlock()
	if block != nil {
		<-block
	}
	if failing {
		return errors.New("database down")
	}
	return nil
}

func (s *notifyStore) sent() [][]store.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]store.Event(nil), s.calls...)
}

// TestNotifierBatches: the events that arrive while a Notify is in flight
// go together in the next one, enqueues once per queue, completions in
// order; close sends what is left.
func TestNotifierBatches(t *testing.T) {
	st := &notifyStore{events: make(chan store.Event), block: make(chan struct{})}
	n := New(st, slog.New(slog.DiscardHandler))
	n.Enqueued("q1")
	testdb.WaitFor(t, "the first Notify", func() bool { return len(st.sent()) == 1 })
	for i := range 5 {
		n.Enqueued("q2")
		n.Completed("q2", fmt.Sprint("wf", i))
	}
	n.Hungry("q3")
	st.mu.Lock()
	close(st.block)
	st.block = nil
	st.mu.Unlock()
	testdb.WaitFor(t, "the second Notify", func() bool { return len(st.sent()) == 2 })
	n.Completed("", "last")
	n.Close()
	calls := st.sent()
	if len(calls) != 3 {
		t.Fatalf("%d Notify calls, want 3: %v", len(calls), calls)
	}
	if fmt.Sprint(calls[0]) != fmt.Sprint([]store.Event{{Kind: store.EventEnqueued, Queue: "q1"}}) {
		t.Errorf("first call %v", calls[0])
	}
	second := map[store.Event]int{}
	var order []string
	for _, ev := range calls[1] {
		second[store.Event{Kind: ev.Kind, Queue: ev.Queue}]++
		if ev.Kind == store.EventCompleted {
			order = append(order, ev.WorkflowID)
		}
	}
	if second[store.Event{Kind: store.EventEnqueued, Queue: "q2"}] != 1 || second[store.Event{Kind: store.EventHungry, Queue: "q3"}] != 1 ||
		fmt.Sprint(order) != "[wf0 wf1 wf2 wf3 wf4]" || len(calls[1]) != 7 {
		t.Errorf("second call %v: want q2 enqueued once, q3 hungry once, wf0..wf4 completed in order", calls[1])
	}
	if fmt.Sprint(calls[2]) != fmt.Sprint([]store.Event{{Kind: store.EventCompleted, WorkflowID: "last"}}) {
		t.Errorf("the call of close %v", calls[2])
	}
	if !n.HungerEcho("q3") || n.HungerEcho("q3") {
		t.Error("hungerEcho: want true once for this process's hunger")
	}
}

// TestNotifierCollapsesAndRecovers: more pending completions than
// maxPendingEvents become one resync, and so do the events of a failed
// Notify.
func TestNotifierCollapsesAndRecovers(t *testing.T) {
	st := &notifyStore{events: make(chan store.Event), block: make(chan struct{})}
	n := New(st, slog.New(slog.DiscardHandler))
	n.Enqueued("q")
	testdb.WaitFor(t, "the first Notify", func() bool { return len(st.sent()) == 1 })
	for i := range maxPendingEvents + 10 {
		n.Completed("q", fmt.Sprint("wf", i))
	}
	st.mu.Lock()
	close(st.block)
	st.block, st.failing = nil, true
	st.mu.Unlock()
	testdb.WaitFor(t, "the collapsed Notify", func() bool { return len(st.sent()) >= 2 })
	if got := st.sent()[1]; fmt.Sprint(got) != fmt.Sprint([]store.Event{{Kind: store.EventResync}}) {
		t.Errorf("after %d completions: %.200v, want one resync", maxPendingEvents+10, got)
	}
	// That Notify failed: the next one (after a pause) is a resync again.
	st.mu.Lock()
	st.failing = false
	st.mu.Unlock()
	n.Completed("q", "after")
	testdb.WaitFor(t, "the Notify after the failure", func() bool { return len(st.sent()) >= 3 })
	n.Close()
	if got := st.sent()[2]; fmt.Sprint(got) != fmt.Sprint([]store.Event{{Kind: store.EventResync}}) {
		t.Errorf("after a failed Notify: %v, want one resync", got)
	}
}
