// Package executor is one process's executor: attached to a database, it
// runs workflows and steps, makes their durable calls (enqueue, start, run,
// await) as checkpointed steps, writes fan-out calls late (deferred.go),
// replays checkpoints after a crash, and records outcomes. Package dbos
// launches one per process; the generated-code package calls into it.
//
// The rooms it uses: dispatch (claims and the slot reservations of every
// path that claims), groupcommit (one statement for many callers), notify
// (notifications between processes, local waiters), commitwatch (wake-ups
// after EnqueueFTx's commits without notifications), lease (heartbeat and
// takeover), retention (deleting old finished workflows), schedule (the
// clocks of scheduled workflows), registry (the
// functions this process can run), sentinel (the errors callers branch on)
// and store (the only door to the database).
package executor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/dbosgen/dbosgen/runtime/internal/commitwatch"
	"github.com/dbosgen/dbosgen/runtime/internal/dispatch"
	"github.com/dbosgen/dbosgen/runtime/internal/lease"
	"github.com/dbosgen/dbosgen/runtime/internal/notify"
	"github.com/dbosgen/dbosgen/runtime/internal/outage"
	"github.com/dbosgen/dbosgen/runtime/internal/registry"
	"github.com/dbosgen/dbosgen/runtime/internal/retention"
	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore"
	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore"
	"github.com/dbosgen/dbosgen/runtime/internal/telemetry"
)

// Config is a resolved dbos.Config: every field set.
type Config struct {
	DatabaseURL   string
	ExecutorID    string
	Logger        *slog.Logger
	PollInterval  time.Duration
	LeaseDuration time.Duration
	// Retention, when positive, is how long finished workflows are kept
	// (see package retention); 0 keeps them.
	Retention time.Duration
	// AppVersion is the application version this executor runs: it
	// records it on the workflows it starts and resumes or takes over
	// only those started under it.
	AppVersion string
	// ClientOnly: run nothing (no dispatchers, no recovery, no takeover);
	// enqueue, wait, cancel, resume and inspect only.
	ClientOnly bool
	// NoMigrate: open the database only if it is at this program's
	// schema version; never create or change the schema.
	NoMigrate bool
	// Listen names the queues to run; nil: every declared one.
	Listen []string
	// MaxConns and ListenURL: see pgstore.Options (0 and "": defaults).
	MaxConns  int
	ListenURL string
	// PolledPoll, when positive, replaces PollInterval when the store does
	// not listen for notifications (Postgres behind a transaction pooler
	// without ListenURL); 0 keeps PollInterval (set by the user).
	PolledPoll time.Duration
	// TracerProvider and MeterProvider receive the executor's spans and
	// measurements (see package telemetry); nil: otel's global ones.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
}

// Executor is a launched runtime: one executor process attached to a
// database.
type Executor struct {
	cfg        Config
	log        *slog.Logger
	store      store.Store
	executorID string
	// runs is what this executor runs: every registered function with its
	// fingerprint, at cfg.AppVersion (none for a client-only executor).
	runs *store.Runs

	queues  *dispatch.Queues
	waiters *notify.Waiters
	// inboxes wakes the receivers waiting for messages, by destination
	// workflow ID; events wakes the readers waiting for a workflow's
	// events, by its ID (see messages.go).
	inboxes  *notify.Waiters
	events   *notify.Waiters
	notifier *notify.Notifier // nil when the engine has no notifications
	active   sync.Map         // workflow ID -> context.CancelCauseFunc of those running here
	// live holds the ID of every workflow this process started, from its
	// start (before the claim that took it returns) until its outcome is
	// recorded; see recoverStranded.
	live     sync.Map
	stranded sync.Map       // queue name -> struct{}: a recoverStranded of it is under way
	outage   outage.Tracker // the database calls of running work that fail, logged once per outage
	tel      *telemetry.Telemetry
	commits  *commitwatch.Watcher // EnqueueTx's rows, on a store without notifications (outbox.go)

	// runCtx is the parent of every running workflow's context; cancelRun
	// interrupts them when Shutdown's deadline passes.
	runCtx    context.Context
	cancelRun context.CancelFunc
	stopping  atomic.Bool   // Shutdown began: completions and enqueues claim no more tasks
	closed    atomic.Bool   // the database is closed: every call fails
	stopCh    chan struct{} // closed when Shutdown begins
	running   sync.WaitGroup
	loops     sync.WaitGroup // dispatchers, the event loop and the heartbeat
	shutdown  sync.Once
}

var defaultExecutor atomic.Pointer[Executor]

// Launch opens the database (applying migrations), stores the declaration
// of every queue in decls (the newest declaration of a queue wins for
// every process; a change is logged), starts a dispatcher for each one it
// runs (cfg.Listen), resumes the PENDING work recorded under this
// executor's ID that it runs (and releases the rest for an executor that
// runs it), starts the clock of every scheduled workflow it registers
// (package schedule), and makes the executor the process default. A
// client-only executor (cfg.ClientOnly) starts no dispatcher and no
// clock, and resumes nothing.
func Launch(ctx context.Context, cfg Config, decls []store.QueueConfig) (*Executor, error) {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if st.Events() == nil && cfg.PolledPoll > 0 && IsPostgresURL(cfg.DatabaseURL) {
		cfg.PollInterval = cfg.PolledPoll
	}
	runCtx, cancelRun := context.WithCancel(context.Background())
	e := &Executor{
		cfg:        cfg,
		log:        cfg.Logger,
		store:      st,
		executorID: cfg.ExecutorID,
		waiters:    notify.NewWaiters(),
		inboxes:    notify.NewWaiters(),
		events:     notify.NewWaiters(),
		runCtx:     runCtx,
		cancelRun:  cancelRun,
		stopCh:     make(chan struct{}),
	}
	fail := func(err error) (*Executor, error) {
		cancelRun()
		if e.tel != nil {
			_ = e.tel.Close()
		}
		_ = st.Close()
		return nil, err
	}
	e.tel, err = telemetry.New(telemetry.Config{
		TracerProvider: cfg.TracerProvider,
		MeterProvider:  cfg.MeterProvider,
		ExecutorID:     cfg.ExecutorID,
		AppVersion:     cfg.AppVersion,
		Queues:         e.queueCounts,
	})
	if err != nil {
		return fail(err)
	}
	if err := e.declareQueues(ctx, decls); err != nil {
		return fail(err)
	}
	clocks, err := e.scheduled()
	if err != nil {
		return fail(err)
	}
	listened := listenedQueues(decls, cfg.Listen, cfg.ClientOnly)
	self := e.describe(listened)
	if err := st.RenewLease(ctx, self, cfg.LeaseDuration); err != nil {
		return fail(err)
	}
	pending, released, err := st.PendingFor(ctx, e.executorID, e.runs)
	if err != nil {
		return fail(fmt.Errorf("find work to resume for executor %q: %w", e.executorID, err))
	}
	if len(released) > 0 {
		ids := make([]string, len(released))
		for i, w := range released {
			ids[i] = w.ID
		}
		e.log.Warn(fmt.Sprintf("dbos: executor %s left %s it cannot run for an executor that can: started under another version, or of functions this process does not register as they were called", e.executorID, lease.Workflows(len(released))),
			"executor_id", e.executorID, "app_version", cfg.AppVersion, "workflows", ids)
	}
	e.notifier = notify.New(st, e.log)
	e.queues = dispatch.New(&dispatch.Env{
		Store:      st,
		ExecutorID: e.executorID,
		Log:        e.log,
		Poll:       cfg.PollInterval,
		Ctx:        runCtx,
		Stop:       e.stopCh,
		Stopping:   e.stopping.Load,
		Unsure:     e.recoverStranded,
		Notifier:   e.notifier,
		Start:      e.startClaimed,
		Runs:       e.runs,
		Outage:     &e.outage,
	}, listened)
	e.commits = e.newCommitWatch()
	if events := st.Events(); events != nil {
		e.loops.Go(func() { e.eventLoop(events) })
	}
	e.queues.Run(&e.loops)
	keeper := &lease.Keeper{
		Store:    st,
		Self:     self,
		Runs:     e.runs,
		TakeOver: !cfg.ClientOnly,
		Duration: cfg.LeaseDuration,
		Log:      e.log,
		Ctx:      runCtx,
		Schedule: e.schedule,
		Running:  e.runningIDs,
		Stop:     e.stopDisowned,
		Outage:   &e.outage,
	}
	e.loops.Go(func() { keeper.Run(e.stopCh) })
	if clocks != nil {
		e.loops.Go(func() { clocks.Run(e.stopCh) })
	}
	if cfg.Retention > 0 {
		sweeper := &retention.Sweeper{Store: st, ExecutorID: e.executorID, Retention: cfg.Retention, Log: e.log}
		e.loops.Go(func() { sweeper.Run(e.stopCh) })
	}
	for _, w := range pending {
		e.log.Info("dbos: resuming workflow", "workflow_id", w.ID, "name", w.Name, "attempt", w.Attempts)
		e.spawn(w)
	}
	for _, w := range released {
		if w.State == store.StateEnqueued {
			e.notifier.Enqueued(w.Queue)
		}
	}
	defaultExecutor.Store(e)
	role := "worker"
	if cfg.ClientOnly {
		role = "client"
	}
	e.log.Info("dbos: launched", "executor_id", e.executorID, "app_version", cfg.AppVersion, "role", role, "engine", st.Engine(),
		"queues", len(listened), "resumed", len(pending))
	return e, nil
}

// queueCounts reads every queue's ENQUEUED and PENDING workflows, for the
// queue gauges: one store call.
func (e *Executor) queueCounts(ctx context.Context) ([]telemetry.QueueCounts, error) {
	qs, err := e.store.ListQueues(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]telemetry.QueueCounts, len(qs))
	for i, q := range qs {
		out[i] = telemetry.QueueCounts{Queue: q.Name, Enqueued: int64(q.Enqueued), Pending: int64(q.Running)}
	}
	return out, nil
}

// listenedQueues returns the declarations of the queues this executor
// runs: those listen names (nil: all), none when it is client-only.
func listenedQueues(decls []store.QueueConfig, listen []string, clientOnly bool) []store.QueueConfig {
	if clientOnly {
		return nil
	}
	if listen == nil {
		return decls
	}
	var out []store.QueueConfig
	for _, c := range decls {
		if slices.Contains(listen, c.Name) {
			out = append(out, c)
		}
	}
	return out
}

// describe sets what this executor runs (e.runs) and returns what it
// records about itself with its lease: every registered function (by name,
// with its fingerprint) at its application version, and the queues it
// runs; a client-only executor runs no function.
func (e *Executor) describe(listened []store.QueueConfig) store.Executor {
	self := store.Executor{ID: e.executorID, AppVersion: e.cfg.AppVersion, Functions: map[string]string{}}
	e.runs = &store.Runs{AppVersion: e.cfg.AppVersion, Names: []string{}, Signatures: []string{}}
	if e.cfg.ClientOnly {
		return self
	}
	for _, fn := range registry.All() {
		e.runs.Names = append(e.runs.Names, fn.Name)
		e.runs.Signatures = append(e.runs.Signatures, fn.Key())
		self.Functions[fn.Name] = fn.Key()
	}
	for _, c := range listened {
		self.Queues = append(self.Queues, c.Name)
	}
	return self
}

// AppVersion returns the application version this executor runs.
func (e *Executor) AppVersion() string { return e.cfg.AppVersion }

// runsHere reports whether this executor runs w (see canRun).
func (e *Executor) runsHere(w store.Workflow) bool {
	_, ok := e.canRun(w)
	return ok
}

// canRun returns w's registered function when this executor runs w: it is
// not client-only, registers w's function with w's fingerprint (or, for a
// workflow recorded without one, under w's name) and runs the version w
// started under, if any. It is store.Runs.Can for this executor's Runs,
// with one registry lookup.
func (e *Executor) canRun(w store.Workflow) (*registry.Function, bool) {
	if e.cfg.ClientOnly || (w.AppVersion != "" && w.AppVersion != e.cfg.AppVersion) {
		return nil, false
	}
	fn, ok := registry.Lookup(w.Name)
	if !ok || (w.Signature != "" && w.Signature != fn.Key()) {
		return nil, false
	}
	return fn, true
}

// declareQueues stores this process's declaration of each queue, replacing
// the stored one: the newest declaration wins for every process sharing the
// database (their claims read the limits from there). A change of limits is
// logged.
func (e *Executor) declareQueues(ctx context.Context, decls []store.QueueConfig) error {
	for _, c := range decls {
		prev, existed, err := e.store.DeclareQueue(ctx, c, e.executorID)
		if err != nil {
			return err
		}
		if existed && prev != c.Normalized() {
			e.log.Info(fmt.Sprintf("dbos: queue %q limits changed from %s to %s by executor %s", c.Name, prev, c.Normalized(), e.executorID),
				"queue", c.Name, "previous", prev.String(), "limits", c.Normalized().String(), "executor_id", e.executorID)
		}
	}
	return nil
}

// openStore opens the engine the database URL names.
func openStore(ctx context.Context, cfg Config) (store.Store, error) {
	url, log, noMigrate := cfg.DatabaseURL, cfg.Logger, cfg.NoMigrate
	switch {
	case IsPostgresURL(url):
		return pgstore.OpenWith(ctx, url, log, pgstore.Options{
			MaxConns:        cfg.MaxConns,
			ListenURL:       cfg.ListenURL,
			ApplicationName: "dbos " + cfg.ExecutorID,
			NoMigrate:       noMigrate,
		})
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		if path == "" {
			return nil, fmt.Errorf("database URL %q names no file; use sqlite:PATH", url)
		}
		if noMigrate {
			return sqlitestore.OpenExisting(ctx, path, log)
		}
		return sqlitestore.Open(ctx, path, log)
	default:
		return nil, fmt.Errorf("database URL %q: unsupported scheme; use postgres://... or sqlite:PATH", url)
	}
}

// IsPostgresURL reports whether a database URL names a Postgres server.
func IsPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// ExecutorID returns this process's executor ID.
func (e *Executor) ExecutorID() string { return e.executorID }

// Shutdown stops claiming new work and waits, until ctx is done, for
// running workflows to finish; see dbos.Runtime.Shutdown.
func (e *Executor) Shutdown(ctx context.Context) error {
	var result error
	e.shutdown.Do(func() {
		e.stopping.Store(true)
		close(e.stopCh)
		e.loops.Wait()
		done := make(chan struct{})
		go func() { e.running.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			result = ctx.Err()
			e.cancelRun()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				e.log.Warn("dbos: shutdown: workflows ignored cancellation; leaving them PENDING")
			}
		}
		e.cancelRun()
		defaultExecutor.CompareAndSwap(e, nil)
		e.closed.Store(true)
		e.notifier.Close() // the last completions are committed
		if err := e.tel.Close(); err != nil {
			e.log.Warn("dbos: shutdown: "+err.Error(), "err", err)
		}
		if err := e.store.Close(); err != nil && result == nil {
			result = fmt.Errorf("dbos: shutdown: close database: %w", err)
		}
	})
	return result
}

type executorKey struct{}

// Bind returns a context bound to e: durable calls made with it use e
// instead of the process default.
func (e *Executor) Bind(ctx context.Context) context.Context {
	return context.WithValue(ctx, executorKey{}, e)
}

// From finds the executor for a call: the one bound to ctx (a workflow's
// or step's own context, or Bind), else the default.
func From(ctx context.Context) (*Executor, error) {
	if e, ok := ctx.Value(executorKey{}).(*Executor); ok && e != nil {
		return e, e.checkOpen()
	}
	if e := defaultExecutor.Load(); e != nil {
		return e, e.checkOpen()
	}
	return nil, sentinel.ErrNotLaunched
}

func (e *Executor) checkOpen() error {
	if e.closed.Load() {
		return sentinel.ErrShutdown
	}
	return nil
}

// interrupted reports whether Shutdown has cancelled running work: an error
// a workflow returns then is the interruption, not its outcome, and the
// workflow stays PENDING for recovery.
func (e *Executor) interrupted() bool { return e.runCtx.Err() != nil }

// runningIDs lists the workflows running in this process.
func (e *Executor) runningIDs() []string {
	var ids []string
	e.active.Range(func(id, _ any) bool {
		ids = append(ids, id.(string))
		return true
	})
	return ids
}

// newWorkflowID returns a fresh random workflow ID (a UUID v4).
func newWorkflowID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
