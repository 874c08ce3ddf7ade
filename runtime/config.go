package dbos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/dbosgen/dbosgen/runtime/internal/executor"
	"github.com/dbosgen/dbosgen/runtime/internal/registry"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore"
)

// DefaultDatabaseURL is the database used when neither Config.DatabaseURL
// nor $DBOS_DATABASE_URL is set: an SQLite file in the working directory.
const DefaultDatabaseURL = "sqlite:dbos.sqlite"

// Defaults of Config's durations.
const (
	// DefaultPostgresPoll is the fallback poll on Postgres, where
	// LISTEN/NOTIFY wakes dispatchers and waiters.
	DefaultPostgresPoll = time.Second
	// DefaultSQLitePoll is the poll on SQLite, which has no notifications
	// between processes.
	DefaultSQLitePoll = 50 * time.Millisecond
	// DefaultPolledPoll is the poll on Postgres when the process does not
	// listen for notifications: its database URL goes through a
	// transaction pooler (PgBouncer) and no Config.ListenURL is set.
	DefaultPolledPoll = 100 * time.Millisecond
	// DefaultLeaseDuration is how long an executor is presumed alive after
	// its last heartbeat.
	DefaultLeaseDuration = 5 * time.Second
)

// Config configures a runtime. The zero value is ready to use.
type Config struct {
	// DatabaseURL is "postgres://..." (or "postgresql://...") or
	// "sqlite:PATH". Defaults to $DBOS_DATABASE_URL, then to
	// DefaultDatabaseURL.
	DatabaseURL string

	// ExecutorID names this process as an executor. A process restarted
	// with the same ID resumes the PENDING work it left. Defaults to
	// $DBOS_EXECUTOR_ID, then to a fresh unique ID.
	ExecutorID string

	// Logger receives the runtime's logs: with Info, every launch, resume
	// and takeover; with Warn and Error, what an operator must know (a
	// database outage and its end, a step that gave up after its retries,
	// an outcome that could not be recorded). Defaults to slog.Default(),
	// at level Warn and above: quiet while all is well.
	Logger *slog.Logger

	// PollInterval is how often dispatchers and waiters look at the database
	// when no event woke them. Defaults to DefaultPostgresPoll on Postgres
	// and DefaultSQLitePoll on SQLite.
	PollInterval time.Duration

	// LeaseDuration is how long this executor is presumed alive after each
	// heartbeat (sent every LeaseDuration/5). When a process stops
	// heartbeating for longer, a live executor that runs them (see
	// AppVersion) takes over its PENDING workflows, which resume from
	// their checkpoints. Defaults to DefaultLeaseDuration.
	LeaseDuration time.Duration

	// Retention is how long finished workflows (SUCCESS, ERROR, CANCELLED,
	// DEAD_LETTER) are kept after they finished; older ones are deleted
	// with their steps, messages and events. 0 (the default) keeps everything. Every process
	// with a Retention sweeps every Retention (at least every minute, at
	// most every 100ms), one process at a time (the others skip their
	// sweep while one runs), in transactions of at most 1,000 workflows
	// that hold no queue back. A finished workflow whose parent is still
	// ENQUEUED or PENDING is kept until the parent finished; unfinished
	// workflows are never deleted. Processes sharing a database should
	// agree on it: each deletes what its own Retention says expired.
	Retention time.Duration

	// AppVersion names the version of the application this process runs.
	// Each workflow records the version it started under, and only a
	// process of that version resumes it or takes it over after a crash:
	// its checkpoints replay correctly only against the code that wrote
	// them. A call not yet started may run in any version whose function
	// has the same signature (parameter names and types, result type),
	// so the queues of an old version drain into a new one. Defaults to
	// $DBOS_APP_VERSION, then to a version derived from the code: a hash
	// of every registered step's and workflow's signature and of every
	// workflow's source, so that rebuilding the same code keeps the
	// version and changing a workflow changes it. (Steps' bodies, and the
	// code a workflow calls besides its durable calls, do not count: set
	// AppVersion yourself when such a change must not replay old
	// checkpoints.)
	AppVersion string

	// ListenQueues are the queues this process runs: it claims the tasks
	// of these alone. nil runs every declared queue. Every process still
	// enqueues to any queue, and takes over (after a crash elsewhere) the
	// workflows started without a queue whose function it registers.
	ListenQueues []*Queue

	// ClientOnly makes a process that runs nothing: no queue, no
	// recovery at Launch, no takeover of other processes' work. It
	// enqueues, retrieves and waits for results (GetResult), cancels,
	// resumes (a resumed workflow goes to its queue, or waits for a
	// process that runs it) and lists; StartF and RunF (outside a
	// workflow) fail with an error matching ErrClientOnly. Use it for a
	// front end (an HTTP server) whose work runs in worker processes.
	ClientOnly bool

	// NoMigrate makes Launch leave the database's schema alone: it opens
	// the database only if its schema is at this program's version, and
	// otherwise fails with an error matching ErrSchema (and, on SQLite,
	// creates no file). By default Launch creates the schema or upgrades
	// it. Use it where the database role may not change the schema, or
	// for tools that must not (dbosctl).
	NoMigrate bool

	// MaxConns is the most connections this process opens to Postgres: its
	// pool's and the one it LISTENs on. Processes × MaxConns must fit in
	// the server's max_connections (less superuser_reserved_connections)
	// and the role's CONNECTION LIMIT; a call that finds no free slot
	// waits for one and retries (logged once, with how long it lasted),
	// and Launch fails when the server has none. Defaults to
	// DefaultMaxConns (8: a dozen processes fit in Postgres's default of
	// 100), or the URL's pool_max_conns plus one. At least 2 when the
	// process listens. Ignored on SQLite.
	MaxConns int

	// ListenURL names a direct connection to the same Postgres database,
	// for LISTEN, when DatabaseURL goes through a transaction pooler
	// (PgBouncer in transaction mode, detected at Launch: it refuses the
	// planner settings a direct connection takes). Without it such a
	// process polls every PollInterval (default DefaultPolledPoll) and
	// logs one warning. A multi-host URL works as in DatabaseURL.
	// Defaults to $DBOS_LISTEN_URL.
	ListenURL string

	// TracerProvider receives the runtime's spans: a producer span
	// (messaging.operation.type "send") for each enqueue, start, fork and
	// batch enqueue, a consumer span ("process") for each run of a
	// workflow (one per attempt), and a span for each step run. A
	// workflow keeps its enqueuer's trace context in the database, and
	// each of its runs, in whichever process, is a child of the enqueue:
	// a workflow, the children it enqueues and their runs form one trace
	// across processes. Defaults to otel.GetTracerProvider(): while no
	// provider is set there (nor one given here), tracing costs nothing,
	// and nothing is stored; once one is set with otel.SetTracerProvider,
	// even after Launch, spans flow to it.
	TracerProvider trace.TracerProvider

	// MeterProvider receives the runtime's metrics: counters of the
	// workflows enqueued, started, succeeded, failed and cancelled,
	// histograms of their queue wait and run time (by queue and
	// function), and gauges of each queue's ENQUEUED and PENDING
	// workflows, read from the database once per collection. Defaults to
	// otel.GetMeterProvider(), followed as TracerProvider is.
	MeterProvider metric.MeterProvider
}

// DefaultMaxConns is the default of Config.MaxConns.
const DefaultMaxConns = pgstore.DefaultMaxConns

// resolved returns the config with every default filled in.
func (c Config) resolved() (Config, error) {
	if c.DatabaseURL == "" {
		c.DatabaseURL = os.Getenv("DBOS_DATABASE_URL")
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = DefaultDatabaseURL
	}
	if c.ExecutorID == "" {
		c.ExecutorID = os.Getenv("DBOS_EXECUTOR_ID")
	}
	if c.ExecutorID == "" {
		id, err := freshExecutorID()
		if err != nil {
			return c, err
		}
		c.ExecutorID = id
	}
	if c.Logger == nil {
		c.Logger = slog.New(warnAndUp{slog.Default().Handler()})
	}
	if c.PollInterval < 0 {
		return c, fmt.Errorf("Config.PollInterval %s: must not be negative", c.PollInterval)
	}
	if c.LeaseDuration < 0 || (c.LeaseDuration > 0 && c.LeaseDuration < 50*time.Millisecond) {
		return c, fmt.Errorf("Config.LeaseDuration %s: must be at least 50ms", c.LeaseDuration)
	}
	if c.Retention < 0 {
		return c, fmt.Errorf("Config.Retention %s: must not be negative (0 keeps every workflow)", c.Retention)
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = DefaultLeaseDuration
	}
	if c.MaxConns < 0 {
		return c, fmt.Errorf("Config.MaxConns %d: must not be negative (0: DefaultMaxConns, %d)", c.MaxConns, DefaultMaxConns)
	}
	if c.ListenURL == "" {
		c.ListenURL = os.Getenv("DBOS_LISTEN_URL")
	}
	if c.ListenURL != "" && !executor.IsPostgresURL(c.ListenURL) {
		return c, fmt.Errorf("Config.ListenURL: want a postgres:// URL of the database DatabaseURL reaches, directly")
	}
	if c.PollInterval == 0 {
		if executor.IsPostgresURL(c.DatabaseURL) {
			c.PollInterval = DefaultPostgresPoll
		} else {
			c.PollInterval = DefaultSQLitePoll
		}
	}
	if c.AppVersion == "" {
		c.AppVersion = os.Getenv("DBOS_APP_VERSION")
	}
	if c.AppVersion == "" {
		c.AppVersion = registry.AppVersion()
	}
	if c.TracerProvider == nil {
		c.TracerProvider = otel.GetTracerProvider()
	}
	if c.MeterProvider == nil {
		c.MeterProvider = otel.GetMeterProvider()
	}
	if c.ClientOnly && len(c.ListenQueues) > 0 {
		return c, fmt.Errorf("Config.ClientOnly runs no queue, but Config.ListenQueues names %d; set one or the other", len(c.ListenQueues))
	}
	return c, nil
}

// listen returns the names of the queues of ListenQueues (nil: every
// declared queue), checking that each one was declared with NewQueue.
func (c Config) listen(decls []store.QueueConfig) ([]string, error) {
	if c.ListenQueues == nil {
		return nil, nil
	}
	names := make([]string, 0, len(c.ListenQueues))
	for i, q := range c.ListenQueues {
		if q == nil {
			return nil, fmt.Errorf("Config.ListenQueues[%d] is nil", i)
		}
		if !slices.ContainsFunc(decls, func(d store.QueueConfig) bool { return d.Name == q.name }) {
			return nil, fmt.Errorf("Config.ListenQueues[%d]: queue %q is not declared; declare it with dbos.NewQueue", i, q.name)
		}
		names = append(names, q.name)
	}
	return names, nil
}

// freshExecutorID returns "<hostname>-<16 random hex digits>", unique
// across processes and machines.
func freshExecutorID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make executor ID: %w", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "executor"
	}
	return host + "-" + hex.EncodeToString(b[:]), nil
}

// warnAndUp passes only records of level Warn and above to its handler:
// the default logger's filter.
type warnAndUp struct{ slog.Handler }

func (h warnAndUp) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnAndUp) WithAttrs(as []slog.Attr) slog.Handler { return warnAndUp{h.Handler.WithAttrs(as)} }

func (h warnAndUp) WithGroup(name string) slog.Handler { return warnAndUp{h.Handler.WithGroup(name)} }
