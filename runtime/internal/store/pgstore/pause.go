package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
)

// SetQueuePaused pauses or resumes a queue (see store.Store), in one
// transaction holding the queue's lock (LockQueue): a limited claim reads
// the flag either before or after the change, and a pause waits for the
// queue's enqueues and limited claims in flight. Unlimited claims take no
// lock: each reads the flag in its own statement.
func (s *Store) SetQueuePaused(ctx context.Context, name string, paused bool) (was, declared bool, err error) {
	if name == "" {
		return false, false, errors.New("pause queue: empty queue name")
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockQueue(ctx, name); err != nil {
			return fmt.Errorf("lock queue: %w", err)
		}
		row, err := q.GetQueue(ctx, name)
		switch {
		case err == nil:
			was, declared = row.Paused, row.DeclaredBy != ""
		case !isNoRows(err):
			return fmt.Errorf("read queue: %w", err)
		}
		if paused {
			return q.PauseQueue(ctx, name)
		}
		return q.UnpauseQueue(ctx, name)
	})
	if err != nil {
		verb := "resume"
		if paused {
			verb = "pause"
		}
		return false, false, fmt.Errorf("%s queue %q: %w", verb, name, err)
	}
	return was, declared, nil
}

// ListQueues returns every queue with a row or unfinished workflows (see
// store.Store), in one statement.
func (s *Store) ListQueues(ctx context.Context) ([]store.QueueInfo, error) {
	rows, err := s.q.ListQueues(ctx)
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	out := make([]store.QueueInfo, len(rows))
	for i, r := range rows {
		out[i] = storekit.QueueInfo(storekit.Config(r.Name, r.Concurrency, r.WorkerConcurrency, r.RateLimit, r.RatePeriodMs, r.PartitionConcurrency, r.PartitionRateLimit, r.PartitionRatePeriodMs),
			r.Paused, r.DeclaredBy, r.DeclaredMs, r.Enqueued, r.Running, r.StartedLastMinute, r.StartedInRatePeriod)
	}
	return out, nil
}
