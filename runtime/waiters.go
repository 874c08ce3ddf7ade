package dbos

import "sync"

// waiters wakes goroutines waiting for workflows to finish. A waiter
// subscribes before it reads the workflow's state, so a completion between
// the read and the wait is never missed.
type waiters struct {
	mu   sync.Mutex
	byID map[string]*waitEntry
}

type waitEntry struct {
	ch   chan struct{} // closed when the workflow may have finished
	refs int
}

func (w *waiters) init() { w.byID = map[string]*waitEntry{} }

// subscribe returns a channel closed at the next notify for id, and a
// function that releases the subscription.
func (w *waiters) subscribe(id string) (<-chan struct{}, func()) {
	w.mu.Lock()
	e := w.byID[id]
	if e == nil {
		e = &waitEntry{ch: make(chan struct{})}
		w.byID[id] = e
	}
	e.refs++
	w.mu.Unlock()
	return e.ch, func() {
		w.mu.Lock()
		e.refs--
		if e.refs == 0 && w.byID[id] == e {
			delete(w.byID, id)
		}
		w.mu.Unlock()
	}
}

// notify wakes every waiter of id.
func (w *waiters) notify(id string) {
	w.mu.Lock()
	if e := w.byID[id]; e != nil {
		close(e.ch)
		delete(w.byID, id)
	}
	w.mu.Unlock()
}

// notifyAll wakes every waiter, after notifications may have been lost.
func (w *waiters) notifyAll() {
	w.mu.Lock()
	for id, e := range w.byID {
		close(e.ch)
		delete(w.byID, id)
	}
	w.mu.Unlock()
}
