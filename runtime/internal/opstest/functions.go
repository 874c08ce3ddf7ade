// Package opstest holds the annotated functions and queues of the tests of
// what operators do to a running deployment: pausing and resuming queues
// across real OS processes sharing one database, deleting finished
// workflows, and retention.
package opstest

import (
	"context"
	"os"
	"sync"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

// The queues under test. Every process of a test declares all of them.
var (
	// Jobs has no limits.
	Jobs = dbos.NewQueue("ops_jobs")
	// Pairs runs at most 2 tasks at once in each process.
	Pairs = dbos.NewQueue("ops_pairs", dbos.WorkerConcurrency(2))
	// Children takes the children of FanOutAndWait.
	Children = dbos.NewQueue("ops_children")
)

// Job runs for d (or until its context ends) and returns its process's pid.
//
//dbos:step
func Job(ctx context.Context, d time.Duration) (int, error) {
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return os.Getpid(), nil
}

// TwoJobs runs two Jobs as its steps.
//
//dbos:workflow
func TwoJobs(ctx context.Context) (int, error) {
	a, err := RunJob(ctx, 0)
	if err != nil {
		return 0, err
	}
	b, err := RunJob(ctx, 0)
	return a + b, err
}

// gates hold FanOutAndWait until a test opens them.
var gates sync.Map // name -> chan struct{}

// NewGate makes the gate FanOutAndWait(name) waits at, and returns the
// function that opens it.
func NewGate(name string) (open func()) {
	ch := make(chan struct{})
	gates.Store(name, ch)
	return sync.OnceFunc(func() { close(ch) })
}

// Waiting receives the gate name of each FanOutAndWait that got its
// children's results and waits at its gate.
var Waiting = make(chan string, 16)

// FanOutAndWait enqueues n Jobs on Children and awaits them, then waits at
// the named gate (if a test made it) until the gate opens, and returns the
// number of children.
//
//dbos:workflow
func FanOutAndWait(ctx context.Context, n int, gate string) (int, error) {
	var hs []*JobHandle
	for range n {
		h, err := EnqueueJob(ctx, Children, 0)
		if err != nil {
			return 0, err
		}
		hs = append(hs, h)
	}
	for _, h := range hs {
		if _, err := h.GetResult(ctx); err != nil {
			return 0, err
		}
	}
	if v, ok := gates.Load(gate); ok {
		Waiting <- gate
		select {
		case <-v.(chan struct{}):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return n, nil
}
