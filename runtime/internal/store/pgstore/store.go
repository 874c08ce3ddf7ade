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
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbosgen/dbosgen/runtime/internal/outage"
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
	pool     *pool
	q        *pgdb.Queries
	logger   *slog.Logger
	listener *listener // nil behind a pooler without a ListenURL: the store polls
	pooled   bool      // behind a transaction pooler (see connect)
	// origin tags the completion notifications this store sends, so that
	// its own listener drops them unread (see Events).
	origin string

	// limited holds the queues whose last claim here found them limited,
	// with the path that claim took (queue name -> claimPath, see route):
	// their next claim goes straight to that locked path instead of
	// trying the unlimited statement first. Only a routing hint: every
	// path reads the queue's declaration itself.
	limited sync.Map

	txDB txDatabase // the database InsertTx checks transactions against (tx.go)

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

// options are the knobs tests turn, and the public Options.
type options struct {
	eventBuffer int                        // capacity of Events
	onNotify    func(*pgconn.Notification) // see listener.onNotify
	public      Options
}

func open(ctx context.Context, url string, logger *slog.Logger, opts options) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := configure(url, opts.public)
	if err != nil {
		return nil, err
	}
	budget := opts.public.MaxConns
	if budget < 0 {
		return nil, fmt.Errorf("Config.MaxConns %d: must not be negative (0: the default, %d)", budget, DefaultMaxConns)
	}
	if budget == 0 {
		budget = DefaultMaxConns
		if strings.Contains(url, "pool_max_conns") {
			budget = int(cfg.MaxConns) + 1
		}
	}
	info, err := connect(ctx, cfg, budget, logger)
	if err != nil {
		return nil, err
	}
	listening := !info.pooled || opts.public.ListenURL != ""
	cfg.MaxConns = int32(budget)
	if listening {
		if budget < 2 {
			return nil, fmt.Errorf("Config.MaxConns %d leaves no connection for work besides the LISTEN connection: set at least 2", budget)
		}
		cfg.MaxConns--
	}
	if cfg.MinConns > cfg.MaxConns {
		cfg.MinConns = cfg.MaxConns
	}
	pgxPool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres at %s: %w", info.where, err)
	}
	p := &pool{Pool: pgxPool, log: logger, slots: &outage.Tracker{Begin: slotBegin, End: slotEnd}}
	s := &Store{pool: p, q: pgdb.New(p), logger: logger, pooled: info.pooled, origin: newOrigin()}
	if err := s.migrate(ctx, opts.public.NoMigrate); err != nil {
		p.Close()
		return nil, fmt.Errorf("migrate postgres at %s: %w", info.where, err)
	}
	lcfg, err := listenTarget(ctx, s, cfg, info, opts.public)
	if err != nil {
		p.Close()
		return nil, err
	}
	if lcfg == nil {
		pollWarning(logger, info)
		return s, nil
	}
	s.listener, err = startListener(ctx, lcfg, logger, opts, s.origin)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("listen for notifications on postgres at %s: %w", info.where, err)
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
// It is nil when the store does not listen (behind a transaction pooler
// without Options.ListenURL): the runtime then polls.
func (s *Store) Events() <-chan store.Event {
	if s.listener == nil {
		return nil
	}
	return s.listener.out
}

// Pooled reports whether the store reaches Postgres through a transaction
// pooler (PgBouncer): see connect.
func (s *Store) Pooled() bool { return s.pooled }

// Close stops the listener and closes the pool. It is safe to call twice.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.listener != nil {
			s.listener.stop()
		}
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
//
// It returns the settings it added. Behind PgBouncer, which refuses them,
// connect takes them out again: set them for the role instead (see the
// README's Production Postgres).
func planWithIndexes(c *pgx.ConnConfig) (added []string) {
	if c.RuntimeParams == nil {
		c.RuntimeParams = map[string]string{}
	}
	for _, name := range plannerParams {
		if _, ok := c.RuntimeParams[name]; !ok {
			c.RuntimeParams[name] = "off"
			added = append(added, name)
		}
	}
	return added
}
