package commitwatch

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rows are the committed rows a fake store shows.
type rows struct {
	mu      sync.Mutex
	visible map[string]bool
	looks   atomic.Int64
}

func (r *rows) commit(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.visible[id] = true
}

func (r *rows) Visible(_ context.Context, id string) (bool, error) {
	r.looks.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.visible[id], nil
}

func newWatcher(t *testing.T, r *rows, horizon time.Duration) (*Watcher, <-chan string) {
	woken := make(chan string, 10)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stops := make(chan struct{}, 10)
	w := &Watcher{Visible: r.Visible, Wake: func(q string) { woken <- q }, Horizon: horizon, Ctx: ctx, onStop: func() { stops <- struct{}{} }}
	stopped[w] = stops
	return w, woken
}

// stopped holds each test watcher's stops.
var stopped = map[*Watcher]chan struct{}{}

// TestWakesAtCommit: a row committed after Add wakes its queue, once.
func TestWakesAtCommit(t *testing.T) {
	r := &rows{visible: map[string]bool{}}
	w, woken := newWatcher(t, r, time.Minute)
	w.Add("a", "qa")
	w.Add("b", "qb")
	r.commit("b")
	if q := <-woken; q != "qb" {
		t.Fatalf("woke %q, want qb", q)
	}
	r.commit("a")
	if q := <-woken; q != "qa" {
		t.Fatalf("woke %q, want qa", q)
	}
	<-stopped[w] // it stops once no row is left
	select {
	case q := <-woken:
		t.Errorf("woke %q again", q)
	default:
	}
}

// TestDropsAtHorizon: a row never committed (rolled back) is dropped at
// the horizon, and the watcher stops looking.
func TestDropsAtHorizon(t *testing.T) {
	r := &rows{visible: map[string]bool{}}
	w, woken := newWatcher(t, r, 20*time.Millisecond)
	w.Add("rolled-back", "q")
	<-stopped[w] // it stops once no row is left
	looks := r.looks.Load()
	if looks == 0 {
		t.Error("the watcher never looked")
	}
	select {
	case q := <-woken:
		t.Errorf("woke %q for a row that never showed", q)
	default:
	}
	// A later Add starts it again.
	w.Add("c", "qc")
	r.commit("c")
	if q := <-woken; q != "qc" {
		t.Fatalf("woke %q, want qc", q)
	}
}
