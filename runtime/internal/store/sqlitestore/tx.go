package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"modernc.org/sqlite"

	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore/sqlitedb"
)

var _ store.TxInserter = (*Store)(nil)

// TxDSNHint is what a program's own connection to the runtime's file needs
// so that its transactions and the runtime's wait for each other instead
// of failing with SQLITE_BUSY.
const TxDSNHint = "open it as the runtime does: ?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"

// InsertTx implements store.TxInserter: it checks that tx is on the
// store's file (PRAGMA database_list, compared with os.SameFile), then
// inserts ps one by one with InsertWorkflow, in tx. SQLite has no
// notifications: nothing is sent.
func (s *Store) InsertTx(ctx context.Context, tx any, ps []store.InsertParams) ([]store.InsertResult, error) {
	if err := storekit.ValidateInserts(ps); err != nil {
		return nil, err
	}
	t, ok := tx.(*sql.Tx)
	if !ok || t == nil {
		if tx == nil || ok {
			return nil, fmt.Errorf("the transaction is nil: pass the *sql.Tx the call is to be written in, on %s", s.path)
		}
		return nil, fmt.Errorf("unsupported transaction type %T: on SQLite pass a *sql.Tx of modernc.org/sqlite on the runtime's file %s", tx, s.path)
	}
	if len(ps) == 0 {
		return nil, nil
	}
	q := sqlitedb.New(t)
	if err := s.checkTxFile(ctx, q); err != nil {
		return nil, err
	}
	res, err := insertAll(ctx, q, ps)
	if err != nil {
		if isBusy(err) {
			err = fmt.Errorf("%w (the database file was locked by another writer; %s)", err, TxDSNHint)
		}
		return nil, fmt.Errorf("insert %d workflows in the caller's transaction: %w", len(ps), err)
	}
	return res, nil
}

// checkTxFile checks, in the caller's transaction, that its main database
// is the store's file.
func (s *Store) checkTxFile(ctx context.Context, q *sqlitedb.Queries) error {
	file, err := q.MainDatabaseFile(ctx)
	if err != nil {
		var se *sqlite.Error
		if !errors.As(err, &se) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, sql.ErrTxDone) {
			return fmt.Errorf("%w: the transaction is not on a SQLite database (%v); begin it on a *sql.DB of modernc.org/sqlite opened on %s", sentinel.ErrOtherDatabase, err, s.path)
		}
		return fmt.Errorf("identify the transaction's database file: %w", err)
	}
	if file == "" {
		return fmt.Errorf("%w: the transaction is on an in-memory or temporary SQLite database, the runtime on %s", sentinel.ErrOtherDatabase, s.path)
	}
	theirs, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("identify the transaction's database file: %w", err)
	}
	ours, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("identify the runtime's database file: %w", err)
	}
	if !os.SameFile(theirs, ours) {
		return fmt.Errorf("%w: the transaction is on %s, the runtime on %s; begin it on a *sql.DB opened on the runtime's file", sentinel.ErrOtherDatabase, file, s.path)
	}
	return nil
}
