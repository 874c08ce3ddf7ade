package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

// listChunk is how many batches of DeleteWorkflows one ListForDelete lists:
// without an index on seq, each listing reads every match.
const listChunk = 10

// DeleteWorkflows deletes the finished workflows among those ListWorkflows
// returns for f (see store.Store): it lists them (ListForDelete), many
// batches at a time, and deletes the finished ones a batch at a time
// (DeleteFinished: one statement, one transaction, rechecking each row
// under its lock).
func (s *Store) DeleteWorkflows(ctx context.Context, f store.ListFilter, batch int) (int, error) {
	if err := storekit.ValidateList(f); err != nil {
		return 0, err
	}
	batch = storekit.DeleteBatch(batch)
	walk := storekit.NewListed(f, batch*listChunk)
	deleted := 0
	for {
		below, skip, maxRows, ok := walk.Next()
		if !ok {
			return deleted, nil
		}
		rows, err := s.q.ListForDelete(ctx, pgdb.ListForDeleteParams{
			State:             optional(f.State),
			QueueName:         optional(f.Queue),
			Name:              optional(f.Name),
			CompletedBeforeMs: storekit.CompletedBeforeMs(f.CompletedBefore),
			CreatedAfterMs:    storekit.CreatedAfterMs(f.CreatedAfter),
			BelowSeq:          below,
			SkipRows:          int64(skip),
			MaxRows:           int64(maxRows),
		})
		if err != nil {
			return deleted, fmt.Errorf("delete workflows: list: %w", err)
		}
		var ids []string
		for _, r := range rows {
			if r.Finished {
				ids = append(ids, r.WorkflowID)
			}
		}
		for len(ids) > 0 {
			n := min(batch, len(ids))
			d, err := s.q.DeleteFinished(ctx, ids[:n])
			if err != nil {
				return deleted, fmt.Errorf("delete workflows: %w", err)
			}
			deleted += int(d)
			ids = ids[n:]
		}
		lowest := int64(0)
		if len(rows) > 0 {
			lowest = rows[len(rows)-1].Seq
		}
		walk.Took(maxRows, len(rows), lowest)
	}
}

// DeleteExpired deletes what finished more than p.Retention ago (see
// store.Store), one pipeline per batch (SweepPlanning and DeleteExpired:
// one round trip, one transaction), on a connection of the pool that
// holds, for the sweep, the session-level advisory lock electing the
// sweeper (TryLockSweeper): the process that gets it sweeps; the others
// return at once. A process that dies while sweeping loses the lock with
// its session.
func (s *Store) DeleteExpired(ctx context.Context, p store.ExpireParams) (deleted int, swept bool, err error) {
	if p.Retention <= 0 {
		return 0, false, fmt.Errorf("delete expired workflows: retention %s is not positive", p.Retention)
	}
	if s.pooled {
		return s.deleteExpiredPooled(ctx, p)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("delete expired workflows: %w", err)
	}
	defer conn.Release()
	q := pgdb.New(conn)
	locked, err := q.TryLockSweeper(ctx)
	if err != nil || !locked {
		if err != nil {
			err = fmt.Errorf("delete expired workflows: elect the sweeper: %w", err)
		}
		return 0, false, err
	}
	defer func() {
		// Unlock on a context that outlives ctx; should that fail, close the
		// connection: the lock ends with its session.
		uctx, cancel := storekit.Detach(ctx)
		defer cancel()
		if unlocked, uerr := q.UnlockSweeper(uctx); uerr != nil || !unlocked {
			_ = conn.Conn().Close(uctx)
		}
	}()
	args := pgdb.DeleteExpiredParams{RetentionMs: storekit.Millis(p.Retention), MaxRows: int64(storekit.DeleteBatch(p.Batch))}
	for {
		if err := ctx.Err(); err != nil {
			return deleted, true, fmt.Errorf("delete expired workflows: %w", err)
		}
		var (
			pl pipeline
			fe firstErr
			r  pgdb.DeleteExpiredRow
		)
		pq := pgdb.New(&pl)
		planning := pq.SweepPlanning(ctx, []string{"off"})
		batch := pq.DeleteExpired(ctx, []pgdb.DeleteExpiredParams{args})
		pl.send(ctx, conn)
		planning.Exec(func(_ int, err error) { fe.keep(err) })
		batch.QueryRow(func(_ int, row pgdb.DeleteExpiredRow, err error) { r = row; fe.keep(err) })
		if fe.keep(pl.close()); fe.err != nil {
			return deleted, true, fmt.Errorf("delete expired workflows: %w", fe.err)
		}
		deleted += int(r.Deleted)
		if r.Examined < args.MaxRows {
			return deleted, true, nil
		}
		args.AfterCompletedMs, args.AfterSeq = r.LastCompletedMs, r.LastSeq
	}
}

// deleteExpiredPooled is DeleteExpired behind a transaction pooler, where a
// session-level lock would stay with whichever server connection took it:
// each batch is a transaction that first takes the transaction-level lock
// electing the sweeper (TryLockSweeperTx), so sweepers alternate batch by
// batch at worst, and one that finds the lock taken returns.
func (s *Store) deleteExpiredPooled(ctx context.Context, p store.ExpireParams) (deleted int, swept bool, err error) {
	args := pgdb.DeleteExpiredParams{RetentionMs: storekit.Millis(p.Retention), MaxRows: int64(storekit.DeleteBatch(p.Batch))}
	for {
		if err := ctx.Err(); err != nil {
			return deleted, swept, fmt.Errorf("delete expired workflows: %w", err)
		}
		var (
			locked bool
			r      pgdb.DeleteExpiredRow
		)
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			var err error
			if locked, err = s.q.WithTx(tx).TryLockSweeperTx(ctx); err != nil || !locked {
				return err
			}
			var (
				pl pipeline
				fe firstErr
			)
			pq := pgdb.New(&pl)
			planning := pq.SweepPlanning(ctx, []string{"off"})
			batch := pq.DeleteExpired(ctx, []pgdb.DeleteExpiredParams{args})
			pl.send(ctx, tx)
			planning.Exec(func(_ int, err error) { fe.keep(err) })
			batch.QueryRow(func(_ int, row pgdb.DeleteExpiredRow, err error) { r = row; fe.keep(err) })
			fe.keep(pl.close())
			return fe.err
		})
		if err != nil {
			return deleted, swept, fmt.Errorf("delete expired workflows: %w", err)
		}
		if !locked {
			return deleted, swept, nil
		}
		swept = true
		deleted += int(r.Deleted)
		if r.Examined < args.MaxRows {
			return deleted, true, nil
		}
		args.AfterCompletedMs, args.AfterSeq = r.LastCompletedMs, r.LastSeq
	}
}
