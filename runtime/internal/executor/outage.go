package executor

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// outage tracks the database calls that running work retries (persist), so
// that an outage is logged twice, when it begins and when it ends, however
// many calls wait through it.
type outage struct {
	active atomic.Bool // a retried call failed and none has succeeded since

	mu       sync.Mutex
	since    time.Time
	failures int
}

// failed notes a failed call; the first failure of an outage is logged.
func (o *outage) failed(log *slog.Logger, what string, err error, wait time.Duration) {
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
		log.Warn("dbos: database call failed; running work waits and retries until the database answers", "call", what, "err", err, "wait", wait)
		return
	}
	log.Debug("dbos: database call failed; retrying", "call", what, "err", err, "wait", wait)
}

// succeeded notes a call that went through; after failures it logs the
// end of the outage. Without one it costs an atomic load.
func (o *outage) succeeded(log *slog.Logger) {
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
	log.Warn("dbos: database answers again; running work goes on", "outage", lasted.Round(time.Millisecond), "failed_calls", failures)
}
