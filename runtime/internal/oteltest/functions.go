// Package oteltest tests the runtime's traces and metrics as a user sees
// them: the spans an OpenTelemetry SDK receives from a fan-out workflow
// and its children (in one process on SQLite, and across two processes on
// Postgres, where the children run in a worker program built from
// testdata/worker), and the measurements a metric reader collects. This
// file holds the annotated functions both processes run, compiled by
// dbosgen, and the JSON-lines span exporter the worker writes with.
package oteltest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

// Children is the queue FanOut enqueues its children on.
var Children = dbos.NewQueue("oteltest_children")

// Metered is the queue of the metrics tests.
var Metered = dbos.NewQueue("oteltest_metered")

// Block, when set, makes the first run of Child(3) in this process send on
// Blocked and wait until its context ends (a Shutdown's interruption, or
// the process's death): a run that a later attempt finishes.
var (
	Block   atomic.Bool
	Blocked = make(chan struct{}, 1)
)

// Child is child i of FanOut: Child(2) fails, the others return i*10.
//
//dbos:step
func Child(ctx context.Context, i int) (int, error) {
	if i == 2 {
		return 0, errors.New("child 2 failed")
	}
	if i == 3 && Block.CompareAndSwap(true, false) {
		Blocked <- struct{}{}
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return i * 10, nil
}

// flaky holds the keys Flaky failed for already.
var flaky sync.Map

// Flaky fails on its first call for a key in this process, and returns 1
// on its retry.
//
//dbos:step retries=2 backoff=1ms max_backoff=1ms
func Flaky(ctx context.Context, key string) (int, error) {
	if _, seen := flaky.LoadOrStore(key, true); !seen {
		return 0, fmt.Errorf("first call for %s fails", key)
	}
	return 1, nil
}

// FanOut calls Flaky, then enqueues Child(1..n) on Children and waits
// for each, returning "ok <result>" or "error <message>" for each child
// (and failing when a wait fails otherwise).
//
//dbos:workflow
func FanOut(ctx context.Context, key string, n int) ([]string, error) {
	if _, err := RunFlaky(ctx, key); err != nil {
		return nil, err
	}
	handles := make([]*ChildHandle, n)
	for i := range handles {
		h, err := EnqueueChild(ctx, Children, i+1)
		if err != nil {
			return nil, err
		}
		handles[i] = h
	}
	out := make([]string, n)
	for i, h := range handles {
		r, err := h.GetResult(ctx)
		var failed *dbos.WorkflowError
		switch {
		case errors.As(err, &failed):
			out[i] = "error " + failed.Message
		case err != nil: // an interruption: not the child's outcome
			return nil, err
		default:
			out[i] = fmt.Sprint("ok ", r)
		}
	}
	return out, nil
}

// Square is the metrics tests' task.
//
//dbos:step
func Square(ctx context.Context, i int) (int, error) { return i * i, nil }

// Hold blocks until its context ends: a task the metrics tests cancel
// while it runs. It sends on Held when it starts.
//
//dbos:step
func Hold(ctx context.Context) error {
	Held <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

// Held receives a value when Hold starts.
var Held = make(chan struct{}, 1)
