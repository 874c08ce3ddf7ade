package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbosgen/dbosgen/runtime/internal/outage"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

// DefaultMaxConns is the most connections one process opens to the server
// unless Options.MaxConns (dbos.Config.MaxConns) says otherwise: its pool's
// and its LISTEN connection. Sized for a fleet: a dozen processes fit in
// Postgres's default max_connections (100) with room to spare. The runtime
// coalesces its calls (inserts, claims, completions, notifications): the
// benchmarks (seedloop, drain, latency) ran as fast with 8 as with 16.
const DefaultMaxConns = 8

// Options are what OpenWith takes beyond the URL.
type Options struct {
	// MaxConns is the most connections the store opens to the server: its
	// pool's and, when it listens, the LISTEN connection's. 0:
	// DefaultMaxConns (or the URL's pool_max_conns, plus one to listen).
	MaxConns int

	// ListenURL names a direct connection to the same database for LISTEN,
	// for a URL that goes through a transaction pooler (PgBouncer). Empty:
	// listen through the URL, or poll when it goes through a pooler.
	ListenURL string

	// ApplicationName is the application_name of every connection, unless
	// the URL sets one: what pg_stat_activity shows of this process.
	ApplicationName string

	// NoMigrate makes the store apply no migration: it fails with an
	// error wrapping sentinel.ErrSchema when the database's schema is
	// missing or older than this program's.
	NoMigrate bool
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, url string, logger *slog.Logger, opts Options) (*Store, error) {
	return open(ctx, url, logger, options{eventBuffer: DefaultEventBuffer, public: opts})
}

// The settings planWithIndexes puts in the startup packet: a server
// accepts them; PgBouncer refuses a connection that sends them ("unsupported
// startup parameter"), which is how the store knows it is behind one.
var plannerParams = []string{"enable_seqscan", "jit"}

// conninfo is what connect learned about the way to the server.
type conninfo struct {
	where  string // host:port, for messages
	pooled bool   // behind a transaction pooler: no named prepared statements, no session state
	why    string // what said so
}

// configure parses url and sets what the store needs on every connection:
// the planner settings (not behind a pooler), application_name, a
// read-write target for a multi-host URL, and the pool's size.
func configure(url string, opts Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The error of ParseConfig never repeats the password.
		return nil, fmt.Errorf("parse postgres connection string: %w", err)
	}
	cc := cfg.ConnConfig
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok && opts.ApplicationName != "" {
		cc.RuntimeParams["application_name"] = truncate(opts.ApplicationName, 63)
	}
	if cc.ValidateConnect == nil && !strings.Contains(url, "target_session_attrs") && multiHost(cc) {
		// A multi-host URL names a primary and its standbys: the pool and
		// the listener must reach the one that takes writes, whichever it
		// is now (after a failover, another).
		cc.ValidateConnect = pgconn.ValidateConnectTargetSessionAttrsReadWrite
	}
	if !strings.Contains(url, "pool_max_conn_idle_time") {
		// An idle process gives its connections back to the fleet.
		cfg.MaxConnIdleTime = time.Minute
	}
	return cfg, nil
}

// hosts names the config's host:port pairs, for messages.
func hosts(cc *pgx.ConnConfig) string {
	names := []string{net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))}
	for _, f := range cc.Fallbacks {
		if n := net.JoinHostPort(f.Host, strconv.Itoa(int(f.Port))); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// multiHost reports whether the config names more than one host:port.
func multiHost(cc *pgx.ConnConfig) bool {
	for _, f := range cc.Fallbacks {
		if f.Host != cc.Host || f.Port != cc.Port {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// connect makes the first connection to the server, which tells whether a
// transaction pooler stands in between (it refuses the planner settings in
// the startup packet; or the URL chose a query mode without prepared
// statements, the usual way to declare one), and checks the connection
// slots left for this process. Behind a pooler, statements are sent
// without named prepared statements (pgx's cache_describe mode, one round
// trip each), which PgBouncer's transaction mode requires.
func connect(ctx context.Context, cfg *pgxpool.Config, budget int, log *slog.Logger) (conninfo, error) {
	cc := cfg.ConnConfig
	info := conninfo{where: hosts(cc)}
	if cc.DefaultQueryExecMode != pgx.QueryExecModeCacheStatement {
		info.pooled, info.why = true, "the URL sets default_query_exec_mode"
	}
	added := planWithIndexes(cc)
	if info.pooled {
		removeParams(cc, added)
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil && refusedParam(err) && len(added) > 0 {
		info.pooled, info.why = true, "it refused the startup parameter "+strings.Join(added, ", ")+" (PgBouncer does)"
		removeParams(cc, added)
		cc.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
		conn, err = pgx.ConnectConfig(ctx, cc)
	}
	if err != nil {
		if isNoSlot(err) {
			return info, noSlotError(info.where, budget, err)
		}
		return info, fmt.Errorf("connect to postgres at %s: %w", info.where, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if !info.pooled {
		checkSlots(ctx, pgdb.New(conn), info.where, budget, log)
	}
	return info, nil
}

// removeParams takes the named settings out of the startup packet.
func removeParams(cc *pgx.ConnConfig, names []string) {
	for _, n := range names {
		delete(cc.RuntimeParams, n)
	}
}

// refusedParam reports whether err is a pooler's refusal of a startup
// parameter.
func refusedParam(err error) bool {
	return strings.Contains(err.Error(), "unsupported startup parameter")
}

// isNoSlot reports whether err is the server's refusal of a connection for
// want of a slot: max_connections (less the reserved ones) or the role's
// or database's CONNECTION LIMIT reached (SQLSTATE 53300).
func isNoSlot(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "53300"
}

// noSlotError is the error of an Open that found no connection slot.
func noSlotError(where string, budget int, err error) error {
	return fmt.Errorf("connect to postgres at %s: the server has no free connection slot (%w); "+
		"every connection counts against its max_connections (less superuser_reserved_connections) and the role's CONNECTION LIMIT, "+
		"and this process opens up to %d (Config.MaxConns): make processes × MaxConns fit, by raising max_connections, "+
		"lowering Config.MaxConns, stopping idle clients, or putting PgBouncer in front", where, err, budget)
}

// checkSlots warns when the server has fewer free connection slots than
// this process may open.
func checkSlots(ctx context.Context, q *pgdb.Queries, where string, budget int, log *slog.Logger) {
	r, err := q.ConnectionSlots(ctx)
	if err != nil {
		log.Debug("dbos: could not read the server's connection slots", "err", err)
		return
	}
	free := int(r.MaxConnections) - int(r.InUse)
	if !r.Superuser {
		free -= int(r.Reserved)
	}
	limit := fmt.Sprintf("max_connections=%d, %d in use, %d reserved for superusers", r.MaxConnections, r.InUse, r.Reserved)
	if r.RoleLimit >= 0 {
		if roleFree := int(r.RoleLimit) - int(r.RoleInUse); roleFree < free {
			free = roleFree
		}
		limit += fmt.Sprintf("; the role's CONNECTION LIMIT %d, %d in use", r.RoleLimit, r.RoleInUse)
	}
	// This check's own connection is one of those this process will use.
	if free+1 < budget {
		log.Warn(fmt.Sprintf("dbos: postgres at %s has %d free connection slots and this process may open up to %d (Config.MaxConns); "+
			"when they run out its calls wait for a slot: raise max_connections or lower Config.MaxConns across the fleet", where, max(free+1, 0), budget),
			"limits", limit)
	}
}

// The messages of the pool's wait for a free connection slot: the first
// refused connection is logged, then the end of the wait with its length.
const (
	slotBegin = "dbos: postgres has no free connection slot for a new connection of this process; its calls wait for one and retry " +
		"(every connection counts against max_connections and the role's CONNECTION LIMIT: raise them, or lower Config.MaxConns across the fleet)"
	slotEnd = "dbos: postgres gave this process a connection again; its calls go on"
)

// Waits between attempts to get a connection slot.
const (
	slotFirstWait = 20 * time.Millisecond
	slotMaxWait   = time.Second
)

// pool is the store's connection pool: a pgxpool.Pool whose calls, when
// the server refuses a new connection for want of a slot (nothing was sent
// yet), wait and retry until ctx ends instead of failing.
type pool struct {
	*pgxpool.Pool
	log   *slog.Logger
	slots *outage.Tracker
}

var _ pgdb.DBTX = (*pool)(nil)

func (p *pool) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	wait := slotFirstWait
	for {
		c, err := p.Pool.Acquire(ctx)
		if err == nil {
			p.slots.Succeeded(p.log)
			return c, nil
		}
		if !isNoSlot(err) || ctx.Err() != nil {
			return nil, err
		}
		p.slots.Failed(p.log, "connect", err, wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (waited for a free connection slot: %w)", ctx.Err(), err)
		}
		wait = min(2*wait, slotMaxWait)
	}
}

// Acquire is pgxpool.Pool.Acquire, waiting for a slot.
func (p *pool) Acquire(ctx context.Context) (*pgxpool.Conn, error) { return p.acquire(ctx) }

// Exec is pgxpool.Pool.Exec, waiting for a slot.
func (p *pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Release()
	return c.Exec(ctx, sql, args...)
}

// Query is pgxpool.Pool.Query, waiting for a slot; closing the rows
// releases the connection.
func (p *pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		c.Release()
		return nil, err
	}
	return &connRows{Rows: rows, c: c}, nil
}

// QueryRow is pgxpool.Pool.QueryRow, waiting for a slot.
func (p *pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c, err := p.acquire(ctx)
	if err != nil {
		return errRow{err}
	}
	return connRow{row: c.QueryRow(ctx, sql, args...), c: c}
}

// SendBatch is pgxpool.Pool.SendBatch, waiting for a slot; closing the
// results releases the connection.
func (p *pool) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	c, err := p.acquire(ctx)
	if err != nil {
		return errBatch{err}
	}
	return &connBatch{BatchResults: c.SendBatch(ctx, b), c: c}
}

// Begin is pgxpool.Pool.Begin, waiting for a slot; the transaction's end
// releases the connection.
func (p *pool) Begin(ctx context.Context) (pgx.Tx, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		c.Release()
		return nil, err
	}
	return &connTx{Tx: tx, c: c}, nil
}

type connRows struct {
	pgx.Rows
	c *pgxpool.Conn
}

func (r *connRows) Close() {
	r.Rows.Close()
	if r.c != nil {
		r.c.Release()
		r.c = nil
	}
}

type connRow struct {
	row pgx.Row
	c   *pgxpool.Conn
}

func (r connRow) Scan(dest ...any) error {
	defer r.c.Release()
	return r.row.Scan(dest...)
}

type connBatch struct {
	pgx.BatchResults
	c *pgxpool.Conn
}

func (b *connBatch) Close() error {
	err := b.BatchResults.Close()
	if b.c != nil {
		b.c.Release()
		b.c = nil
	}
	return err
}

type connTx struct {
	pgx.Tx
	c *pgxpool.Conn
}

func (t *connTx) Commit(ctx context.Context) error {
	err := t.Tx.Commit(ctx)
	t.release()
	return err
}

func (t *connTx) Rollback(ctx context.Context) error {
	err := t.Tx.Rollback(ctx)
	t.release()
	return err
}

func (t *connTx) release() {
	if t.c != nil {
		t.c.Release()
		t.c = nil
	}
}

// errBatch is a pgx.BatchResults that fails.
type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow{b.err} }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }

// listenTarget returns the connection config of the LISTEN connection:
// ListenURL's when set (checked to reach the pool's database, directly),
// the pool's when not behind a pooler, nil when the store must poll.
func listenTarget(ctx context.Context, s *Store, cfg *pgxpool.Config, info conninfo, opts Options) (*pgx.ConnConfig, error) {
	if opts.ListenURL == "" {
		if info.pooled {
			return nil, nil
		}
		return cfg.ConnConfig, nil
	}
	lcfg, err := configure(opts.ListenURL, Options{ApplicationName: opts.ApplicationName})
	if err != nil {
		return nil, fmt.Errorf("Config.ListenURL: %w", err)
	}
	lc := lcfg.ConnConfig
	where := hosts(lc)
	added := planWithIndexes(lc) // harmless on a LISTEN connection; refused by a pooler
	conn, err := pgx.ConnectConfig(ctx, lc)
	if err != nil {
		if refusedParam(err) {
			return nil, fmt.Errorf("Config.ListenURL (%s) goes through a connection pooler (it refused the startup parameter %s): LISTEN needs a direct connection to Postgres; name the server itself, not PgBouncer",
				where, strings.Join(added, ", "))
		}
		return nil, fmt.Errorf("Config.ListenURL: connect to postgres at %s: %w", where, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	got, err := pgdb.New(conn).ServerIdentity(ctx)
	if err != nil {
		return nil, fmt.Errorf("Config.ListenURL: read the database of postgres at %s: %w", where, err)
	}
	want, err := s.q.ServerIdentity(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the database of postgres at %s: %w", info.where, err)
	}
	if got.Database != want.Database {
		return nil, fmt.Errorf("Config.ListenURL reaches database %q at %s, but the database URL reaches %q: notifications are per database; name the same database",
			got.Database, where, want.Database)
	}
	if got.InRecovery {
		return nil, fmt.Errorf("Config.ListenURL reaches a standby at %s (in recovery), which cannot LISTEN: name the primary, or list every host with target_session_attrs=read-write", where)
	}
	return lc, nil
}

// pollWarning is logged once when the store polls instead of listening.
func pollWarning(log *slog.Logger, info conninfo) {
	log.Warn(fmt.Sprintf("dbos: postgres at %s is reached through a connection pooler (%s); LISTEN through a transaction pooler is unreliable, "+
		"so this process does not listen: it polls for new work and results every Config.PollInterval. "+
		"Set Config.ListenURL (or $DBOS_LISTEN_URL) to a direct connection to the same database to wake at once", info.where, info.why))
}
