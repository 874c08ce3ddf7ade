package storetest

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// eventTimeout bounds the wait for a notification.
const eventTimeout = 10 * time.Second

// awaitEvent reads ch until an event matching want arrives, ignoring others
// (other tests' notifications, resyncs), and fails if one of unwanted
// arrives first.
func awaitEvent(t *testing.T, ctx context.Context, ch <-chan store.Event, want store.Event, unwanted ...store.Event) {
	t.Helper()
	timer := time.NewTimer(eventTimeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("Events closed while waiting for %+v", want)
			}
			if ev == want {
				return
			}
			if slices.Contains(unwanted, ev) {
				t.Fatalf("got %+v, which must not arrive, while waiting for %+v", ev, want)
			}
		case <-timer.C:
			t.Fatalf("no event %+v within %v", want, eventTimeout)
		case <-ctx.Done():
			t.Fatalf("waiting for %+v: %v", want, ctx.Err())
		}
	}
}

func testEvents(t *testing.T, open Opener) {
	ctx := testContext(t)
	a, b := open(t), open(t) // two processes
	events := b.Events()
	if events == nil {
		if err := a.Notify(ctx, []store.Event{{Kind: store.EventEnqueued, Queue: "q"}}); err != nil {
			t.Errorf("Notify on engine %s without events = %v, want nil (a no-op)", a.Engine(), err)
		}
		t.Skipf("engine %s has no events", b.Engine())
	}
	queue := unique("q")
	w := enqueue(t, ctx, a, store.InsertParams{Queue: queue})
	notify(t, ctx, a, store.Event{Kind: store.EventEnqueued, Queue: queue})
	awaitEvent(t, ctx, events, store.Event{Kind: store.EventEnqueued, Queue: queue})

	res := claim(t, ctx, a, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 1})
	if len(res.Claimed) != 1 {
		t.Fatalf("claimed %d, want 1", len(res.Claimed))
	}
	complete(t, ctx, a, res.Claimed[0])
	// A workflow started without a queue completes with Queue "".
	direct, _, err := InsertOne(ctx, a, store.InsertParams{ID: unique("wf"), Name: "f", State: store.StatePending, ExecutorID: "e"})
	if err != nil {
		t.Fatal(err)
	}
	complete(t, ctx, a, direct)
	notify(t, ctx, a,
		store.Event{Kind: store.EventCompleted, Queue: queue, WorkflowID: w.ID},
		store.Event{Kind: store.EventCompleted, WorkflowID: direct.ID})
	awaitEvent(t, ctx, events, store.Event{Kind: store.EventCompleted, Queue: queue, WorkflowID: w.ID})
	awaitEvent(t, ctx, events, store.Event{Kind: store.EventCompleted, WorkflowID: direct.ID})

	// The process's own notifications are reported too, except its
	// completions: the completion notified before the enqueue must not
	// arrive ahead of it.
	own := unique("q")
	mine := store.Event{Kind: store.EventCompleted, Queue: own, WorkflowID: unique("wf")}
	notify(t, ctx, b, mine)
	notify(t, ctx, b, store.Event{Kind: store.EventEnqueued, Queue: own})
	awaitEvent(t, ctx, events, store.Event{Kind: store.EventEnqueued, Queue: own}, mine)

	notify(t, ctx, a, store.Event{Kind: store.EventResync})
	awaitEvent(t, ctx, events, store.Event{Kind: store.EventResync})
}

// testEventsNotFromWrites checks that the store's writes notify nobody: the
// notification of a Notify sent after them arrives with nothing before it.
func testEventsNotFromWrites(t *testing.T, open Opener) {
	ctx := testContext(t)
	a, b := open(t), open(t)
	events := b.Events()
	if events == nil {
		t.Skipf("engine %s has no events", b.Engine())
	}
	queue := unique("q")
	w := enqueue(t, ctx, a, store.InsertParams{Queue: queue})
	res := claim(t, ctx, a, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 1})
	if len(res.Claimed) != 1 {
		t.Fatalf("claimed %d, want 1", len(res.Claimed))
	}
	complete(t, ctx, a, res.Claimed[0])
	marker := unique("marker")
	notify(t, ctx, a, store.Event{Kind: store.EventEnqueued, Queue: marker})
	timer := time.NewTimer(eventTimeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("Events closed")
			}
			if ev.Queue == queue || ev.WorkflowID == w.ID {
				t.Fatalf("got %+v: the store's writes sent a notification", ev)
			}
			if ev.Queue == marker {
				return
			}
		case <-timer.C:
			t.Fatalf("no event for the marker within %v", eventTimeout)
		}
	}
}

// testNotifyBatch sends many events in one Notify, more than one payload
// holds: every one arrives, the enqueues once per queue.
func testNotifyBatch(t *testing.T, open Opener) {
	ctx := testContext(t)
	a, b := open(t), open(t)
	events := b.Events()
	if events == nil {
		t.Skipf("engine %s has no events", b.Engine())
	}
	const n = 600 // a few payloads of JSON, under the Events buffer
	queue := unique("q")
	want := map[store.Event]bool{}
	var evs []store.Event
	for i := range n {
		ev := store.Event{Kind: store.EventCompleted, Queue: queue, WorkflowID: unique(strings.Repeat("x", 40) + strconv.Itoa(i))}
		if i%3 == 0 {
			ev.Queue = "" // started without a queue
		}
		want[ev] = true
		evs = append(evs, ev, store.Event{Kind: store.EventEnqueued, Queue: queue})
	}
	want[store.Event{Kind: store.EventEnqueued, Queue: queue}] = true
	notify(t, ctx, a, evs...)
	enqueues := 0
	timer := time.NewTimer(eventTimeout)
	defer timer.Stop()
	for len(want) > 0 {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("Events closed")
			}
			if ev.Kind == store.EventResync {
				t.Fatal("EventResync: a payload was dropped or too long")
			}
			if ev.Kind == store.EventEnqueued && ev.Queue == queue {
				enqueues++
			}
			delete(want, ev)
		case <-timer.C:
			t.Fatalf("%d of the %d events did not arrive within %v", len(want), n+1, eventTimeout)
		}
	}
	if enqueues != 1 {
		t.Errorf("%d notifications of the enqueues on one queue, want 1", enqueues)
	}

	// An event too long for any payload arrives as a resync.
	notify(t, ctx, a, store.Event{Kind: store.EventCompleted, Queue: queue, WorkflowID: strings.Repeat("y", 9000)})
	awaitEvent(t, ctx, events, store.Event{Kind: store.EventResync})
}

func notify(t *testing.T, ctx context.Context, s store.Store, evs ...store.Event) {
	t.Helper()
	if err := s.Notify(ctx, evs); err != nil {
		t.Fatalf("Notify(%d events): %v", len(evs), err)
	}
}

func testEventsClose(t *testing.T, open Opener) {
	s := open(t)
	events := s.Events()
	if events == nil {
		t.Skipf("engine %s has no events", s.Engine())
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	timer := time.NewTimer(eventTimeout)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-timer.C:
			t.Fatal("Events still open after Close")
		}
	}
}
