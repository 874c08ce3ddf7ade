// Package retention deletes the workflows that finished longer ago than
// the runtime's Config.Retention: a sweeper per executor, of which at most
// one sweeps at a time among the processes sharing the database (the store
// elects it, see store.Store.DeleteExpired). A sweep deletes in short
// transactions of a bounded number of workflows, which take no queue's
// lock, so claims never wait for it; it never deletes unfinished work, nor
// the finished children of a workflow still running.
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

const (
	// MaxInterval is the longest time between two sweeps of a process.
	MaxInterval = time.Minute
	// MinInterval is the shortest: a tiny retention does not make the
	// processes sweep without pause.
	MinInterval = 100 * time.Millisecond
)

// Interval returns how often a process sweeps with retention r: every r,
// but at least every MaxInterval and at most every MinInterval.
func Interval(r time.Duration) time.Duration {
	return min(max(r, MinInterval), MaxInterval)
}

// Sweeper sweeps for one executor.
type Sweeper struct {
	Store      store.Store
	ExecutorID string
	// Retention is how long finished workflows are kept (positive).
	Retention time.Duration
	Log       *slog.Logger
}

// Run sweeps at once, then every Interval(Retention), until stop closes;
// closing stop also interrupts a sweep (between or within its batches).
func (s *Sweeper) Run(stop <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	every := Interval(s.Retention)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.sweep(ctx)
		t.Reset(every)
	}
}

// sweep deletes what expired, if this process is the sweeper now.
func (s *Sweeper) sweep(ctx context.Context) {
	began := time.Now()
	n, swept, err := s.Store.DeleteExpired(ctx, store.ExpireParams{Retention: s.Retention, ExecutorID: s.ExecutorID})
	switch {
	case err != nil && ctx.Err() != nil:
		// Shutdown interrupted the sweep; what it deleted stays deleted.
	case err != nil:
		s.Log.Warn("dbos: retention sweep failed; retrying at the next sweep", "deleted", n, "err", err)
	case swept && n > 0:
		s.Log.Info("dbos: retention deleted finished workflows", "deleted", n, "retention", s.Retention.String(), "took", time.Since(began).Round(time.Millisecond).String())
	}
}
