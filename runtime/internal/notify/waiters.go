// Package notify carries the news of what a process committed: to other
// processes sharing a Postgres database (Notifier, by LISTEN/NOTIFY through
// the store), and to the goroutines of this process waiting for a workflow
// to finish (Waiters).
package notify

import (
	"sync"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Waiters wakes goroutines waiting for workflows to finish. A waiter
// subscribes before it reads the workflow's state, so a completion between
// the read and the wait is never missed.
type Waiters struct {
	mu   sync.Mutex
	byID map[string]*Entry
}

// Entry is one workflow's subscription, shared by its waiters.
type Entry struct {
	ch   chan struct{} // closed when the workflow may have finished
	refs int
	// outcome, when not nil (set before ch closes), is the workflow's
	// recorded end, known to whoever closed ch: no need to read it.
	outcome *store.Workflow
	// heard, when not nil (set before ch closes), is the end another
	// process's notification carried: only a Watch takes it (see Heard).
	heard *store.Workflow
}

// Done returns a channel closed when the workflow may have finished.
func (e *Entry) Done() <-chan struct{} { return e.ch }

// Outcome returns the workflow's recorded end, when whoever closed Done
// knew it (it finished in this process), or nil: read it.
func (e *Entry) Outcome() *store.Workflow { return e.outcome }

// NewWaiters returns an empty set of waiters.
func NewWaiters() *Waiters { return &Waiters{byID: map[string]*Entry{}} }

// Subscribe returns an entry whose channel closes at the next notify for
// id, and a function that releases the subscription.
func (w *Waiters) Subscribe(id string) (*Entry, func()) {
	w.mu.Lock()
	e := w.byID[id]
	if e == nil {
		e = &Entry{ch: make(chan struct{})}
		w.byID[id] = e
	}
	e.refs++
	w.mu.Unlock()
	return e, func() {
		w.mu.Lock()
		e.refs--
		if e.refs == 0 && w.byID[id] == e {
			delete(w.byID, id)
		}
		w.mu.Unlock()
	}
}

// Notify wakes every waiter of id.
func (w *Waiters) Notify(id string) { w.wake(id, nil, nil) }

// Finished wakes every waiter of id, handing them its recorded end, which
// outcome makes (called only when id has waiters), when outcome is not nil.
func (w *Waiters) Finished(id string, outcome func() *store.Workflow) { w.wake(id, outcome, nil) }

// Heard wakes every waiter of id, as Notify does, after another process's
// notification said the workflow ended with end (made only when id has
// waiters). Only a Watch takes that end without a read: it began before
// the workflow was created, so the first end it hears is the workflow's
// first end. A waiter that subscribed later reads, since a notification
// can arrive after the workflow was resumed.
func (w *Waiters) Heard(id string, end func() *store.Workflow) { w.wake(id, nil, end) }

// wake closes id's entry, if it has waiters, after setting its outcome
// and heard end from the functions given (nil: none).
func (w *Waiters) wake(id string, outcome, heard func() *store.Workflow) {
	w.mu.Lock()
	if e := w.byID[id]; e != nil {
		if outcome != nil {
			e.outcome = outcome()
		}
		if heard != nil {
			e.heard = heard()
		}
		close(e.ch)
		delete(w.byID, id)
	}
	w.mu.Unlock()
}

// NotifyAll wakes every waiter, after notifications may have been lost.
func (w *Waiters) NotifyAll() {
	w.mu.Lock()
	for id, e := range w.byID {
		close(e.ch)
		delete(w.byID, id)
	}
	w.mu.Unlock()
}

// Watch is a standing subscription to a workflow's end, taken by whoever
// created the workflow here (before its insert, so no end is missed), so
// that a workflow that finished in this process hands its outcome over
// without a read.
type Watch struct {
	entry   *Entry
	release func() // idempotent
}

// Watch subscribes to id's end until release.
func (w *Waiters) Watch(id string) *Watch {
	entry, release := w.Subscribe(id)
	return &Watch{entry: entry, release: sync.OnceFunc(release)}
}

// Release ends the subscription; it may be called more than once.
func (wt *Watch) Release() { wt.release() }

// Done is closed when the workflow's end, or a reason to read it again,
// is heard (see Waiters.Finished and Waiters.Notify).
func (wt *Watch) Done() <-chan struct{} { return wt.entry.ch }

// Finished returns the workflow's recorded end when it finished in this
// process or another process's notification carried it (see Heard), or
// nil (not finished, or its end unknown: read it).
func (wt *Watch) Finished() *store.Workflow {
	select {
	case <-wt.entry.ch:
		if wt.entry.outcome != nil {
			return wt.entry.outcome
		}
		return wt.entry.heard
	default:
		return nil
	}
}
