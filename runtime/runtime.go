package dbos

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore"
	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore"
)

// Runtime is a launched dbos runtime: one executor process attached to a
// database. Make one with Launch and stop it with Shutdown.
type Runtime struct {
	cfg        Config
	log        *slog.Logger
	store      store.Store
	executorID string

	dispatchers map[string]*dispatcher // by queue name
	waiters     waiters
	notifier    *notifier  // nil when the engine has no notifications
	done        *completer // records outcomes of workflows of no dispatched queue
	inserters   sync.Map   // queue name ("": none) -> *batcher of its inserts
	active      sync.Map   // workflow ID -> context.CancelCauseFunc of those running here

	// runCtx is the parent of every running workflow's context; cancelRun
	// interrupts them when Shutdown's deadline passes.
	runCtx    context.Context
	cancelRun context.CancelFunc
	stopping  atomic.Bool   // Shutdown began: completions and enqueues claim no more tasks
	closed    atomic.Bool   // the database is closed: every call fails
	stopCh    chan struct{} // closed when Shutdown begins
	running   sync.WaitGroup
	loops     sync.WaitGroup // dispatchers and the event loop
	shutdown  sync.Once
}

var defaultRuntime atomic.Pointer[Runtime]

// Launch opens the database (applying migrations), stores the declaration
// of every queue declared with NewQueue (the newest declaration of a queue
// wins for every process; a change is logged), starts a dispatcher for each,
// resumes the PENDING work recorded under this executor's ID, and makes the
// runtime the process default.
func Launch(ctx context.Context, cfg Config) (*Runtime, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, fmt.Errorf("dbos.Launch: %w", err)
	}
	qs, err := declaredQueues()
	if err != nil {
		return nil, fmt.Errorf("dbos.Launch: %w", err)
	}
	st, err := openStore(ctx, cfg.DatabaseURL, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("dbos.Launch: %w", err)
	}
	runCtx, cancelRun := context.WithCancel(context.Background())
	rt := &Runtime{
		cfg:         cfg,
		log:         cfg.Logger,
		store:       st,
		executorID:  cfg.ExecutorID,
		dispatchers: make(map[string]*dispatcher, len(qs)),
		runCtx:      runCtx,
		cancelRun:   cancelRun,
		stopCh:      make(chan struct{}),
	}
	rt.waiters.init()
	rt.done = newCompleter(rt, nil)
	if err := rt.declareQueues(ctx, qs); err != nil {
		cancelRun()
		_ = st.Close()
		return nil, fmt.Errorf("dbos.Launch: %w", err)
	}
	for _, q := range qs {
		rt.dispatchers[q.name] = newDispatcher(rt, q)
	}
	if err := st.RenewLease(ctx, rt.executorID, cfg.LeaseDuration); err != nil {
		cancelRun()
		_ = st.Close()
		return nil, fmt.Errorf("dbos.Launch: %w", err)
	}
	pending, err := st.PendingFor(ctx, rt.executorID)
	if err != nil {
		cancelRun()
		_ = st.Close()
		return nil, fmt.Errorf("dbos.Launch: find work to resume for executor %q: %w", rt.executorID, err)
	}
	rt.notifier = newNotifier(st, rt.log)
	if events := st.Events(); events != nil {
		rt.loops.Add(1)
		go rt.eventLoop(events)
	}
	for _, d := range rt.dispatchers {
		rt.loops.Add(1)
		go d.loop()
	}
	rt.loops.Add(1)
	go rt.leaseLoop()
	for _, w := range pending {
		rt.log.Info("dbos: resuming workflow", "workflow_id", w.ID, "name", w.Name, "attempt", w.Attempts)
		rt.spawn(w)
	}
	defaultRuntime.Store(rt)
	rt.log.Info("dbos: launched", "executor_id", rt.executorID, "engine", st.Engine(), "queues", len(qs), "resumed", len(pending))
	return rt, nil
}

// declareQueues stores this process's declaration of each queue, replacing
// the stored one: the newest declaration wins for every process sharing the
// database (their claims read the limits from there). A change of limits is
// logged.
func (rt *Runtime) declareQueues(ctx context.Context, qs []*Queue) error {
	for _, q := range qs {
		c := q.storeConfig()
		prev, existed, err := rt.store.DeclareQueue(ctx, c, rt.executorID)
		if err != nil {
			return err
		}
		if existed && prev != c.Normalized() {
			rt.log.Info(fmt.Sprintf("dbos: queue %q limits changed from %s to %s by executor %s", q.name, prev, c.Normalized(), rt.executorID),
				"queue", q.name, "previous", prev.String(), "limits", c.Normalized().String(), "executor_id", rt.executorID)
		}
	}
	return nil
}

// openStore opens the engine a database URL names.
func openStore(ctx context.Context, url string, log *slog.Logger) (store.Store, error) {
	switch {
	case isPostgresURL(url):
		return pgstore.Open(ctx, url, log)
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		if path == "" {
			return nil, fmt.Errorf("database URL %q names no file; use sqlite:PATH", url)
		}
		return sqlitestore.Open(ctx, path, log)
	default:
		return nil, fmt.Errorf("database URL %q: unsupported scheme; use postgres://... or sqlite:PATH", url)
	}
}

// ExecutorID returns this process's executor ID.
func (rt *Runtime) ExecutorID() string { return rt.executorID }

// Shutdown stops claiming new work and waits, until ctx is done, for running
// workflows to finish. Workflows still running when ctx is done are
// interrupted (their contexts are cancelled) and stay PENDING in the
// database: a process launched later with the same executor ID resumes them
// from their last checkpoint. Nothing is lost either way. Shutdown returns
// ctx's error when it had to interrupt work.
func (rt *Runtime) Shutdown(ctx context.Context) error {
	var result error
	rt.shutdown.Do(func() {
		rt.stopping.Store(true)
		close(rt.stopCh)
		rt.loops.Wait()
		done := make(chan struct{})
		go func() { rt.running.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			result = ctx.Err()
			rt.cancelRun()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				rt.log.Warn("dbos: shutdown: workflows ignored cancellation; leaving them PENDING")
			}
		}
		rt.cancelRun()
		defaultRuntime.CompareAndSwap(rt, nil)
		rt.closed.Store(true)
		rt.notifier.close() // the last completions are committed
		if err := rt.store.Close(); err != nil && result == nil {
			result = fmt.Errorf("dbos: shutdown: close database: %w", err)
		}
	})
	return result
}

type runtimeKey struct{}

// WithContext returns a context bound to rt: durable calls made with it use
// rt instead of the process default (for programs or tests with several
// runtimes).
func (rt *Runtime) WithContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, runtimeKey{}, rt)
}

// runtimeFrom finds the runtime for a call: the one bound to ctx (a
// workflow's or step's own context, or rt.WithContext), else the default.
func runtimeFrom(ctx context.Context) (*Runtime, error) {
	if rt, ok := ctx.Value(runtimeKey{}).(*Runtime); ok && rt != nil {
		return rt, rt.checkOpen()
	}
	if rt := defaultRuntime.Load(); rt != nil {
		return rt, rt.checkOpen()
	}
	return nil, ErrNotLaunched
}

func (rt *Runtime) checkOpen() error {
	if rt.closed.Load() {
		return ErrShutdown
	}
	return nil
}

// interrupted reports whether Shutdown has cancelled running work: an error
// a workflow returns then is the interruption, not its outcome, and the
// workflow stays PENDING for recovery.
func (rt *Runtime) interrupted() bool { return rt.runCtx.Err() != nil }
