// Package outage logs a stretch of failures once: a warning when the first
// failure begins it, another with its length and the number of failures
// when the first success ends it, and nothing in between (at Debug) or
// while all is well. The executor uses one for the database calls running
// work retries; the Postgres store for its LISTEN connection and for
// waits for a free connection slot.
package outage

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Tracker tracks one kind of outage. Set its fields before first use; the
// zero messages give the executor's wording (a database call of running
// work failed).
type Tracker struct {
	// Begin is logged (Warn) at the first failure, with "call", "err" and
	// "wait"; End (Warn) at the first success after, with "outage" (its
	// length) and "failed_calls".
	Begin, End string

	active atomic.Bool // a call failed and none has succeeded since

	mu       sync.Mutex
	since    time.Time
	failures int
}

// Default messages, those of the executor's retried database calls.
const (
	DefaultBegin = "dbos: database call failed; running work waits and retries until the database answers"
	DefaultEnd   = "dbos: database answers again; running work goes on"
)

// Failed notes a failed call; the first failure of an outage is logged.
func (o *Tracker) Failed(log *slog.Logger, what string, err error, wait time.Duration) {
	o.mu.Lock()
	first := !o.active.Load()
	if first {
		o.since = time.Now()
		o.failures = 0
		o.active.Store(true)
	}
	o.failures++
	o.mu.Unlock()
	if first {
		log.Warn(cmpOr(o.Begin, DefaultBegin), "call", what, "err", err, "wait", wait)
		return
	}
	log.Debug("dbos: call failed again; retrying", "call", what, "err", err, "wait", wait)
}

// Succeeded notes a call that went through; after failures it logs the
// end of the outage. Without one it costs an atomic load.
func (o *Tracker) Succeeded(log *slog.Logger) {
	if !o.active.Load() {
		return
	}
	o.mu.Lock()
	if !o.active.Load() {
		o.mu.Unlock()
		return
	}
	o.active.Store(false)
	lasted, failures := time.Since(o.since), o.failures
	o.mu.Unlock()
	log.Warn(cmpOr(o.End, DefaultEnd), "outage", lasted.Round(time.Millisecond), "failed_calls", failures)
}

// Active reports whether an outage is going on.
func (o *Tracker) Active() bool { return o.active.Load() }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
