// Package pgstore is the Postgres engine of the store: a pgx connection pool
// running the sqlc queries of sql/postgres (package pgdb), the embedded
// migrations applied at Open, and a LISTEN connection that turns the
// notifications of Notify, sent by every process sharing the database,
// into store.Events.
//
// Every process sharing the database shares the queue limits: the newest
// declaration of each queue is stored in the database, and a claim on a
// limited queue takes a transaction-scoped advisory lock derived from the
// queue name and reads the declaration and the limits' counts under it,
// using the database clock. Enqueues hold the same lock in shared mode, so
// a limited claim never overtakes an enqueue in flight (strict order).
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/migrate"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
	dbsql "github.com/dbosgen/dbosgen/sql"
)

// DefaultEventBuffer is the capacity of the Events channel. When a slow
// consumer lets it fill, further notifications are dropped and replaced by
// one store.EventResync.
const DefaultEventBuffer = 1024

// Store is the Postgres store. Create it with Open.
type Store struct {
	pool     *pgxpool.Pool
	q        *pgdb.Queries
	logger   *slog.Logger
	listener *listener

	// limited holds the queues whose last claim here found them limited,
	// with the path that claim took (queue name -> claimPath, see route):
	// their next claim goes straight to that locked path instead of
	// trying the unlimited statement first. Only a routing hint: every
	// path reads the queue's declaration itself.
	limited sync.Map

	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Open connects to the Postgres database at url (a postgres:// URL or a
// key=value connection string), applies the pending migrations and starts
// listening for notifications. Many processes may Open one database at once:
// migrations run one process at a time under an advisory lock. A nil logger
// discards logs.
func Open(ctx context.Context, url string, logger *slog.Logger) (*Store, error) {
	return open(ctx, url, logger, options{eventBuffer: DefaultEventBuffer})
}

// OpenExisting is Open for a database already migrated: it applies no
// migration, and fails with an error wrapping sentinel.ErrSchema when the
// database's schema is missing or older than this program's.
func OpenExisting(ctx context.Context, url string, logger *slog.Logger) (*Store, error) {
	return open(ctx, url, logger, options{eventBuffer: DefaultEventBuffer, noMigrate: true})
}

// DefaultMaxConns is the size of the connection pool unless the URL sets
// pool_max_conns. pgx's default (4 on a 2-core machine) makes the
// runtime's concurrent calls (inserts, claims, completions, notifications,
// reads of results, heartbeats) queue for a connection while the server
// idles; Postgres's own default allows 100 connections.
const DefaultMaxConns = 16

// options are the knobs tests turn.
type options struct {
	eventBuffer int                        // capacity of Events
	onNotify    func(*pgconn.Notification) // see listener.onNotify
	noMigrate   bool                       // see OpenExisting
}

func open(ctx context.Context, url string, logger *slog.Logger, opts options) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The error of ParseConfig never repeats the password.
		return nil, fmt.Errorf("parse postgres connection string: %w", err)
	}
	// pgx's own errors name the user and database.
	where := net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
	planWithIndexes(cfg.ConnConfig)
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres at %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres at %s: %w", where, err)
	}
	s := &Store{pool: pool, q: pgdb.New(pool), logger: logger}
	if err := s.migrate(ctx, opts.noMigrate); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate postgres at %s: %w", where, err)
	}
	s.listener, err = startListener(ctx, cfg.ConnConfig, logger, opts)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("listen for notifications on postgres at %s: %w", where, err)
	}
	return s, nil
}

// migrate applies the pending migrations (see package migrate) in one
// transaction holding an advisory lock, so that concurrent Opens of a fresh
// database migrate it exactly once.
func (s *Store) migrate(ctx context.Context, check bool) error {
	if check {
		return migrate.Check(ctx, s.engine())
	}
	return migrate.Run(ctx, s.engine(), s.logger)
}

// engine is the migration runner's view of the store.
func (s *Store) engine() migrate.Engine {
	return migrate.Engine{
		Name:       "postgres",
		Migrations: dbsql.PostgresMigrations,
		Locked: func(ctx context.Context, fn func(migrate.Tx) error) error {
			return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
				q := s.q.WithTx(tx)
				if err := q.LockMigrations(ctx); err != nil {
					return fmt.Errorf("lock migrations: %w", err)
				}
				return fn(migrationTx{tx: tx, q: q})
			})
		},
	}
}

// migrationTx is migrate.Tx on Postgres.
type migrationTx struct {
	tx pgx.Tx
	q  *pgdb.Queries
}

func (m migrationTx) Bookkept(ctx context.Context) (bool, error) {
	return m.q.MigrationsTableExists(ctx)
}

func (m migrationTx) Version(ctx context.Context) (int64, error) { return m.q.MigrationVersion(ctx) }

// Exec runs a migration file: several statements, which pgx, given no
// arguments, sends with the simple protocol, which runs them all.
func (m migrationTx) Exec(ctx context.Context, statements string) error {
	_, err := m.tx.Exec(ctx, statements)
	return err
}

func (m migrationTx) Record(ctx context.Context, version int64) error {
	return m.q.InsertMigration(ctx, version)
}

// Engine returns "postgres".
func (s *Store) Engine() string { return "postgres" }

// Events returns the notifications of every process sharing the database
// (this one included). The channel closes when the store closes.
func (s *Store) Events() <-chan store.Event { return s.listener.out }

// Close stops the listener and closes the pool. It is safe to call twice.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.listener.stop()
		s.pool.Close()
	})
	return nil
}

// isNoRows reports whether err means a query returned no row.
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// planWithIndexes makes the connections' planner avoid reading a table
// whole when an index can serve (enable_seqscan off: a cost penalty, not a
// ban; a statement no index serves still reads the table). Every hot
// statement of the runtime is written for an index, but the planner's
// picture of dbos.workflows is always stale: its rows change state by the
// thousand between analyses (and are never analyzed with autovacuum off),
// and a plan cached for a prepared statement while the table was small
// (pgx prepares every statement) reads it whole on every call after,
// however large it grows. The session's setting travels in the startup
// packet: no round trip. A setting the caller put in the URL wins.
//
// It also turns JIT compilation off (jit): the penalty enable_seqscan adds
// to a statement that must read a table whole (the few rows of
// dbos.executors, read at every heartbeat) lifts its estimated cost far
// above jit_above_cost, and Postgres then spent some 250 ms compiling a
// statement that runs in a millisecond. None of the runtime's statements
// runs long enough for JIT to pay.
func planWithIndexes(c *pgx.ConnConfig) {
	if c.RuntimeParams == nil {
		c.RuntimeParams = map[string]string{}
	}
	if _, ok := c.RuntimeParams["enable_seqscan"]; !ok {
		c.RuntimeParams["enable_seqscan"] = "off"
	}
	if _, ok := c.RuntimeParams["jit"]; !ok {
		c.RuntimeParams["jit"] = "off"
	}
}
