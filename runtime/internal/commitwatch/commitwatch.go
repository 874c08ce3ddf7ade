// Package commitwatch wakes this process's dispatchers when workflows
// enqueued in a caller's own transaction (EnqueueFTx) become visible, on a
// store without notifications (SQLite, or Postgres when the process does
// not listen): nothing else tells a local dispatcher of a commit made on
// another connection before its next poll. A Watcher looks for the rows
// with a short backoff, up to a horizon (the poll interval: past it the
// dispatcher's own poll finds a late commit as soon), and wakes the queue
// of each one it sees. A row whose transaction rolled back is dropped at
// the horizon.
package commitwatch

import (
	"context"
	"sync"
	"time"
)

// The backoff between two looks: it starts at minWait after an Add and
// doubles up to maxWait, so a commit right after the enqueue is seen
// within about a millisecond.
const (
	minWait = 100 * time.Microsecond
	maxWait = time.Millisecond
)

// Watcher watches rows until they are visible. Set the fields, then call
// Add from any goroutine; one goroutine runs while rows are watched.
type Watcher struct {
	// Visible reports whether workflow id is visible (committed). An
	// error counts as not yet.
	Visible func(ctx context.Context, id string) (bool, error)
	// Wake wakes the local dispatcher of queue.
	Wake func(queue string)
	// Horizon is how long a row is watched.
	Horizon time.Duration
	// Ctx stops the watcher when it is done.
	Ctx context.Context

	mu      sync.Mutex
	pending map[string]entry // workflow ID -> what to wake, until when
	running bool
	kick    chan struct{}
	onStop  func() // tests: called when the goroutine stops
}

type entry struct {
	queue string
	until time.Time
}

// Add watches workflow id, of queue, for Horizon from now.
func (w *Watcher) Add(id, queue string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending == nil {
		w.pending = make(map[string]entry)
		w.kick = make(chan struct{}, 1)
	}
	w.pending[id] = entry{queue: queue, until: time.Now().Add(w.Horizon)}
	if !w.running {
		w.running = true
		go w.run()
		return
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// run looks for the pending rows until none is left.
func (w *Watcher) run() {
	wait := minWait
	timer := time.NewTimer(wait)
	defer timer.Stop()
	if w.onStop != nil {
		defer w.onStop()
	}
	for {
		select {
		case <-w.Ctx.Done():
			w.mu.Lock()
			w.running = false
			clear(w.pending)
			w.mu.Unlock()
			return
		case <-w.kick:
			wait = minWait // a new row: look soon
			timer.Reset(wait)
			continue
		case <-timer.C:
		}
		if !w.look() {
			return
		}
		wait = min(2*wait, maxWait)
		timer.Reset(wait)
	}
}

// look checks every pending row once, waking the queues of those visible
// and dropping those past their horizon. It reports whether rows remain;
// when none does the watcher stops (under the lock, so that Add starts
// another).
func (w *Watcher) look() bool {
	w.mu.Lock()
	ids := make([]string, 0, len(w.pending))
	for id := range w.pending {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	now := time.Now()
	for _, id := range ids {
		ok, err := w.Visible(w.Ctx, id)
		w.mu.Lock()
		e, found := w.pending[id]
		switch {
		case !found:
		case ok && err == nil:
			delete(w.pending, id)
			w.mu.Unlock()
			w.Wake(e.queue)
			continue
		case now.After(e.until):
			delete(w.pending, id)
		}
		w.mu.Unlock()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		w.running = false
		return false
	}
	return true
}
