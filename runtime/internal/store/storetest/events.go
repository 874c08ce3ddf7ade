package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// eventTimeout bounds the wait for a notification.
const eventTimeout = 10 * time.Second

// awaitEvent reads ch until an event matching want arrives, ignoring others
// (other tests' notifications, resyncs).
func awaitEvent(t *testing.T, ctx context.Context, ch <-chan store.Event, want store.Event) {
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
		t.Skipf("engine %s has no events", b.Engine())
	}
	queue := unique("q")
	w := enqueue(t, ctx, a, store.InsertParams{Queue: queue})
	awaitEvent(t, ctx, events, store.Event{Kind: store.EventEnqueued, Queue: queue})

	res := claim(t, ctx, a, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 1})
	if len(res.Claimed) != 1 {
		t.Fatalf("claimed %d, want 1", len(res.Claimed))
	}
	complete(t, ctx, a, res.Claimed[0])
	awaitEvent(t, ctx, events, store.Event{Kind: store.EventCompleted, Queue: queue, WorkflowID: w.ID})

	// A workflow started without a queue completes with Queue "".
	direct, _, err := a.InsertWorkflow(ctx, store.InsertParams{ID: unique("wf"), Name: "f", State: store.StatePending, ExecutorID: "e"})
	if err != nil {
		t.Fatal(err)
	}
	complete(t, ctx, a, direct)
	awaitEvent(t, ctx, events, store.Event{Kind: store.EventCompleted, WorkflowID: direct.ID})

	// The process's own changes are reported too.
	own := unique("q")
	enqueue(t, ctx, b, store.InsertParams{Queue: own})
	awaitEvent(t, ctx, events, store.Event{Kind: store.EventEnqueued, Queue: own})
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
