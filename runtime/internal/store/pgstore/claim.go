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
// p.ExecutorID, honouring the limits of the queue's stored declaration.
//
// A queue without limits is claimed in one statement (FOR UPDATE SKIP
// LOCKED), so concurrent claimers take disjoint batches without waiting;
// that statement checks the declaration itself and claims nothing from a
// limited queue. A queue with any limit is claimed in one transaction that
// first takes an advisory lock derived from the queue name (which also
// waits for the queue's enqueues in flight, see InsertWorkflow), then reads
// the declaration, the database clock and the counts the limits need, then
// claims what they leave room for, waiting on (not skipping) row locks so
// the order stays strict. Partition limits rank each partition's ready rows
// and keep those within the partition's room.
//
// Which of the two a claim tries first follows what the previous claim of
// the queue found (Store.limited); either way the limits applied are the
// ones the database holds when the claim reads them.
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
	if _, limited := s.limited.Load(p.Queue); limited {
		res, err = s.claimLocked(ctx, detached, p)
	} else {
		var limited bool
		res, limited, err = s.claimUnlimited(detached, p)
		if err == nil && limited {
			res, err = s.claimLocked(ctx, detached, p)
		}
	}
	if err != nil {
		return store.ClaimResult{}, fmt.Errorf("claim from queue %q: %w", p.Queue, err)
	}
	return res, nil
}

// claimUnlimited claims from a queue as if it had no limits, which the
// statement itself checks. limited reports that the queue's declaration
// sets a limit, so the claim took nothing and must be made by claimLocked.
func (s *Store) claimUnlimited(ctx context.Context, p store.ClaimParams) (res store.ClaimResult, limited bool, err error) {
	rows, err := s.q.ClaimUnlimited(ctx, pgdb.ClaimUnlimitedParams{
		ExecutorID: p.ExecutorID,
		QueueName:  p.Queue,
		MaxRows:    int64(p.Max),
	})
	if err != nil {
		return store.ClaimResult{}, false, err
	}
	cfg := store.QueueConfig{Name: p.Queue} // what ClaimUnlimited applies
	res = store.ClaimResult{Claimed: workflows(rows), Config: cfg}
	storekit.SortFIFO(res.Claimed)
	if !storekit.NeedBacklog(cfg, p.Max, storekit.Load{}, len(rows)) {
		return res, false, nil
	}
	b, err := s.q.QueueBacklog(ctx, pgdb.QueueBacklogParams{QueueName: p.Queue})
	if err != nil {
		return store.ClaimResult{}, false, fmt.Errorf("read backlog: %w", err)
	}
	if b.Limited {
		// Declared with limits meanwhile (rows were claimed) or before
		// (nothing was): claims of this queue go through the lock now.
		s.limited.Store(p.Queue, struct{}{})
		if len(rows) == 0 {
			return store.ClaimResult{}, true, nil
		}
	}
	load := storekit.Load{NowMs: b.NowMs}
	res.RetryAt = storekit.RetryAt(cfg, p.Max, load, len(rows), storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs})
	return res, false, nil
}

// claimLocked claims under the queue's advisory lock, with the limits of the
// declaration read under it. It waits for the lock under the caller's ctx
// (giving up changes nothing) and runs the rest under the detached one.
func (s *Store) claimLocked(caller, ctx context.Context, p store.ClaimParams) (store.ClaimResult, error) {
	var res store.ClaimResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockQueue(caller, p.Queue); err != nil {
			return fmt.Errorf("lock queue: %w", err)
		}
		l, err := q.QueueLoad(ctx, pgdb.QueueLoadParams{QueueName: p.Queue, ExecutorID: p.ExecutorID})
		if err != nil {
			return fmt.Errorf("read limits and count running and recent workflows: %w", err)
		}
		cfg := storekit.Config(p.Queue, l.Concurrency, l.WorkerConcurrency, l.RateLimit, l.RatePeriodMs,
			l.PartitionConcurrency, l.PartitionRateLimit, l.PartitionRatePeriodMs)
		if storekit.Limited(cfg) {
			s.limited.Store(p.Queue, struct{}{})
		} else {
			s.limited.Delete(p.Queue) // the next claim tries the fast path
		}
		load := storekit.Load{
			NowMs:          l.NowMs,
			Pending:        l.Pending,
			PendingHere:    l.PendingHere,
			WindowStarts:   l.WindowStarts,
			WindowOldestMs: l.WindowOldestMs,
		}
		var rows []pgdb.Workflow
		if n := storekit.Room(cfg, p.Max, load); n > 0 {
			if storekit.Partitioned(cfg) {
				rows, err = q.ClaimPartitioned(ctx, pgdb.ClaimPartitionedParams{
					ExecutorID:           p.ExecutorID,
					PartitionConcurrency: int64(cfg.PartitionConcurrency),
					PartitionRateLimit:   int64(cfg.PartitionRateLimit),
					PartitionPeriodMs:    l.PartitionRatePeriodMs,
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
		res = store.ClaimResult{Claimed: workflows(rows), Config: cfg}
		storekit.SortFIFO(res.Claimed)
		if storekit.NeedBacklog(cfg, p.Max, load, len(rows)) {
			b, err := s.backlog(ctx, q, cfg, load.NowMs)
			if err != nil {
				return fmt.Errorf("read backlog: %w", err)
			}
			res.RetryAt = storekit.RetryAt(cfg, p.Max, load, len(rows), b)
		}
		return nil
	})
	return res, err
}

// backlog reads what is left in the queue at nowMs, under the partition
// limits of cfg if any.
func (s *Store) backlog(ctx context.Context, q *pgdb.Queries, cfg store.QueueConfig, nowMs int64) (storekit.Backlog, error) {
	if storekit.Partitioned(cfg) {
		b, err := q.PartitionBacklog(ctx, pgdb.PartitionBacklogParams{
			QueueName:            cfg.Name,
			NowMs:                nowMs,
			PartitionConcurrency: int64(cfg.PartitionConcurrency),
			PartitionRateLimit:   int64(cfg.PartitionRateLimit),
			PartitionPeriodMs:    storekit.Millis(cfg.PartitionRatePeriod),
		})
		return storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs, PartitionFreeMs: b.PartitionFreeMs}, err
	}
	b, err := q.QueueBacklog(ctx, pgdb.QueueBacklogParams{QueueName: cfg.Name, NowMs: &nowMs})
	return storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs}, err
}

// DeclareQueue records a queue's declaration, replacing the stored one, and
// returns the one it replaced. It holds the queue's advisory lock (LockQueue)
// meanwhile, so concurrent declarations are serialized, each one learns
// exactly which declaration it replaced, and a limited claim reads either
// the old declaration or the new one.
func (s *Store) DeclareQueue(ctx context.Context, c store.QueueConfig, executorID string) (store.QueueConfig, bool, error) {
	if err := storekit.ValidateDeclare(c, executorID); err != nil {
		return store.QueueConfig{}, false, err
	}
	c = c.Normalized()
	var (
		prev    store.QueueConfig
		existed bool
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockQueue(ctx, c.Name); err != nil {
			return fmt.Errorf("lock queue: %w", err)
		}
		row, err := q.GetQueue(ctx, c.Name)
		switch {
		case err == nil:
			prev, existed = queueConfig(row), true
		case !isNoRows(err):
			return fmt.Errorf("read current declaration: %w", err)
		}
		err = q.UpsertQueue(ctx, pgdb.UpsertQueueParams{
			Name:                  c.Name,
			Concurrency:           int64(c.Concurrency),
			WorkerConcurrency:     int64(c.WorkerConcurrency),
			RateLimit:             int64(c.RateLimit),
			RatePeriodMs:          storekit.Millis(c.RatePeriod),
			PartitionConcurrency:  int64(c.PartitionConcurrency),
			PartitionRateLimit:    int64(c.PartitionRateLimit),
			PartitionRatePeriodMs: storekit.Millis(c.PartitionRatePeriod),
			DeclaredBy:            executorID,
		})
		if err != nil {
			return fmt.Errorf("store declaration: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.QueueConfig{}, false, fmt.Errorf("declare queue %q: %w", c.Name, err)
	}
	return prev, existed, nil
}

func queueConfig(r pgdb.Queue) store.QueueConfig {
	return storekit.Config(r.Name, r.Concurrency, r.WorkerConcurrency, r.RateLimit, r.RatePeriodMs,
		r.PartitionConcurrency, r.PartitionRateLimit, r.PartitionRatePeriodMs)
}
