package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

// sqlTx runs sqlc's pgx queries (package pgdb) on a database/sql
// transaction of pgx's driver (github.com/jackc/pgx/v5/stdlib), for
// InsertTx: the driver takes the queries' arguments as pgx does (arrays
// included), and database/sql scans the rows into pgdb's fields (plain Go
// values and pointers for NULLs). A batch runs its statements one after
// another, in order, as each result is read (or at Close): one round trip
// each instead of one in all.
type sqlTx struct{ tx *sql.Tx }

var _ pgdb.DBTX = sqlTx{}

// Exec runs a statement; the command tag reports only the rows affected.
func (t sqlTx) Exec(ctx context.Context, query string, args ...any) (pgconn.CommandTag, error) {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	return pgconn.NewCommandTag(fmt.Sprintf("UPDATE %d", n)), nil
}

// Query runs a query.
func (t sqlTx) Query(ctx context.Context, query string, args ...any) (pgx.Rows, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

// QueryRow runs a query of one row; no row is pgx.ErrNoRows.
func (t sqlTx) QueryRow(ctx context.Context, query string, args ...any) pgx.Row {
	return sqlRow{t.tx.QueryRowContext(ctx, query, args...)}
}

// SendBatch returns results that run b's statements in order as they are
// read.
func (t sqlTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return &sqlBatch{ctx: ctx, tx: t, queued: b.QueuedQueries}
}

// sqlRow is a pgx.Row over a *sql.Row.
type sqlRow struct{ row *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return pgx.ErrNoRows
	}
	return err
}

// sqlRows is a pgx.Rows over *sql.Rows: what sqlc's code calls (Next,
// Scan, Err, Close) and Values; it knows no command tag, field
// descriptions, raw values, connection or type map.
type sqlRows struct{ rows *sql.Rows }

func (r sqlRows) Close()                                       { r.rows.Close() }
func (r sqlRows) Err() error                                   { return r.rows.Err() }
func (r sqlRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (r sqlRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (r sqlRows) Next() bool                                   { return r.rows.Next() }
func (r sqlRows) Scan(dest ...any) error                       { return r.rows.Scan(dest...) }
func (r sqlRows) RawValues() [][]byte                          { return nil }
func (r sqlRows) Conn() *pgx.Conn                              { return nil }
func (r sqlRows) TypeMap() *pgtype.Map                         { return nil }

func (r sqlRows) Values() ([]any, error) {
	cols, err := r.rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := r.rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	return vals, nil
}

// sqlBatch runs a batch's statements one by one, in order: each when its
// result is read, the unread ones at Close. After a failure the rest are
// not run (the transaction is aborted anyway).
type sqlBatch struct {
	ctx    context.Context
	tx     sqlTx
	queued []*pgx.QueuedQuery
	next   int
	err    error // the first failure
	rows   *sql.Rows
}

// take returns the next statement, closing the rows of the one before.
func (b *sqlBatch) take() (*pgx.QueuedQuery, error) {
	if b.rows != nil {
		b.rows.Close()
		b.rows = nil
	}
	if b.err != nil {
		return nil, b.err
	}
	if b.next >= len(b.queued) {
		return nil, errors.New("pgstore: batch read past its last statement")
	}
	q := b.queued[b.next]
	b.next++
	return q, nil
}

func (b *sqlBatch) keep(err error) error {
	if err != nil && b.err == nil {
		b.err = err
	}
	return err
}

func (b *sqlBatch) Exec() (pgconn.CommandTag, error) {
	q, err := b.take()
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := b.tx.Exec(b.ctx, q.SQL, q.Arguments...)
	return tag, b.keep(err)
}

func (b *sqlBatch) Query() (pgx.Rows, error) {
	q, err := b.take()
	if err != nil {
		return nil, err
	}
	rows, err := b.tx.tx.QueryContext(b.ctx, q.SQL, q.Arguments...)
	if b.keep(err) != nil {
		return nil, err
	}
	b.rows = rows
	return sqlRows{rows}, nil
}

func (b *sqlBatch) QueryRow() pgx.Row {
	q, err := b.take()
	if err != nil {
		return errRow{err}
	}
	return batchRow{b, b.tx.tx.QueryRowContext(b.ctx, q.SQL, q.Arguments...)}
}

// Close runs the statements not read yet and reports the first failure.
func (b *sqlBatch) Close() error {
	for b.err == nil && b.next < len(b.queued) {
		_, _ = b.Exec()
	}
	if b.rows != nil {
		b.keep(b.rows.Err())
		b.rows.Close()
		b.rows = nil
	}
	return b.err
}

func (b *sqlBatch) Tx() pgx.Tx { return nil }

// batchRow is a row of a batch: its failure is the batch's.
type batchRow struct {
	b   *sqlBatch
	row *sql.Row
}

func (r batchRow) Scan(dest ...any) error {
	err := sqlRow{r.row}.Scan(dest...)
	if !errors.Is(err, pgx.ErrNoRows) {
		r.b.keep(err)
	}
	return err
}
