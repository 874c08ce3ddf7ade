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
//
// The limits it works with are not its own queue's options but the queue's
// declaration stored in the database, the newest of any process (see
// NewQueue): each claim applies them and reports them back, and the
// dispatcher adopts them for what only this process decides (its local cap,
// and whether other processes' completions concern it).
type dispatcher struct {
	rt      *Runtime
	q       *Queue
	wakeCh  chan struct{} // capacity 1: wakes coalesce
	running atomic.Int64  // tasks of this queue running in this process

	// From the declaration the last claim applied (at first, this
	// process's own, which Launch has just stored as the newest).
	shared      atomic.Bool  // a limit counting every process's tasks
	workerLimit atomic.Int64 // WorkerConcurrency; 0: none
}

func newDispatcher(rt *Runtime, q *Queue) *dispatcher {
	d := &dispatcher{rt: rt, q: q, wakeCh: make(chan struct{}, 1)}
	d.adopt(q.storeConfig())
	return d
}

// storeConfig is the queue's declaration as the store records it.
func (q *Queue) storeConfig() store.QueueConfig {
	c := q.cfg
	return store.QueueConfig{
		Name:                 q.name,
		Concurrency:          c.concurrency,
		WorkerConcurrency:    c.workerConcurrency,
		RateLimit:            c.rateLimit,
		RatePeriod:           c.ratePeriod,
		PartitionConcurrency: c.partitionConcurrency,
		PartitionRateLimit:   c.partitionRateLimit,
		PartitionRatePeriod:  c.partitionRatePeriod,
	}
}

// adopt takes the limits of the queue's declaration as stored.
func (d *dispatcher) adopt(c store.QueueConfig) {
	d.shared.Store(c.Concurrency > 0 || c.RateLimit > 0 || c.PartitionConcurrency > 0 || c.PartitionRateLimit > 0)
	d.workerLimit.Store(int64(c.WorkerConcurrency))
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
func (d *dispatcher) limited() bool { return d.shared.Load() }

// localLimit is how many of the queue's tasks may run in this process.
func (d *dispatcher) localLimit() int {
	if n := d.workerLimit.Load(); n > 0 {
		return int(n)
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
	for {
		free := d.localLimit() - int(d.running.Load())
		if free <= 0 {
			return time.Time{} // a local completion will wake us
		}
		n := min(free, claimBatch)
		// A claim that locked rows must finish: never interrupt it.
		ctx := context.WithoutCancel(d.rt.runCtx)
		res, err := d.rt.store.Claim(ctx, store.ClaimParams{
			Queue:      d.q.name,
			ExecutorID: d.rt.executorID,
			Max:        n,
		})
		if err != nil {
			d.rt.log.Error("dbos: claim failed; retrying at the next poll", "queue", d.q.name, "err", err)
			return time.Time{}
		}
		d.adopt(res.Config)
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
