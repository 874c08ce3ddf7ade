package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

// LimitedConcurrency is the limit of the limited queue, across every worker.
const LimitedConcurrency = 5

// Limited runs Flow workflows, at most LimitedConcurrency at once; Free
// runs Task calls without a limit.
var (
	Limited = dbos.NewQueue("failover_limited", dbos.Concurrency(LimitedConcurrency))
	Free    = dbos.NewQueue("failover_free")
)

// FlowSteps is the number of steps of a Flow workflow.
const FlowSteps = 3

// The kinds of side-effect lines (see effect).
const (
	kindFlowStart = "flow-start" // a Flow attempt began
	kindFlowEnd   = "flow-end"   // a Flow attempt returned its output
	kindFlowAbort = "flow-abort" // a Flow attempt returned an error
	kindStepEnd   = "step-end"   // a step body finished
	kindTaskEnd   = "task-end"   // a Task body finished
)

var effects struct {
	sync.Mutex
	f *os.File
}

// openEffects makes this process append its side effects to path.
func openEffects(path string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	effects.Lock()
	effects.f = f
	effects.Unlock()
	return nil
}

// effect appends "<unix nanos> <pid> <kind> <id> <step>" with one write
// (O_APPEND: atomic between processes on Linux).
func effect(kind, id string, step int) error {
	effects.Lock()
	defer effects.Unlock()
	if effects.f == nil {
		return fmt.Errorf("failovertest: no side-effect log")
	}
	_, err := effects.f.WriteString(strconv.FormatInt(time.Now().UnixNano(), 10) + " " + strconv.Itoa(os.Getpid()) + " " + kind + " " + id + " " + strconv.Itoa(step) + "\n")
	return err
}

// pause sleeps for d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Step is one step of a Flow: 10 to 30 ms of work.
//
//dbos:step
func Step(ctx context.Context, id string, step int) (int, error) {
	if err := pause(ctx, time.Duration(10+(len(id)*7+step*13)%21)*time.Millisecond); err != nil {
		return 0, err
	}
	if err := effect(kindStepEnd, id, step); err != nil {
		return 0, err
	}
	return step * 10, nil
}

// Flow runs FlowSteps steps one after another and returns the sum of their
// values (60).
//
//dbos:workflow
func Flow(ctx context.Context, id string) (_ int, err error) {
	if err := effect(kindFlowStart, id, 0); err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = effect(kindFlowAbort, id, 0)
		}
	}()
	sum := 0
	for s := 1; s <= FlowSteps; s++ {
		v, err := RunStep(ctx, id, s)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	if err := effect(kindFlowEnd, id, 0); err != nil {
		return 0, err
	}
	return sum, nil
}

// Task is a call on the unlimited queue: 5 ms of work.
//
//dbos:step
func Task(ctx context.Context, id string) (string, error) {
	if err := pause(ctx, 5*time.Millisecond); err != nil {
		return "", err
	}
	if err := effect(kindTaskEnd, id, 0); err != nil {
		return "", err
	}
	return "done " + id, nil
}
