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
			rows, err = q.ClaimReady(ctx, sqlitedb.ClaimReadyParams{
				ExecutorID: p.ExecutorID,
				NowMs:      load.NowMs,
				QueueName:  p.Queue,
				MaxRows:    int64(n),
			})
			if err != nil {
				return err
			}
		}
		res = store.ClaimResult{Claimed: workflows(rows)}
		storekit.SortFIFO(res.Claimed)
		if storekit.NeedBacklog(p, load, len(rows)) {
			b, err := q.QueueBacklog(ctx, sqlitedb.QueueBacklogParams{QueueName: p.Queue, NowMs: load.NowMs})
			if err != nil {
				return fmt.Errorf("read backlog: %w", err)
			}
			res.RetryAt = storekit.RetryAt(p, load, len(rows), storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs})
		}
		return nil
	})
	if err != nil {
		return store.ClaimResult{}, fmt.Errorf("claim from queue %q: %w", p.Queue, err)
	}
	return res, nil
}
