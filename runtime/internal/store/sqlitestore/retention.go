package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore/sqlitedb"
)

// SweeperLease is how long the sweeper role (see DeleteExpired) stays with
// a process after its last batch: the longest another process waits to
// sweep after the sweeper died.
const SweeperLease = 30 * time.Second

// DeleteWorkflows deletes the finished workflows among those ListWorkflows
// returns for f (see store.Store), one IMMEDIATE transaction per batch:
// ListedCandidates, then the deletable ones with their steps.
func (s *Store) DeleteWorkflows(ctx context.Context, f store.ListFilter, batch int) (int, error) {
	if err := storekit.ValidateList(f); err != nil {
		return 0, err
	}
	walk := storekit.NewListed(f, batch)
	deleted := 0
	for {
		below, skip, maxRows, ok := walk.Next()
		if !ok {
			return deleted, nil
		}
		var (
			rows []sqlitedb.ListedCandidatesRow
			n    int
		)
		err := s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) (err error) {
			rows, err = q.ListedCandidates(ctx, sqlitedb.ListedCandidatesParams{
				State:             optional(f.State),
				QueueName:         optional(f.Queue),
				Name:              optional(f.Name),
				CompletedBeforeMs: optionalMs(storekit.CompletedBeforeMs(f.CompletedBefore)),
				CreatedAfterMs:    optionalMs(storekit.CreatedAfterMs(f.CreatedAfter)),
				BelowSeq:          below,
				SkipRows:          int64(skip),
				MaxRows:           int64(maxRows),
			})
			if err != nil {
				return err
			}
			var ids []string
			for _, r := range rows {
				if r.Deletable != 0 {
					ids = append(ids, r.WorkflowID)
				}
			}
			n, err = deleteIDs(ctx, q, ids)
			return err
		})
		if err != nil {
			return deleted, fmt.Errorf("delete workflows: %w", err)
		}
		deleted += n
		lowest := int64(0)
		if len(rows) > 0 {
			lowest = rows[len(rows)-1].Seq
		}
		walk.Took(maxRows, len(rows), lowest)
	}
}

// deleteIDs deletes the workflows ids, which the caller's transaction
// found deletable, with their steps, messages and events, and returns how many it deleted.
func deleteIDs(ctx context.Context, q *sqlitedb.Queries, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	if err := q.DeleteStepsOf(ctx, ids); err != nil {
		return 0, err
	}
	if err := q.DeleteMessagesOf(ctx, ids); err != nil {
		return 0, err
	}
	if err := q.DeleteEventsOf(ctx, ids); err != nil {
		return 0, err
	}
	n, err := q.DeleteFinished(ctx, ids)
	return int(n), err
}

// DeleteExpired deletes what finished more than p.Retention ago (see
// store.Store). The sweeper is elected through the retention_sweeper row
// (AcquireSweeper, for SweeperLease): the process that gets the role sweeps,
// the others return at once. Each batch is one IMMEDIATE transaction that
// first renews the role (RenewSweeper) and stops the sweep when another
// process took it over meanwhile (this one stalled past its lease).
func (s *Store) DeleteExpired(ctx context.Context, p store.ExpireParams) (deleted int, swept bool, err error) {
	if p.Retention <= 0 {
		return 0, false, fmt.Errorf("delete expired workflows: retention %s is not positive", p.Retention)
	}
	if p.ExecutorID == "" {
		return 0, false, fmt.Errorf("delete expired workflows: empty executor ID")
	}
	lease := storekit.Millis(SweeperLease)
	var got int64
	err = s.write(func() (err error) {
		got, err = s.q.AcquireSweeper(ctx, sqlitedb.AcquireSweeperParams{ExecutorID: p.ExecutorID, LeaseMs: lease})
		return err
	})
	if err != nil || got == 0 {
		if err != nil {
			err = fmt.Errorf("delete expired workflows: elect the sweeper: %w", err)
		}
		return 0, false, err
	}
	defer func() {
		rctx, cancel := storekit.Detach(ctx)
		defer cancel()
		_ = s.write(func() error { return s.q.ReleaseSweeper(rctx, p.ExecutorID) })
	}()
	args := sqlitedb.ExpiredCandidatesParams{RetentionMs: storekit.Millis(p.Retention), MaxRows: int64(storekit.DeleteBatch(p.Batch))}
	for {
		if err := ctx.Err(); err != nil {
			return deleted, true, fmt.Errorf("delete expired workflows: %w", err)
		}
		var (
			rows []sqlitedb.ExpiredCandidatesRow
			n    int
			lost bool
		)
		err := s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) (err error) {
			held, err := q.RenewSweeper(ctx, sqlitedb.RenewSweeperParams{ExecutorID: p.ExecutorID, LeaseMs: lease})
			if err != nil || held == 0 {
				lost = held == 0
				return err
			}
			if rows, err = q.ExpiredCandidates(ctx, args); err != nil {
				return err
			}
			var ids []string
			for _, r := range rows {
				if r.Deletable != 0 {
					ids = append(ids, r.WorkflowID)
				}
			}
			n, err = deleteIDs(ctx, q, ids)
			return err
		})
		if err != nil {
			return deleted, true, fmt.Errorf("delete expired workflows: %w", err)
		}
		deleted += n
		if lost || int64(len(rows)) < args.MaxRows {
			return deleted, true, nil
		}
		last := rows[len(rows)-1]
		args.AfterCompletedMs, args.AfterSeq = last.CompletedMs, last.Seq
	}
}
