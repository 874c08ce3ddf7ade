// Package sqlitestore is the SQLite engine of the store: modernc.org/sqlite
// (pure Go) through database/sql, running the sqlc queries of sql/sqlite
// (package sqlitedb) on one database file, with the embedded migrations
// applied at Open.
//
// The file is opened in WAL mode with a busy timeout, and every transaction
// begins IMMEDIATE: a writer takes the file's write lock before it reads, so
// writers serialize across goroutines and OS processes without deadlocks, and
// a claim's counts and its updates happen under one lock. Several processes
// may share the file; SQLite has no notifications, so Events returns nil and
// the runtime polls.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/migrate"
	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore/sqlitedb"
	dbsql "github.com/dbosgen/dbosgen/sql"
)

// BusyTimeout is how long a statement waits for another connection or
// process to release the database's write lock before failing.
const BusyTimeout = 10 * time.Second

// Store is the SQLite store. Create it with Open.
type Store struct {
	db     *sql.DB
	q      *sqlitedb.Queries
	path   string
	logger *slog.Logger

	// writeMu queues this process's writers in Go instead of letting them
	// spin in SQLite's busy handler; other processes still wait on the
	// file lock with BusyTimeout.
	writeMu sync.Mutex

	lastRuns atomic.Pointer[encodedRuns] // see runsOf

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database file at path and
// applies the pending migrations. Many processes may Open one file at once:
// migrations run one process at a time under the file's write lock. A nil
// logger discards logs.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	return open(ctx, path, logger, false)
}

// OpenExisting is Open for a database file already migrated: it creates
// no file and applies no migration, and fails with an error wrapping
// sentinel.ErrSchema when the file's schema is missing or older than this
// program's.
func OpenExisting(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return open(ctx, path, logger, true)
}

func open(ctx context.Context, path string, logger *slog.Logger, noMigrate bool) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if path == "" {
		return nil, errors.New("open sqlite: empty file path")
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open sqlite %s: the file path must not contain '?'", path)
	}
	params := url.Values{}
	params.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	params.Add("_pragma", "journal_mode(WAL)")
	params.Add("_pragma", "synchronous(NORMAL)")
	params.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := ping(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	s := &Store{db: db, q: sqlitedb.New(db), path: path, logger: logger}
	if err := s.migrate(ctx, noMigrate); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate sqlite %s: %w", path, err)
	}
	// Every statement is prepared once (per connection, by database/sql),
	// once the schema it names exists: parsing each statement at each
	// call cost more than running it.
	q, err := sqlitedb.Prepare(ctx, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: prepare statements: %w", path, err)
	}
	s.q = q
	return s, nil
}

// ping opens the first connection, which applies the DSN's pragmas. When
// several processes open a new file at once, their switches to WAL mode
// contend for the file's exclusive lock, and SQLite reports SQLITE_BUSY at
// once instead of waiting (it would deadlock); ping retries then, for up to
// BusyTimeout.
func ping(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(BusyTimeout)
	wait := 5 * time.Millisecond
	for {
		err := db.PingContext(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait/2 + rand.N(wait)):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// isBusy reports whether err is SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// migrate applies the pending migrations (see package migrate) in one
// IMMEDIATE transaction, which holds the file's write lock from its start,
// so that concurrent Opens migrate a new file once.
func (s *Store) migrate(ctx context.Context, check bool) error {
	if check {
		return migrate.Check(ctx, s.engine())
	}
	return migrate.Run(ctx, s.engine(), s.logger)
}

// engine is the migration runner's view of the store.
func (s *Store) engine() migrate.Engine {
	return migrate.Engine{
		Name:       "sqlite",
		Migrations: dbsql.SQLiteMigrations,
		Locked: func(ctx context.Context, fn func(migrate.Tx) error) error {
			return s.inTx(ctx, func(q *sqlitedb.Queries, tx *sql.Tx) error {
				return fn(migrationTx{tx: tx, q: q})
			})
		},
	}
}

// migrationTx is migrate.Tx on SQLite.
type migrationTx struct {
	tx *sql.Tx
	q  *sqlitedb.Queries
}

func (m migrationTx) Bookkept(ctx context.Context) (bool, error) {
	columns, err := m.q.MigrationsTableExists(ctx)
	return columns > 0, err
}

func (m migrationTx) Version(ctx context.Context) (int64, error) { return m.q.MigrationVersion(ctx) }

// Exec runs a migration file: the driver runs every statement of the text.
func (m migrationTx) Exec(ctx context.Context, statements string) error {
	_, err := m.tx.ExecContext(ctx, statements)
	return err
}

func (m migrationTx) Record(ctx context.Context, version int64) error {
	return m.q.InsertMigration(ctx, version)
}

// inTx runs fn in one IMMEDIATE transaction, holding writeMu.
func (s *Store) inTx(ctx context.Context, fn func(q *sqlitedb.Queries, tx *sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(s.q.WithTx(tx), tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// write runs one autocommit statement holding writeMu.
func (s *Store) write(fn func() error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return fn()
}

// Engine returns "sqlite".
func (s *Store) Engine() string { return "sqlite" }

// Events returns nil: SQLite has no notifications.
func (s *Store) Events() <-chan store.Event { return nil }

// Notify does nothing: SQLite has no notifications.
func (s *Store) Notify(context.Context, []store.Event) error { return nil }

// Close closes the database. It is safe to call twice.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		_ = s.q.Close() // the database's Close closes them anyway
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close sqlite %s: %w", s.path, err)
		}
	})
	return s.closeErr
}
