package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// outboxQueueName is the queue of the outbox workload.
const outboxQueueName = "bench_outbox"

// outboxStarts receives the time each OutboxStart body began.
var outboxStarts = make(chan time.Time, 1)

// OutboxStart reports when its body began, for the outbox workload.
//
//dbos:step
func OutboxStart(ctx context.Context, i int) (int, error) {
	select {
	case outboxStarts <- time.Now():
	default:
	}
	return i, nil
}

// outboxTx is the program's own transaction of the outbox workload.
type outboxTx struct {
	tx     dbos.Tx
	exec   func(ctx context.Context, query string, args ...any) error
	commit func(ctx context.Context) error
}

// runOutbox: one task at a time, a program's transaction writes a row of
// its own and enqueues the task with EnqueueOutboxStartTx, then commits;
// the latency is from the commit's return to the task body's start, with
// this process's worker idle (the previous task finished). On Postgres the
// enqueue's notification, sent in the transaction, wakes the worker at the
// commit; on SQLite the runtime's commit watcher does. One untimed
// warm-up.
func runOutbox(ctx context.Context, c *child) (Values, error) {
	q := dbos.NewQueue(outboxQueueName)
	if err := c.launch(ctx); err != nil {
		return nil, err
	}
	begin, closeDB, err := openOutboxDB(ctx, c.spec.URL)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	setup, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := setup.exec(ctx, "CREATE TABLE IF NOT EXISTS bench_outbox_app (i INTEGER PRIMARY KEY)"); err != nil {
		return nil, err
	}
	if err := setup.commit(ctx); err != nil {
		return nil, err
	}
	n := c.spec.N
	lat := make([]time.Duration, 0, n)
	for i := -1; i < n; i++ {
		tx, err := begin(ctx)
		if err != nil {
			return nil, err
		}
		if err := tx.exec(ctx, "INSERT INTO bench_outbox_app (i) VALUES ($1)", i); err != nil {
			return nil, fmt.Errorf("task %d: application row: %w", i, err)
		}
		h, err := EnqueueOutboxStartTx(ctx, tx.tx, q, i)
		if err != nil {
			return nil, fmt.Errorf("enqueue task %d: %w", i, err)
		}
		if err := tx.commit(ctx); err != nil {
			return nil, fmt.Errorf("commit task %d: %w", i, err)
		}
		committed := time.Now()
		var started time.Time
		select {
		case started = <-outboxStarts:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if v, err := h.GetResult(ctx); err != nil || v != i {
			return nil, fmt.Errorf("result of task %d: %d, %v", i, v, err)
		}
		if i >= 0 {
			lat = append(lat, max(0, started.Sub(committed)))
		}
	}
	slices.Sort(lat)
	ms := func(p float64) float64 { return millis(percentile(lat, p)) }
	return Values{
		{Name: "commit-to-start p50", Unit: "ms", Value: ms(0.50)},
		{Name: "commit-to-start p90", Unit: "ms", Value: ms(0.90)},
		{Name: "commit-to-start p99", Unit: "ms", Value: ms(0.99)},
		{Name: "commit-to-start max", Unit: "ms", Value: ms(1)},
	}, nil
}

// openOutboxDB opens the program's own connection to the runtime's
// database: pgx on Postgres, database/sql of modernc.org/sqlite on the
// SQLite file (opened as dbos.Tx says).
func openOutboxDB(ctx context.Context, dbURL string) (func(context.Context) (outboxTx, error), func(), error) {
	if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
		params := url.Values{}
		params.Add("_pragma", "busy_timeout(10000)")
		params.Add("_pragma", "journal_mode(WAL)")
		params.Set("_txlock", "immediate")
		db, err := sql.Open("sqlite", path+"?"+params.Encode())
		if err != nil {
			return nil, nil, err
		}
		begin := func(ctx context.Context) (outboxTx, error) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return outboxTx{}, err
			}
			return outboxTx{
				tx: tx,
				exec: func(ctx context.Context, q string, args ...any) error {
					_, err := tx.ExecContext(ctx, q, args...)
					return err
				},
				commit: func(context.Context) error { return tx.Commit() },
			}, nil
		}
		return begin, func() { db.Close() }, nil
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, nil, err
	}
	begin := func(ctx context.Context) (outboxTx, error) {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return outboxTx{}, err
		}
		return outboxTx{
			tx:     tx,
			exec:   func(ctx context.Context, q string, args ...any) error { _, err := tx.Exec(ctx, q, args...); return err },
			commit: tx.Commit,
		}, nil
	}
	return begin, func() { conn.Close(context.Background()) }, nil
}
