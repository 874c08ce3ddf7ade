package pgstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

var _ store.TxInserter = (*Store)(nil)

// txDatabase is the runtime's database as TxDatabase identifies it, read
// from the pool at the first InsertTx (and again after a failed read), and
// the pgx connections found on it: a connection stays on its database for
// its life, so the transactions of a program's pool are checked once per
// connection, not once per call.
type txDatabase struct {
	mu   sync.Mutex
	row  pgdb.TxDatabaseRow
	read bool

	// checked holds the connections (pgx.Tx.Conn) found on the runtime's
	// database; an entry goes when its connection is garbage.
	checked sync.Map // weak.Pointer[pgx.Conn] -> struct{}
}

// InsertTx implements store.TxInserter: it checks that tx is on the
// store's database (one TxDatabase round trip in tx; for a pgx.Tx, on its
// connection's first InsertTx only), then sends
// InsertWorkflows and NotifyInTx in one round trip (on a *sql.Tx, one
// after the other), and looks up, in tx, why each workflow it skipped was
// skipped.
func (s *Store) InsertTx(ctx context.Context, tx any, ps []store.InsertParams) ([]store.InsertResult, error) {
	if err := storekit.ValidateInserts(ps); err != nil {
		return nil, err
	}
	db, err := txDBTX(tx)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, nil
	}
	q := pgdb.New(db)
	if err := s.checkTx(ctx, tx, q); err != nil {
		return nil, err
	}
	var evs []store.Event
	for _, p := range ps {
		if p.State == store.StateEnqueued {
			evs = append(evs, store.Event{Kind: store.EventEnqueued, Queue: p.Queue})
		}
	}
	var (
		pl   pipeline
		fe   firstErr
		rows []pgdb.Workflow
	)
	pq := pgdb.New(&pl)
	ins := pq.InsertWorkflows(ctx, []pgdb.InsertWorkflowsParams{insertsArgs(ps)})
	var nt *pgdb.NotifyInTxBatchResults
	if len(evs) > 0 {
		channels, payloads := notifications(evs, s.origin)
		nt = pq.NotifyInTx(ctx, []pgdb.NotifyInTxParams{{Channels: channels, Payloads: payloads}})
	}
	pl.send(ctx, db.(batchSender))
	ins.Query(func(_ int, r []pgdb.Workflow, err error) { rows = r; fe.keep(err) })
	if nt != nil {
		nt.Exec(func(_ int, err error) { fe.keep(err) })
	}
	if fe.keep(pl.close()); fe.err != nil {
		return nil, fmt.Errorf("insert %d workflows in the caller's transaction: %w", len(ps), txHint(fe.err))
	}
	inserted := make(map[string]pgdb.Workflow, len(rows))
	for _, r := range rows {
		inserted[r.WorkflowID] = r
	}
	res := make([]store.InsertResult, len(ps))
	for i, p := range ps {
		if r, ok := inserted[p.ID]; ok {
			delete(inserted, p.ID) // a second row with this ID was skipped
			res[i] = store.InsertResult{Workflow: workflow(r), Created: true}
			continue
		}
		if res[i], err = skippedTx(ctx, q, p); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// skippedTx reports on a workflow InsertTx did not insert, reading in the
// caller's transaction (which sees a row it inserted itself): the existing
// row, or the holder of its deduplication ID; when what stood in its way
// is gone, it inserts it again, alone, with the same statement (which
// skips on conflicts rather than failing: a failed statement would abort
// the caller's transaction). err is a failure of the transaction.
func skippedTx(ctx context.Context, q *pgdb.Queries, p store.InsertParams) (store.InsertResult, error) {
	for range 5 {
		row, err := q.GetWorkflow(ctx, p.ID)
		switch {
		case err == nil:
			return store.InsertResult{Workflow: workflow(row)}, nil
		case !isNoRows(err):
			return store.InsertResult{}, fmt.Errorf("insert workflow %q in the caller's transaction: read existing: %w", p.ID, err)
		}
		if p.DedupID != "" {
			holder, err := q.DedupHolder(ctx, pgdb.DedupHolderParams{QueueName: p.Queue, DedupID: p.DedupID})
			switch {
			case err == nil:
				return store.InsertResult{Err: &store.DuplicateError{Queue: p.Queue, DedupID: p.DedupID, ExistingID: holder}}, nil
			case !isNoRows(err):
				return store.InsertResult{}, fmt.Errorf("insert workflow %q in the caller's transaction: find deduplication ID holder: %w", p.ID, err)
			}
		}
		var rows []pgdb.Workflow
		q.InsertWorkflows(ctx, []pgdb.InsertWorkflowsParams{insertsArgs([]store.InsertParams{p})}).Query(func(_ int, r []pgdb.Workflow, e error) { rows, err = r, e })
		if err != nil {
			return store.InsertResult{}, fmt.Errorf("insert workflow %q in the caller's transaction: %w", p.ID, err)
		}
		if len(rows) == 1 {
			return store.InsertResult{Workflow: workflow(rows[0]), Created: true}, nil
		}
	}
	return store.InsertResult{}, fmt.Errorf("insert workflow %q in the caller's transaction: its ID or deduplication ID %q on queue %q kept changing hands", p.ID, p.DedupID, p.Queue)
}

// txDBTX returns the pgdb.DBTX (and batchSender) that runs queries in tx.
func txDBTX(tx any) (interface {
	pgdb.DBTX
	batchSender
}, error) {
	switch t := tx.(type) {
	case pgx.Tx:
		return t, nil
	case *sql.Tx:
		if t != nil {
			return sqlTx{t}, nil
		}
	}
	if tx == nil {
		return nil, errors.New("the transaction is nil: pass the pgx.Tx or *sql.Tx the call is to be written in")
	}
	return nil, fmt.Errorf("unsupported transaction type %T: on Postgres pass a pgx.Tx, or a *sql.Tx of pgx's database/sql driver (github.com/jackc/pgx/v5/stdlib)", tx)
}

// checkTx checks that tx (whose queries q runs) is on the store's
// database: once per connection for a pgx.Tx, at every call for a *sql.Tx
// (database/sql does not tell a transaction's connection).
func (s *Store) checkTx(ctx context.Context, tx any, q *pgdb.Queries) error {
	var conn *pgx.Conn
	if t, ok := tx.(pgx.Tx); ok {
		conn = t.Conn()
	}
	if conn == nil {
		return s.checkTxDatabase(ctx, q)
	}
	key := weak.Make(conn)
	if _, ok := s.txDB.checked.Load(key); ok {
		return nil
	}
	if err := s.checkTxDatabase(ctx, q); err != nil {
		return err
	}
	if _, loaded := s.txDB.checked.LoadOrStore(key, struct{}{}); !loaded {
		runtime.AddCleanup(conn, func(k weak.Pointer[pgx.Conn]) { s.txDB.checked.Delete(k) }, key)
	}
	return nil
}

// checkTxDatabase checks, in the caller's transaction, that it is on the
// store's database.
func (s *Store) checkTxDatabase(ctx context.Context, q *pgdb.Queries) error {
	want, err := s.txDB.get(ctx, s.q)
	if err != nil {
		return fmt.Errorf("identify the runtime's database: %w", err)
	}
	got, err := q.TxDatabase(ctx)
	if err != nil {
		if notPostgres(err) {
			return fmt.Errorf("%w: the transaction is not on a Postgres database (%v); begin it on the runtime's database (Config.DatabaseURL)", sentinel.ErrOtherDatabase, err)
		}
		return fmt.Errorf("identify the transaction's database: %w", err)
	}
	if got != want {
		return fmt.Errorf("%w: the transaction is on database %q of the Postgres cluster with system identifier %d, the runtime on database %q of cluster %d; begin it on the runtime's database (Config.DatabaseURL)",
			sentinel.ErrOtherDatabase, got.DatabaseName, got.SystemIdentifier, want.DatabaseName, want.SystemIdentifier)
	}
	return nil
}

// get returns the runtime's database, reading it at the first call.
func (d *txDatabase) get(ctx context.Context, q *pgdb.Queries) (pgdb.TxDatabaseRow, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.read {
		row, err := q.TxDatabase(ctx)
		if err != nil {
			return pgdb.TxDatabaseRow{}, err
		}
		d.row, d.read = row, true
	}
	return d.row, nil
}

// notPostgres reports whether err, from a statement sent in the caller's
// transaction, says that the transaction's server is not Postgres: it is
// neither Postgres's own error nor a failure to reach the server.
func notPostgres(err error) bool {
	var (
		pgErr  *pgconn.PgError
		netErr net.Error
	)
	return !errors.As(err, &pgErr) && !errors.As(err, &netErr) && !pgconn.Timeout(err) &&
		!errors.Is(err, driver.ErrBadConn) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
		!errors.Is(err, sql.ErrTxDone)
}

// txHint adds to a failure of the insert the likely cause when it is
// database/sql's refusal of an array argument: a *sql.Tx of another
// driver than pgx's.
func txHint(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return err
	}
	if msg := err.Error(); strings.Contains(msg, "converting argument") {
		return fmt.Errorf("%w (a *sql.Tx on Postgres must come from pgx's database/sql driver, github.com/jackc/pgx/v5/stdlib)", err)
	}
	return err
}
