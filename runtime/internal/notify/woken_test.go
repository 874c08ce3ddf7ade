package notify

import (
	"log/slog"
	"testing"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// TestNotifierMessagesAndSets: messages sent to a workflow and events it
// set travel with the next Notify, once per workflow and kind however many
// there were.
func TestNotifierMessagesAndSets(t *testing.T) {
	st := &notifyStore{events: make(chan store.Event), block: make(chan struct{})}
	n := New(st, slog.New(slog.DiscardHandler))
	n.Enqueued("q")
	testdb.WaitFor(t, "the first Notify", func() bool { return len(st.sent()) == 1 })
	for range 3 {
		n.Message("wf1")
		n.EventSet("wf1")
		n.Message("wf2")
	}
	st.mu.Lock()
	close(st.block)
	st.block = nil
	st.mu.Unlock()
	n.Close()
	calls := st.sent()
	if len(calls) != 2 {
		t.Fatalf("%d Notify calls, want 2: %v", len(calls), calls)
	}
	got := map[store.Event]int{}
	for _, ev := range calls[1] {
		got[ev]++
	}
	want := map[store.Event]int{
		{Kind: store.EventMessage, WorkflowID: "wf1"}: 1,
		{Kind: store.EventSet, WorkflowID: "wf1"}:     1,
		{Kind: store.EventMessage, WorkflowID: "wf2"}: 1,
	}
	if len(got) != len(want) || len(calls[1]) != len(want) {
		t.Fatalf("second call %v, want %v once each", calls[1], want)
	}
	for ev := range want {
		if got[ev] != 1 {
			t.Errorf("second call %v: %+v sent %d times, want once", calls[1], ev, got[ev])
		}
	}
}
