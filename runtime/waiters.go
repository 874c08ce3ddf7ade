package dbos

import (
	"sync"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

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
	// outcome, when not nil (set before ch closes), is the workflow's
	// recorded end, known to whoever closed ch: no need to read it.
	outcome *store.Workflow
}

func (w *waiters) init() { w.byID = map[string]*waitEntry{} }

// subscribe returns an entry whose channel closes at the next notify for
// id, and a function that releases the subscription.
func (w *waiters) subscribe(id string) (*waitEntry, func()) {
	w.mu.Lock()
	e := w.byID[id]
	if e == nil {
		e = &waitEntry{ch: make(chan struct{})}
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

// notify wakes every waiter of id.
func (w *waiters) notify(id string) { w.finished(id, nil) }

// finished wakes every waiter of id, handing them its recorded end when
// outcome is not nil.
func (w *waiters) finished(id string, outcome *store.Workflow) {
	w.mu.Lock()
	if e := w.byID[id]; e != nil {
		e.outcome = outcome
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

// watch is a standing subscription to a workflow's end, taken by whoever
// created the workflow here (before its insert, so no end is missed), so
// that a workflow that finished in this process hands its outcome over
// without a read.
type watch struct {
	entry   *waitEntry
	release func() // idempotent
}

// watch subscribes to id's end until release.
func (w *waiters) watch(id string) *watch {
	entry, release := w.subscribe(id)
	return &watch{entry: entry, release: sync.OnceFunc(release)}
}

// finished returns the workflow's recorded end when it finished in this
// process, or nil (not finished, or finished elsewhere: read it).
func (wt *watch) finished() *store.Workflow {
	select {
	case <-wt.entry.ch:
		return wt.entry.outcome
	default:
		return nil
	}
}
