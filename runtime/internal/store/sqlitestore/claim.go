package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore/sqlitedb"
)

// Claim records the outcomes of p.Complete, then moves ready ENQUEUED
// workflows of a queue to PENDING for p.ExecutorID, honouring the limits of
// the queue's stored declaration. It runs in one IMMEDIATE transaction,
// which holds the file's write lock from its start: the outcomes, the
// declaration, the clock, the counts the limits need and the claim itself
// are read and written with every other writer (of any process) excluded.
// Enqueues are writers too, so a claim never sees a row whose predecessor
// commits later: strict order needs no further lock.
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
	// Outcomes to record need the lock anyway.
	if len(p.Complete) == 0 {
		if res, idle, err := s.peek(ctx, p); err != nil {
			return store.ClaimResult{}, fmt.Errorf("claim from queue %q: %w", p.Queue, err)
		} else if idle {
			return res, nil
		}
	}
	ctx, cancel := storekit.Detach(ctx)
	defer cancel()
	var res store.ClaimResult
	err := s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) (err error) {
		res, err = claimIn(ctx, q, p, s.runsOf(p.Runs))
		return err
	})
	if err != nil {
		return store.ClaimResult{}, fmt.Errorf("claim from queue %q: %w", p.Queue, err)
	}
	return res, nil
}

// claimIn is Claim's work, in a write transaction of the caller's.
func claimIn(ctx context.Context, q *sqlitedb.Queries, p store.ClaimParams, r runsArgs) (store.ClaimResult, error) {
	var completed []bool
	if len(p.Complete) > 0 {
		var err error
		if completed, err = completeAll(ctx, q, p.Complete); err != nil {
			return store.ClaimResult{}, fmt.Errorf("record outcomes: %w", err)
		}
	}
	l, err := q.QueueLoad(ctx, sqlitedb.QueueLoadParams{QueueName: p.Queue, ExecutorID: p.ExecutorID})
	if err != nil {
		return store.ClaimResult{}, fmt.Errorf("read limits and count running and recent workflows: %w", err)
	}
	cfg, load := loaded(p.Queue, l)
	paused := l.Paused != 0
	var rows []sqlitedb.Workflow
	if n := storekit.Room(cfg, p.Max, load); n > 0 && !paused {
		if rows, err = claimReady(ctx, q, p, r, cfg, load.NowMs, n); err != nil {
			return store.ClaimResult{}, err
		}
	}
	res := store.ClaimResult{Claimed: workflows(rows), Config: cfg, Completed: completed, Paused: paused}
	storekit.SortFIFO(res.Claimed)
	if storekit.NeedBacklog(cfg, p.Max, load, len(rows)) && !paused {
		b, err := backlog(ctx, q, cfg, r, load.NowMs)
		if err != nil {
			return store.ClaimResult{}, fmt.Errorf("read backlog: %w", err)
		}
		res.RetryAt = storekit.RetryAt(cfg, p.Max, load, len(rows), b)
	}
	return res, nil
}

// peek reads, without locking, whether a claim could take anything now. When
// it could not (idle=true) res is what the claim would return: nothing, and
// the RetryAt of that moment.
func (s *Store) peek(ctx context.Context, p store.ClaimParams) (res store.ClaimResult, idle bool, err error) {
	l, err := s.q.QueueLoad(ctx, sqlitedb.QueueLoadParams{QueueName: p.Queue, ExecutorID: p.ExecutorID})
	if err != nil {
		return res, false, fmt.Errorf("read limits and count running and recent workflows: %w", err)
	}
	cfg, load := loaded(p.Queue, l)
	res.Config = cfg
	if l.Paused != 0 {
		res.Paused = true
		return res, true, nil
	}
	room := storekit.Room(cfg, p.Max, load)
	if room == 0 && !storekit.NeedBacklog(cfg, p.Max, load, 0) {
		return res, true, nil // a concurrency limit is full
	}
	b, err := backlog(ctx, s.q, cfg, s.runsOf(p.Runs), load.NowMs)
	if err != nil {
		return res, false, fmt.Errorf("read backlog: %w", err)
	}
	if room > 0 && b.Ready {
		return res, false, nil // worth locking
	}
	res.RetryAt = storekit.RetryAt(cfg, p.Max, load, 0, b)
	return res, true, nil
}

// loaded splits what QueueLoad read into the queue's declaration and the
// counts.
func loaded(queue string, l sqlitedb.QueueLoadRow) (store.QueueConfig, storekit.Load) {
	cfg := storekit.Config(queue, l.Concurrency, l.WorkerConcurrency, l.RateLimit, l.RatePeriodMs,
		l.PartitionConcurrency, l.PartitionRateLimit, l.PartitionRatePeriodMs)
	return cfg, storekit.Load{
		NowMs:          l.NowMs,
		Pending:        l.Pending,
		PendingHere:    l.PendingHere,
		WindowStarts:   l.WindowStarts,
		WindowOldestMs: l.WindowOldestMs,
	}
}

// claimReady claims up to n ready rows at nowMs, within the partition limits
// of cfg if any.
func claimReady(ctx context.Context, q *sqlitedb.Queries, p store.ClaimParams, r runsArgs, cfg store.QueueConfig, nowMs int64, n int) ([]sqlitedb.Workflow, error) {
	if !storekit.Partitioned(cfg) {
		return q.ClaimReady(ctx, sqlitedb.ClaimReadyParams{
			ExecutorID:    p.ExecutorID,
			NowMs:         nowMs,
			QueueName:     p.Queue,
			MaxRows:       int64(n),
			RunsAny:       r.any,
			RunVersion:    r.version,
			RunNames:      r.names,
			RunSignatures: r.signatures,
		})
	}
	ids, err := q.PickPartitioned(ctx, sqlitedb.PickPartitionedParams{
		RunsAny:              r.any,
		RunVersion:           r.version,
		RunNames:             r.names,
		RunSignatures:        r.signatures,
		MaxRows:              int64(n),
		NowMs:                nowMs,
		PartitionConcurrency: int64(cfg.PartitionConcurrency),
		PartitionRateLimit:   int64(cfg.PartitionRateLimit),
		PartitionPeriodMs:    storekit.Millis(cfg.PartitionRatePeriod),
		QueueName:            p.Queue,
	})
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	return q.ClaimIDs(ctx, sqlitedb.ClaimIDsParams{ExecutorID: p.ExecutorID, NowMs: nowMs, RunVersion: r.version, Ids: ids})
}

// backlog reads what is left in the queue at nowMs for a claimer that runs
// runs, under the partition limits of cfg if any.
func backlog(ctx context.Context, q *sqlitedb.Queries, cfg store.QueueConfig, r runsArgs, nowMs int64) (storekit.Backlog, error) {
	if storekit.Partitioned(cfg) {
		b, err := q.PartitionBacklog(ctx, sqlitedb.PartitionBacklogParams{
			RunsAny:              r.any,
			RunVersion:           r.version,
			RunNames:             r.names,
			RunSignatures:        r.signatures,
			QueueName:            cfg.Name,
			NowMs:                nowMs,
			PartitionConcurrency: int64(cfg.PartitionConcurrency),
			PartitionRateLimit:   int64(cfg.PartitionRateLimit),
			PartitionPeriodMs:    storekit.Millis(cfg.PartitionRatePeriod),
		})
		return storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs, PartitionFreeMs: b.PartitionFreeMs}, err
	}
	b, err := q.QueueBacklog(ctx, sqlitedb.QueueBacklogParams{
		QueueName:     cfg.Name,
		NowMs:         nowMs,
		RunsAny:       r.any,
		RunVersion:    r.version,
		RunNames:      r.names,
		RunSignatures: r.signatures,
	})
	return storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs}, err
}

// DeclareQueue records a queue's declaration, replacing the stored one, and
// returns the one it replaced, in one IMMEDIATE transaction: declarations
// and claims of every process are serialized with it.
func (s *Store) DeclareQueue(ctx context.Context, c store.QueueConfig, executorID string) (store.QueueConfig, bool, error) {
	if err := storekit.ValidateDeclare(c, executorID); err != nil {
		return store.QueueConfig{}, false, err
	}
	c = c.Normalized()
	var (
		prev    store.QueueConfig
		existed bool
	)
	err := s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) error {
		row, err := q.GetQueue(ctx, c.Name)
		switch {
		case err == nil && row.DeclaredBy == "": // stored by a pause, not declared
		case err == nil:
			prev, existed = storekit.Config(row.Name, row.Concurrency, row.WorkerConcurrency, row.RateLimit, row.RatePeriodMs,
				row.PartitionConcurrency, row.PartitionRateLimit, row.PartitionRatePeriodMs), true
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read current declaration: %w", err)
		}
		err = q.UpsertQueue(ctx, sqlitedb.UpsertQueueParams{
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
