package dbos

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

const (
	// claimBatch is the most tasks one claim statement takes.
	claimBatch = 64
	// localTaskLimit caps the tasks of one queue running in one process
	// when the queue sets no WorkerConcurrency, so one process cannot take
	// a whole backlog into memory.
	localTaskLimit = 1000
)

// dispatcher claims a queue's tasks for this process and runs them. It
// claims when woken (a local enqueue or completion, a notification from
// another process), when a rate window or delay ends, and on the fallback
// poll.
type dispatcher struct {
	rt      *Runtime
	q       *Queue
	wakeCh  chan struct{} // capacity 1: wakes coalesce
	running atomic.Int64  // tasks of this queue running in this process
}

func newDispatcher(rt *Runtime, q *Queue) *dispatcher {
	return &dispatcher{rt: rt, q: q, wakeCh: make(chan struct{}, 1)}
}

// wake asks the dispatcher to claim again soon; it never blocks.
func (d *dispatcher) wake() {
	select {
	case d.wakeCh <- struct{}{}:
	default:
	}
}

// limited reports whether the queue has a limit shared with other
// processes, so their completions can free a slot here.
func (d *dispatcher) limited() bool {
	c := d.q.cfg
	return c.concurrency > 0 || c.rateLimit > 0 || c.partitionConcurrency > 0 || c.partitionRateLimit > 0
}

// localLimit is how many of the queue's tasks may run in this process.
func (d *dispatcher) localLimit() int {
	if n := d.q.cfg.workerConcurrency; n > 0 {
		return n
	}
	return localTaskLimit
}

func (d *dispatcher) loop() {
	defer d.rt.loops.Done()
	poll := d.rt.cfg.PollInterval
	timer := time.NewTimer(0) // claim at once: work may be waiting
	defer timer.Stop()
	for {
		select {
		case <-d.rt.stopCh:
			return
		case <-d.wakeCh:
		case <-timer.C:
		}
		next := d.claim()
		wait := poll
		if !next.IsZero() {
			if until := time.Until(next); until < wait {
				wait = max(until, time.Millisecond)
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// claim takes as many tasks as the limits allow and starts them. It returns
// when the next claim could succeed without an event (zero: unknown).
func (d *dispatcher) claim() time.Time {
	cfg := d.q.cfg
	for {
		free := d.localLimit() - int(d.running.Load())
		if free <= 0 {
			return time.Time{} // a local completion will wake us
		}
		n := min(free, claimBatch)
		// A claim that locked rows must finish: never interrupt it.
		ctx := context.WithoutCancel(d.rt.runCtx)
		res, err := d.rt.store.Claim(ctx, store.ClaimParams{
			Queue:             d.q.name,
			ExecutorID:        d.rt.executorID,
			Max:               n,
			Concurrency:       cfg.concurrency,
			WorkerConcurrency: cfg.workerConcurrency,
			RateLimit:         cfg.rateLimit,
			RatePeriod:        cfg.ratePeriod,

			PartitionConcurrency: cfg.partitionConcurrency,
			PartitionRateLimit:   cfg.partitionRateLimit,
			PartitionRatePeriod:  cfg.partitionRatePeriod,
		})
		if err != nil {
			d.rt.log.Error("dbos: claim failed; retrying at the next poll", "queue", d.q.name, "err", err)
			return time.Time{}
		}
		for _, w := range res.Claimed {
			d.rt.spawn(w)
		}
		if len(res.Claimed) < n {
			return res.RetryAt
		}
		select {
		case <-d.rt.stopCh:
			return time.Time{}
		default:
		}
	}
}
