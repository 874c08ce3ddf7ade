package chaos

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// A worker is this test binary re-executed as a program sharing the
// database. It launches (as $DBOS_EXECUTOR_ID), prints "ready", and serves
// the chaos queue while it obeys commands read from stdin, one a line:
//
//	enqueue FROM TO   enqueue workflows FROM..TO-1 of the run -> "enqueued FROM TO"
//	await FROM TO     wait for them to finish -> "await-error ID MESSAGE"... then "awaited FROM TO"
//
// Each workflow attempt prints "start ID" and "end ID" (see OpenEffects). When
// stdin closes the worker shuts its runtime down and exits 0.
const (
	workerEnv        = "DBOS_CHAOS_WORKER"
	workerURLEnv     = "DBOS_CHAOS_URL"
	workerEffectsEnv = "DBOS_CHAOS_EFFECTS"
	workerRunEnv     = "DBOS_CHAOS_RUN"
	workerStepsEnv   = "DBOS_CHAOS_STEPS"
	workerStepMinEnv = "DBOS_CHAOS_STEP_MIN"
	workerStepMaxEnv = "DBOS_CHAOS_STEP_MAX"
	workerPollEnv    = "DBOS_CHAOS_POLL"
	workerLeaseEnv   = "DBOS_CHAOS_LEASE"
)

// stdoutMu serializes the worker's lines on stdout.
var stdoutMu sync.Mutex

// lockedStdout writes to stdout under stdoutMu.
type lockedStdout struct{}

func (lockedStdout) Write(p []byte) (int, error) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	return os.Stdout.Write(p)
}

// say prints one line (fmt.Fprintf makes a single Write).
func say(format string, args ...any) { fmt.Fprintf(lockedStdout{}, format+"\n", args...) }

func worker() error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := OpenEffects(os.Getenv(workerEffectsEnv), lockedStdout{}); err != nil {
		return err
	}
	steps, err := strconv.Atoi(os.Getenv(workerStepsEnv))
	if err != nil {
		return fmt.Errorf("%s: %w", workerStepsEnv, err)
	}
	stepMin, err := time.ParseDuration(os.Getenv(workerStepMinEnv))
	if err != nil {
		return fmt.Errorf("%s: %w", workerStepMinEnv, err)
	}
	stepMax, err := time.ParseDuration(os.Getenv(workerStepMaxEnv))
	if err != nil {
		return fmt.Errorf("%s: %w", workerStepMaxEnv, err)
	}
	poll, err := time.ParseDuration(os.Getenv(workerPollEnv))
	if err != nil {
		return fmt.Errorf("%s: %w", workerPollEnv, err)
	}
	lease, err := time.ParseDuration(os.Getenv(workerLeaseEnv))
	if err != nil {
		return fmt.Errorf("%s: %w", workerLeaseEnv, err)
	}
	job := func(i int) Job {
		return Job{Run: os.Getenv(workerRunEnv), Index: i, Steps: steps, StepMin: stepMin, StepMax: stepMax}
	}

	ctx := context.Background()
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: os.Getenv(workerURLEnv), Logger: log, PollInterval: poll, LeaseDuration: lease})
	if err != nil {
		return err
	}
	ctx = rt.WithContext(ctx)
	say("ready")

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fields := strings.Fields(in.Text())
		if len(fields) != 3 {
			return fmt.Errorf("bad command %q", in.Text())
		}
		from, err1 := strconv.Atoi(fields[1])
		to, err2 := strconv.Atoi(fields[2])
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("bad command %q: %w", in.Text(), err)
		}
		switch fields[0] {
		case "enqueue":
			for i := from; i < to; i++ {
				j := job(i)
				// Outside a workflow an enqueue is not retried by the
				// runtime: a client retries it (the ID makes it idempotent).
				err := retry(ctx, log, "enqueue "+j.ID(), func() error {
					_, err := EnqueueChaos(ctx, Queue, j, dbos.WithID(j.ID()))
					return err
				})
				if err != nil {
					return err
				}
			}
			say("enqueued %d %d", from, to)
		case "await":
			for i := from; i < to; i++ {
				id := WorkflowID(os.Getenv(workerRunEnv), i)
				var h *ChaosHandle
				if err := retry(ctx, log, "retrieve "+id, func() (err error) {
					h, err = RetrieveChaos(ctx, id)
					return err
				}); err != nil {
					return err
				}
				if _, err := h.GetResult(ctx); err != nil {
					say("await-error %s %s", id, strings.ReplaceAll(err.Error(), "\n", " "))
				}
			}
			say("awaited %d %d", from, to)
		default:
			return fmt.Errorf("bad command %q", in.Text())
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return rt.Shutdown(sctx)
}

// retry calls op until it succeeds, with backoff, for at most two minutes
// (a database restart lasts seconds).
func retry(ctx context.Context, log *slog.Logger, what string, op func() error) error {
	deadline := time.Now().Add(2 * time.Minute)
	wait := 50 * time.Millisecond
	for {
		err := op()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w", what, err)
		}
		log.Warn("chaos worker: call failed; retrying", "call", what, "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = min(2*wait, time.Second)
	}
}
