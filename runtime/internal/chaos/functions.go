// Package chaos holds the workload of the chaos test (chaos_test.go): worker
// processes sharing one database run workflows of several steps on a
// limited queue while the test kills them with SIGKILL, starts replacements
// and (on Postgres) restarts the database server; a checker then verifies
// that every workflow finished with the right output, that step bodies ran
// again only where their process died, and that the queue's limit held.
//
// Every step body and every workflow attempt appends a line to a side-effect
// log shared by all processes (one write(2) per line on a file opened with
// O_APPEND: atomic on Linux), which is what the checker reads.
//
// Running it:
//
//	go test ./runtime/internal/chaos -run Chaos -v                 # short mode, both engines, kills only
//	DBOS_CHAOS_RESTART_PG=1 go test ./runtime/internal/chaos -v    # + a Postgres server restart: run this package alone
//	DBOS_CHAOS_RESTART_PG=1 go test ./runtime/internal/chaos -run Chaos/postgres \
//	    -chaos.duration=10m -timeout=20m -v                         # long mode
//
// -chaos.replace=same|fresh|mixed says how a killed worker is replaced:
// with its executor ID (it resumes its own work at launch), with a new one
// (the living take the dead one's work over when its lease expires), or
// either at random. See the flags in chaos_test.go for the rest.
package chaos

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

// The limits of Queue: Limit across every process, WorkerLimit in each
// (which also spreads the work over the workers).
const (
	Limit       = 4
	WorkerLimit = 2
)

// Queue is the queue every chaos workflow is enqueued on.
var Queue = dbos.NewQueue("chaos", dbos.Concurrency(Limit), dbos.WorkerConcurrency(WorkerLimit))

// Job is the input of one chaos workflow.
type Job struct {
	Run   string `json:"run"`
	Index int    `json:"index"`
	Steps int    `json:"steps"`
	// Step bodies last between StepMin and StepMax, chosen
	// deterministically from (Index, step).
	StepMin time.Duration `json:"step_min"`
	StepMax time.Duration `json:"step_max"`
}

// WorkflowID is the ID a run's workflow number i is enqueued under.
func WorkflowID(run string, i int) string { return "chaos-" + run + "-" + strconv.Itoa(i) }

// ID is the job's workflow ID.
func (j Job) ID() string { return WorkflowID(j.Run, j.Index) }

// Seed is the value a job's workflow starts from.
func Seed(index int) int64 { return int64(index)*1000 + 7 }

// Next is what step number step makes of acc.
func Next(acc int64, step int) int64 { return (acc*31 + int64(step)*7 + 1) % 1_000_000_007 }

// Expected returns the output of the job's workflow and the value each step
// returns (values[s-1] for step s).
func Expected(j Job) (out int64, values []int64) {
	acc := Seed(j.Index)
	for s := 1; s <= j.Steps; s++ {
		acc = Next(acc, s)
		values = append(values, acc)
	}
	return acc, values
}

// StepDuration is how long the body of the job's step lasts: a pseudo-random
// duration in [StepMin, StepMax], the same on every attempt.
func (j Job) StepDuration(step int) time.Duration {
	span := j.StepMax - j.StepMin
	if span <= 0 {
		return j.StepMin
	}
	x := uint64(j.Index)*0x9E3779B97F4A7C15 + uint64(step)*0xBF58476D1CE4E5B9
	x ^= x >> 31
	x *= 0x94D049BB133111EB
	x ^= x >> 29
	return j.StepMin + time.Duration(x%uint64(span+1))
}

// The kinds of side-effect log lines.
const (
	KindWorkflowStart = "wf-start" // a workflow attempt began (every attempt, replays included)
	KindWorkflowEnd   = "wf-end"   // a workflow attempt returned its output
	KindWorkflowAbort = "wf-abort" // a workflow attempt returned an error (stopped as stale, cancelled, interrupted)
	KindStepBegin     = "step-begin"
	KindStepEnd       = "step-end"
)

var effects struct {
	sync.Mutex
	f        *os.File
	announce io.Writer // gets "start <id>" and "end <id>" for each workflow attempt
}

// OpenEffects makes this process append its side effects to the log at
// path, and announce each workflow attempt's start and end on announce (if
// not nil).
func OpenEffects(path string, announce io.Writer) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	effects.Lock()
	effects.f, effects.announce = f, announce
	effects.Unlock()
	return nil
}

// effect appends "<unix nanos> <pid> <kind> <workflow ID> <step>" to the log
// with a single write.
func effect(kind, id string, step int) error {
	effects.Lock()
	f, announce := effects.f, effects.announce
	effects.Unlock()
	if f == nil {
		return fmt.Errorf("chaos: no side-effect log (OpenEffects was not called)")
	}
	line := fmt.Sprintf("%d %d %s %s %d\n", time.Now().UnixNano(), os.Getpid(), kind, id, step)
	if _, err := f.WriteString(line); err != nil {
		return fmt.Errorf("chaos: append to side-effect log: %w", err)
	}
	if announce != nil && (kind == KindWorkflowStart || kind == KindWorkflowEnd) {
		word := map[string]string{KindWorkflowStart: "start ", KindWorkflowEnd: "end "}[kind]
		if _, err := io.WriteString(announce, word+id+"\n"); err != nil {
			return fmt.Errorf("chaos: announce: %w", err)
		}
	}
	return nil
}

// Inert, when set, makes Chaos block until its context ends without doing
// anything: the checker's own runtime sets it, so that a workflow it claims
// (one left ENQUEUED, which is a failure) is reported and never run there.
var Inert atomic.Bool

// Step is the body of each step: it logs its begin, works for d (or until
// its context ends), logs its end and returns Next(acc, step).
//
//dbos:step
func Step(ctx context.Context, id string, step int, acc int64, d time.Duration) (int64, error) {
	if err := effect(KindStepBegin, id, step); err != nil {
		return 0, err
	}
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if err := effect(KindStepEnd, id, step); err != nil {
		return 0, err
	}
	return Next(acc, step), nil
}

// Chaos runs the job's steps one after another and returns the last value.
//
//dbos:workflow
func Chaos(ctx context.Context, job Job) (_ int64, err error) {
	if Inert.Load() {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	id := job.ID()
	// Workflow code, not a step: logged again by every attempt.
	if err := effect(KindWorkflowStart, id, 0); err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = effect(KindWorkflowAbort, id, 0)
		}
	}()
	acc := Seed(job.Index)
	for s := 1; s <= job.Steps; s++ {
		if acc, err = RunStep(ctx, id, s, acc, job.StepDuration(s)); err != nil {
			return 0, err
		}
	}
	if err := effect(KindWorkflowEnd, id, 0); err != nil {
		return 0, err
	}
	return acc, nil
}
