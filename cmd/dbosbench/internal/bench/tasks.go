package bench

import (
	"context"
	"sync/atomic"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

// Queue names. A benchmark process declares (with dbos.NewQueue) only the
// queues it should dispatch, before it launches its runtime.
const (
	seedQueueName      = "bench_seed"
	producersQueueName = "bench_producers"
	drainQueueName     = "bench_drain"
	latencyQueueName   = "bench_latency"
	limitedQueueName   = "bench_limited"
	rateQueueName      = "bench_rate"
)

// Limits of the limited and rate workloads.
const (
	limitedConcurrency = 10
	limitedTask        = 5 * time.Millisecond
	rateLimit          = 50
	ratePeriod         = time.Second
)

// seedQueue is the queue SeedLoop enqueues on. The seedloop child process
// sets it before it launches its runtime.
var seedQueue *dbos.Queue

// ran counts the task bodies (Noop and Sleep) run in this process: a
// worker of a pre-enqueued workload waits for it to reach its count.
var ran struct {
	n    atomic.Int64
	want int64         // set before Launch
	done chan struct{} // closed when n reaches want; set before Launch
}

// countRun counts one task body run.
func countRun() {
	if n := ran.n.Add(1); ran.done != nil && n == ran.want {
		close(ran.done)
	}
}

// Noop does nothing and returns its input.
//
//dbos:step
func Noop(ctx context.Context, i int) (int, error) {
	countRun()
	return i, nil
}

// slept sums how long the Sleep bodies that ran to their end actually
// waited, and counts them: a timer fires late by the Go runtime's timer
// granularity (its poller sleeps in whole milliseconds), so a body asked
// to wait 5 ms takes longer, which bounds what any queue can reach.
var slept struct {
	total atomic.Int64 // nanoseconds
	n     atomic.Int64
}

// Sleep waits for d (or until its context ends).
//
//dbos:step
func Sleep(ctx context.Context, d time.Duration) error {
	defer sleeping.enter()()
	start := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	slept.total.Add(int64(time.Since(start)))
	slept.n.Add(1)
	countRun()
	return nil
}

// sleeping counts the Sleep bodies running in this process now, and the
// most that ever ran at once.
var sleeping gauge

// gauge counts what runs now and keeps its peak.
type gauge struct{ now, peak atomic.Int64 }

// enter counts one more running and returns the function that counts it out.
func (g *gauge) enter() func() {
	n := g.now.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	return func() { g.now.Add(-1) }
}

// meanSleep is the mean wait of the Sleep bodies run so far; 0 when none.
func meanSleep() time.Duration {
	n := slept.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(slept.total.Load() / n)
}

// SeedLoop is the seed's pattern: it enqueues n Noop tasks one by one on
// seedQueue, then waits for each result in turn, and returns how many came
// back with the right value.
//
//dbos:workflow
func SeedLoop(ctx context.Context, n int) (int, error) {
	handles := make([]*NoopHandle, 0, n)
	for i := range n {
		h, err := EnqueueNoop(ctx, seedQueue, i)
		if err != nil {
			return 0, err
		}
		handles = append(handles, h)
	}
	right := 0
	for i, h := range handles {
		v, err := h.GetResult(ctx)
		if err != nil {
			return right, err
		}
		if v == i {
			right++
		}
	}
	return right, nil
}
