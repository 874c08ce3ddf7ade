// Package flowtest holds the annotated functions and queues of the flow
// control tests: limits that must hold across real OS processes sharing one
// database, and the enqueue options (priority, deduplication, delay,
// timeout, partitions).
package flowtest

import (
	"context"
	"os"
	"sync"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

// The queues under test. Every process of a test declares all of them, as
// programs sharing a database do.
var (
	// Conc5 runs at most 5 tasks at once across all processes.
	Conc5 = dbos.NewQueue("flow_conc5", dbos.Concurrency(5))
	// Rate20 starts at most 20 tasks in any second across all processes.
	Rate20 = dbos.NewQueue("flow_rate20", dbos.RateLimit(20, time.Second))
	// Serial runs one task at a time, in enqueue order.
	Serial = dbos.NewQueue("flow_serial", dbos.Concurrency(1))
	// Worker2 runs at most 2 tasks at once in each process.
	Worker2 = dbos.NewQueue("flow_worker2", dbos.WorkerConcurrency(2))
)

// Span is what a Work task records of its own run.
type Span struct {
	Label string `json:"label"`
	PID   int    `json:"pid"`
	Start int64  `json:"start"` // Unix nanoseconds
	End   int64  `json:"end"`
}

// Work runs for d (or until its context ends) and reports when it ran.
//
//dbos:step
func Work(ctx context.Context, label string, d time.Duration) (Span, error) {
	s := Span{Label: label, PID: os.Getpid(), Start: time.Now().UnixNano()}
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return s, ctx.Err()
		}
	}
	s.End = time.Now().UnixNano()
	return s, nil
}

// Queues of the single-process option tests.
var (
	// Ordered runs one at a time, so priorities decide the order.
	Ordered = dbos.NewQueue("flow_ordered", dbos.Concurrency(1))
	// Options is an unlimited queue for deduplication, delay and timeout.
	Options = dbos.NewQueue("flow_options")
	// Parts runs one task at a time per partition key.
	Parts = dbos.NewQueue("flow_parts", dbos.PartitionConcurrency(1))
)

// gates hold Hold tasks until a test opens them.
var gates sync.Map // name -> *gate

type gate struct {
	entered chan struct{}
	open    chan struct{}
}

// NewGate makes the gate Hold(name) waits at; Entered reports a task
// reached it and Open lets every task at it through.
func NewGate(name string) (entered <-chan struct{}, open func()) {
	g := &gate{entered: make(chan struct{}, 64), open: make(chan struct{})}
	gates.Store(name, g)
	return g.entered, sync.OnceFunc(func() { close(g.open) })
}

// held logs the names Hold ran with, in the order they ran.
var held struct {
	sync.Mutex
	names []string
}

// Held returns the names Hold ran with, in order.
func Held() []string {
	held.Lock()
	defer held.Unlock()
	return append([]string(nil), held.names...)
}

// Hold logs its name, waits at the named gate if there is one, and returns
// the name.
//
//dbos:step
func Hold(ctx context.Context, name string) (string, error) {
	held.Lock()
	held.names = append(held.names, name)
	held.Unlock()
	v, ok := gates.Load(name)
	if !ok {
		return name, nil
	}
	g := v.(*gate)
	g.entered <- struct{}{}
	select {
	case <-g.open:
		return name, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Steps runs n Work steps of d each, one after another.
//
//dbos:workflow
func Steps(ctx context.Context, n int, d time.Duration) (int, error) {
	for i := range n {
		if _, err := RunWork(ctx, "step", d); err != nil {
			return i, err
		}
	}
	return n, nil
}
