package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore/sqlitedb"
)

// Claim moves ready ENQUEUED workflows of a queue to PENDING for
// p.ExecutorID, honouring the limits. It runs in one IMMEDIATE transaction,
// which holds the file's write lock from its start: the clock, the counts
// the limits need and the claim itself are read and written with every other
// writer (of any process) excluded.
//
// Once started, a claim runs detached from ctx's cancellation so that it is
// either committed and returned or rolled back.
func (s *Store) Claim(ctx context.Context, p store.ClaimParams) (store.ClaimResult, error) {
	if err := storekit.ValidateClaim(p); err != nil {
		return store.ClaimResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.ClaimResult{}, fmt.Errorf("claim from queue %q: %w", p.Queue, err)
	}
	// Look first without the write lock: when the limits leave no room or
	// nothing is ready, the answer needs no lock, and idle pollers of other
	// processes stay out of the way of the writers that have work to do.
	if res, idle, err := s.peek(ctx, p); err != nil {
		return store.ClaimResult{}, fmt.Errorf("claim from queue %q: %w", p.Queue, err)
	} else if idle {
		return res, nil
	}
	ctx, cancel := storekit.Detach(ctx)
	defer cancel()
	var res store.ClaimResult
	err := s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) error {
		l, err := q.QueueLoad(ctx, sqlitedb.QueueLoadParams{
			QueueName:  p.Queue,
			ExecutorID: p.ExecutorID,
			PeriodMs:   storekit.Millis(p.RatePeriod),
		})
		if err != nil {
			return fmt.Errorf("count running and recent workflows: %w", err)
		}
		load := storekit.Load{
			NowMs:          l.NowMs,
			Pending:        l.Pending,
			PendingHere:    l.PendingHere,
			WindowStarts:   l.WindowStarts,
			WindowOldestMs: l.WindowOldestMs,
		}
		var rows []sqlitedb.Workflow
		if n := storekit.Room(p, load); n > 0 {
			if rows, err = claimReady(ctx, q, p, load.NowMs, n); err != nil {
				return err
			}
		}
		res = store.ClaimResult{Claimed: workflows(rows)}
		storekit.SortFIFO(res.Claimed)
		if storekit.NeedBacklog(p, load, len(rows)) {
			b, err := backlog(ctx, q, p, load.NowMs)
			if err != nil {
				return fmt.Errorf("read backlog: %w", err)
			}
			res.RetryAt = storekit.RetryAt(p, load, len(rows), b)
		}
		return nil
	})
	if err != nil {
		return store.ClaimResult{}, fmt.Errorf("claim from queue %q: %w", p.Queue, err)
	}
	return res, nil
}

// peek reads, without locking, whether a claim could take anything now. When
// it could not (idle=true) res is what the claim would return: nothing, and
// the RetryAt of that moment.
func (s *Store) peek(ctx context.Context, p store.ClaimParams) (res store.ClaimResult, idle bool, err error) {
	l, err := s.q.QueueLoad(ctx, sqlitedb.QueueLoadParams{
		QueueName:  p.Queue,
		ExecutorID: p.ExecutorID,
		PeriodMs:   storekit.Millis(p.RatePeriod),
	})
	if err != nil {
		return res, false, fmt.Errorf("count running and recent workflows: %w", err)
	}
	load := storekit.Load{
		NowMs:          l.NowMs,
		Pending:        l.Pending,
		PendingHere:    l.PendingHere,
		WindowStarts:   l.WindowStarts,
		WindowOldestMs: l.WindowOldestMs,
	}
	if storekit.Room(p, load) == 0 && !storekit.NeedBacklog(p, load, 0) {
		return res, true, nil // a concurrency limit is full
	}
	b, err := backlog(ctx, s.q, p, load.NowMs)
	if err != nil {
		return res, false, fmt.Errorf("read backlog: %w", err)
	}
	if storekit.Room(p, load) > 0 && b.Ready {
		return res, false, nil // worth locking
	}
	return store.ClaimResult{RetryAt: storekit.RetryAt(p, load, 0, b)}, true, nil
}

// claimReady claims up to n ready rows at nowMs, within the partition limits
// if any.
func claimReady(ctx context.Context, q *sqlitedb.Queries, p store.ClaimParams, nowMs int64, n int) ([]sqlitedb.Workflow, error) {
	if !storekit.Partitioned(p) {
		return q.ClaimReady(ctx, sqlitedb.ClaimReadyParams{
			ExecutorID: p.ExecutorID,
			NowMs:      nowMs,
			QueueName:  p.Queue,
			MaxRows:    int64(n),
		})
	}
	ids, err := q.PickPartitioned(ctx, sqlitedb.PickPartitionedParams{
		MaxRows:              int64(n),
		NowMs:                nowMs,
		PartitionConcurrency: int64(p.PartitionConcurrency),
		PartitionRateLimit:   int64(p.PartitionRateLimit),
		PartitionPeriodMs:    storekit.Millis(p.PartitionRatePeriod),
		QueueName:            p.Queue,
	})
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	return q.ClaimIDs(ctx, sqlitedb.ClaimIDsParams{ExecutorID: p.ExecutorID, NowMs: nowMs, Ids: ids})
}

// backlog reads what is left in the queue at nowMs, under the claim's
// partition limits if any.
func backlog(ctx context.Context, q *sqlitedb.Queries, p store.ClaimParams, nowMs int64) (storekit.Backlog, error) {
	if storekit.Partitioned(p) {
		b, err := q.PartitionBacklog(ctx, sqlitedb.PartitionBacklogParams{
			QueueName:            p.Queue,
			NowMs:                nowMs,
			PartitionConcurrency: int64(p.PartitionConcurrency),
			PartitionRateLimit:   int64(p.PartitionRateLimit),
			PartitionPeriodMs:    storekit.Millis(p.PartitionRatePeriod),
		})
		return storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs, PartitionFreeMs: b.PartitionFreeMs}, err
	}
	b, err := q.QueueBacklog(ctx, sqlitedb.QueueBacklogParams{QueueName: p.Queue, NowMs: nowMs})
	return storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs}, err
}
