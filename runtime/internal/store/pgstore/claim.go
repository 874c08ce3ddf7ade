package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

// Claim moves ready ENQUEUED workflows of a queue to PENDING for
// p.ExecutorID, honouring the limits.
//
// A queue without limits is claimed in one statement (FOR UPDATE SKIP
// LOCKED), so concurrent claimers take disjoint batches without waiting. A
// queue with any limit is claimed in one transaction that first takes an
// advisory lock derived from the queue name, then reads the database clock
// and the counts the limits need, then claims what they leave room for,
// waiting on (not skipping) row locks so the order stays strict. Partition
// limits rank each partition's ready rows and keep those within the
// partition's room.
//
// Once it holds its locks, a claim runs detached from ctx's cancellation so
// that the rows it locked are either claimed and returned or left untouched.
func (s *Store) Claim(ctx context.Context, p store.ClaimParams) (store.ClaimResult, error) {
	if err := storekit.ValidateClaim(p); err != nil {
		return store.ClaimResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.ClaimResult{}, fmt.Errorf("claim from queue %q: %w", p.Queue, err)
	}
	detached, cancel := storekit.Detach(ctx)
	defer cancel()
	var (
		res store.ClaimResult
		err error
	)
	if storekit.Limited(p) {
		res, err = s.claimLimited(ctx, detached, p)
	} else {
		res, err = s.claimUnlimited(detached, p)
	}
	if err != nil {
		return store.ClaimResult{}, fmt.Errorf("claim from queue %q: %w", p.Queue, err)
	}
	return res, nil
}

func (s *Store) claimUnlimited(ctx context.Context, p store.ClaimParams) (store.ClaimResult, error) {
	rows, err := s.q.ClaimUnlimited(ctx, pgdb.ClaimUnlimitedParams{
		ExecutorID: p.ExecutorID,
		QueueName:  p.Queue,
		MaxRows:    int64(p.Max),
	})
	if err != nil {
		return store.ClaimResult{}, err
	}
	res := store.ClaimResult{Claimed: workflows(rows)}
	storekit.SortFIFO(res.Claimed)
	if storekit.NeedBacklog(p, storekit.Load{}, len(rows)) {
		b, err := s.q.QueueBacklog(ctx, pgdb.QueueBacklogParams{QueueName: p.Queue})
		if err != nil {
			return store.ClaimResult{}, fmt.Errorf("read backlog: %w", err)
		}
		load := storekit.Load{NowMs: b.NowMs}
		res.RetryAt = storekit.RetryAt(p, load, len(rows), storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs})
	}
	return res, nil
}

// claimLimited waits for the queue's lock under the caller's ctx (giving up
// changes nothing) and runs the rest under the detached one.
func (s *Store) claimLimited(caller, ctx context.Context, p store.ClaimParams) (store.ClaimResult, error) {
	var res store.ClaimResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockQueue(caller, p.Queue); err != nil {
			return fmt.Errorf("lock queue: %w", err)
		}
		l, err := q.QueueLoad(ctx, pgdb.QueueLoadParams{
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
		var rows []pgdb.Workflow
		if n := storekit.Room(p, load); n > 0 {
			if storekit.Partitioned(p) {
				rows, err = q.ClaimPartitioned(ctx, pgdb.ClaimPartitionedParams{
					ExecutorID:           p.ExecutorID,
					PartitionConcurrency: int64(p.PartitionConcurrency),
					PartitionRateLimit:   int64(p.PartitionRateLimit),
					PartitionPeriodMs:    storekit.Millis(p.PartitionRatePeriod),
					QueueName:            p.Queue,
					MaxRows:              int64(n),
				})
			} else {
				rows, err = q.ClaimLimited(ctx, pgdb.ClaimLimitedParams{
					ExecutorID: p.ExecutorID,
					NowMs:      load.NowMs,
					QueueName:  p.Queue,
					MaxRows:    int64(n),
				})
			}
			if err != nil {
				return err
			}
		}
		res = store.ClaimResult{Claimed: workflows(rows)}
		storekit.SortFIFO(res.Claimed)
		if storekit.NeedBacklog(p, load, len(rows)) {
			b, err := s.backlog(ctx, q, p, load.NowMs)
			if err != nil {
				return fmt.Errorf("read backlog: %w", err)
			}
			res.RetryAt = storekit.RetryAt(p, load, len(rows), b)
		}
		return nil
	})
	return res, err
}

// backlog reads what is left in the queue at nowMs, under the claim's
// partition limits if any.
func (s *Store) backlog(ctx context.Context, q *pgdb.Queries, p store.ClaimParams, nowMs int64) (storekit.Backlog, error) {
	if storekit.Partitioned(p) {
		b, err := q.PartitionBacklog(ctx, pgdb.PartitionBacklogParams{
			QueueName:            p.Queue,
			NowMs:                nowMs,
			PartitionConcurrency: int64(p.PartitionConcurrency),
			PartitionRateLimit:   int64(p.PartitionRateLimit),
			PartitionPeriodMs:    storekit.Millis(p.PartitionRatePeriod),
		})
		return storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs, PartitionFreeMs: b.PartitionFreeMs}, err
	}
	b, err := q.QueueBacklog(ctx, pgdb.QueueBacklogParams{QueueName: p.Queue, NowMs: &nowMs})
	return storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs}, err
}
