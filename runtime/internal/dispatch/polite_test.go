package dispatch

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/dbosgen/dbosgen/runtime/internal/notify"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// scriptedStore answers Claim from a script and records the claims and
// notifications; the rest of store.Store is not called.
type scriptedStore struct {
	store.Store
	mu       sync.Mutex
	answers  []store.ClaimResult
	claims   []store.ClaimParams
	notified []store.Event
	events   chan store.Event
}

func (s *scriptedStore) Claim(_ context.Context, p store.ClaimParams) (store.ClaimResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims = append(s.claims, p)
	res := s.answers[0]
	s.answers = s.answers[1:]
	return res, nil
}

func (s *scriptedStore) Notify(_ context.Context, evs []store.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notified = append(s.notified, evs...)
	return nil
}

func (s *scriptedStore) Events() <-chan store.Event { return s.events }

// TestPoliteClaims: only a wake by another process's enqueue (Heard) makes
// the next claim polite; a polite claim that fills its batch tells the
// other processes (they may have given way to it) and claims on; one that
// gives way ends the round without marking the queue drained.
func TestPoliteClaims(t *testing.T) {
	st := &scriptedStore{events: make(chan store.Event)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n := notify.New(st, log)
	started := 0
	env := &Env{
		Store: st, ExecutorID: "e", Log: log, Ctx: context.Background(),
		Stop: make(chan struct{}), Stopping: func() bool { return false }, Notifier: n,
		Start: func(store.Workflow, *Dispatcher) { started++ },
	}
	d := newDispatcher(env, store.QueueConfig{Name: "q", WorkerConcurrency: 2})

	d.Heard()
	<-d.wakeCh
	if !d.politeWake() {
		t.Error("a wake by Heard alone: the claim is not polite")
	}
	d.Heard()
	d.Wake()
	<-d.wakeCh
	if d.politeWake() {
		t.Error("a wake by Heard and Wake: the claim is polite")
	}

	cfg := store.QueueConfig{Name: "q", WorkerConcurrency: 2} // what each claim reports applying
	st.answers = []store.ClaimResult{
		{Claimed: []store.Workflow{{ID: "a"}, {ID: "b"}}, Config: cfg}, // a full batch: the local limit's 2
		{GaveWay: true, Config: cfg},
	}
	d.claim(true)
	d.running.Add(-2) // a and b finished: room for the second claim
	d.claim(true)
	n.Close() // sends what is pending
	if started != 2 {
		t.Errorf("%d tasks started, want 2", started)
	}
	if len(st.claims) != 2 || !st.claims[0].Polite || !st.claims[1].Polite {
		t.Errorf("claims %+v, want two polite ones", st.claims)
	}
	if want := (store.Event{Kind: store.EventEnqueued, Queue: "q"}); len(st.notified) != 1 || st.notified[0] != want {
		t.Errorf("notified %v after a polite claim filled its batch, want %v", st.notified, want)
	}
	if d.Drained() {
		t.Error("drained after a claim that gave way")
	}
}
