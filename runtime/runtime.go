package dbos

import (
	"context"
	"fmt"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/executor"
	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
)

func init() {
	// The runtime's machinery makes the *WorkflowError callers branch on.
	sentinel.WorkflowError = func(id, message string) error {
		return &WorkflowError{WorkflowID: id, Message: message}
	}
}

// Runtime is a launched dbos runtime: one executor process attached to a
// database. Make one with Launch and stop it with Shutdown.
type Runtime struct {
	e *executor.Executor
}

// Launch opens the database (applying migrations), stores the declaration
// of every queue declared with NewQueue (the newest declaration of a queue
// wins for every process; a change is logged), starts a dispatcher for each
// queue it runs (Config.ListenQueues; none when Config.ClientOnly),
// resumes the PENDING work recorded under this executor's ID that this
// version runs (leaving the rest for a process that runs it), and makes
// the runtime the process default.
func Launch(ctx context.Context, cfg Config) (*Runtime, error) {
	var polled time.Duration // the poll when the process cannot listen, unless PollInterval is set
	if cfg.PollInterval == 0 {
		polled = DefaultPolledPoll
	}
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, fmt.Errorf("dbos.Launch: %w", err)
	}
	decls, err := declaredQueues()
	if err != nil {
		return nil, fmt.Errorf("dbos.Launch: %w", err)
	}
	listen, err := cfg.listen(decls)
	if err != nil {
		return nil, fmt.Errorf("dbos.Launch: %w", err)
	}
	e, err := executor.Launch(ctx, executor.Config{
		DatabaseURL:    cfg.DatabaseURL,
		ExecutorID:     cfg.ExecutorID,
		Logger:         cfg.Logger,
		PollInterval:   cfg.PollInterval,
		LeaseDuration:  cfg.LeaseDuration,
		Retention:      cfg.Retention,
		AppVersion:     cfg.AppVersion,
		ClientOnly:     cfg.ClientOnly,
		NoMigrate:      cfg.NoMigrate,
		Listen:         listen,
		MaxConns:       cfg.MaxConns,
		ListenURL:      cfg.ListenURL,
		PolledPoll:     polled,
		TracerProvider: cfg.TracerProvider,
		MeterProvider:  cfg.MeterProvider,
	}, decls)
	if err != nil {
		return nil, fmt.Errorf("dbos.Launch: %w", err)
	}
	return &Runtime{e: e}, nil
}

// ExecutorID returns this process's executor ID.
func (rt *Runtime) ExecutorID() string { return rt.e.ExecutorID() }

// AppVersion returns the application version this process runs (see
// Config.AppVersion).
func (rt *Runtime) AppVersion() string { return rt.e.AppVersion() }

// Shutdown stops claiming new work and waits, until ctx is done, for running
// workflows to finish. Workflows still running when ctx is done are
// interrupted (their contexts are cancelled) and stay PENDING in the
// database: a process launched later with the same executor ID resumes them
// from their last checkpoint. Nothing is lost either way. Shutdown returns
// ctx's error when it had to interrupt work.
func (rt *Runtime) Shutdown(ctx context.Context) error { return rt.e.Shutdown(ctx) }

// WithContext returns a context bound to rt: durable calls made with it use
// rt instead of the process default (for programs or tests with several
// runtimes).
func (rt *Runtime) WithContext(ctx context.Context) context.Context { return rt.e.Bind(ctx) }
