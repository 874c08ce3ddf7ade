package dispatch

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

const (
	// claimBatch is the most tasks one claim statement takes from a queue
	// with limits, whose claims serialize on the queue's lock.
	claimBatch = 64
	// unlimitedClaimBatch is the most tasks one claim statement takes from
	// a queue without limits (see Dispatcher.batch): such claims skip each
	// other's rows instead of waiting, and the larger the batch, the less
	// each task costs the database (one statement, one commit and one WAL
	// flush for many rows).
	unlimitedClaimBatch = 512
	// localTaskLimit caps the tasks of one queue running in one process
	// when the queue sets no WorkerConcurrency, so one process cannot take
	// a whole backlog into memory.
	localTaskLimit = 1000
)

// Dispatcher claims a queue's tasks for this process and runs them. It
// claims when woken (a local enqueue or completion, a notification from
// another process), when a rate window or delay ends, and on the fallback
// poll; the store calls that record the queue's outcomes (completer) or
// insert its tasks (inserter) may also claim for it, with its reservations
// (reserve, settle).
//
// The limits it works with are not its own queue's options but the queue's
// declaration stored in the database, the newest of any process (see
// NewQueue): each claim applies them and reports them back, and the
// dispatcher adopts them for what only this process decides (its local cap,
// and whether other processes' completions concern it).
type Dispatcher struct {
	env     *Env
	name    string
	wakeCh  chan struct{} // capacity 1: wakes coalesce
	running atomic.Int64  // tasks of this queue running (or claimed to run) in this process
	done    *completer    // records the outcomes of the queue's tasks and claims their successors

	// From the declaration the last claim applied (at first, this
	// process's own, which Launch has just stored as the newest).
	shared      atomic.Bool  // a limit counting every process's tasks
	concOnly    atomic.Bool  // the shared limits are a Concurrency limit alone
	workerLimit atomic.Int64 // WorkerConcurrency; 0: none

	// wakes counts the calls of Wake; drained is 1 + the count a claim
	// read before it began when it found nothing more ready (0: none
	// did). See Drained.
	wakes   atomic.Uint64
	drained atomic.Uint64
	// local reports a call of Wake since loop last took a wake: the next
	// claim is not polite (see Heard).
	local atomic.Bool

	yieldUntil atomic.Int64 // unix nanoseconds: until then, give way (see yield)
	hungryAt   atomic.Int64 // unix nanoseconds: when this process last said it was hungry

	paused bool // the last claim of loop found the queue paused (loop's own)
}

func newDispatcher(env *Env, c store.QueueConfig) *Dispatcher {
	d := &Dispatcher{env: env, name: c.Name, wakeCh: make(chan struct{}, 1)}
	d.done = newCompleter(env, d)
	d.adopt(c)
	return d
}

// adopt takes the limits of the queue's declaration as stored.
func (d *Dispatcher) adopt(c store.QueueConfig) {
	d.shared.Store(c.Concurrency > 0 || c.RateLimit > 0 || c.PartitionConcurrency > 0 || c.PartitionRateLimit > 0)
	d.concOnly.Store(c.Concurrency > 0 && c.RateLimit == 0 && c.PartitionConcurrency == 0 && c.PartitionRateLimit == 0)
	d.workerLimit.Store(int64(c.WorkerConcurrency))
}

// Wake asks the dispatcher to claim again soon; it never blocks.
func (d *Dispatcher) Wake() {
	d.local.Store(true)
	d.signal()
}

// Heard wakes the dispatcher for another process's enqueue, as Wake does,
// except that when nothing else woke it meanwhile its claim is polite
// (store.ClaimParams.Polite) on a queue without shared limits: such a
// notification wakes every worker of the queue at once, and while one of
// them claims the others give way instead of finding nothing. It never
// blocks.
func (d *Dispatcher) Heard() { d.signal() }

// politeWake reports, as loop takes a wake, whether its claim is polite:
// only Heard woke the dispatcher since the last wake it took, and the queue
// has no shared limit (and this process notifications).
func (d *Dispatcher) politeWake() bool {
	return !d.local.Swap(false) && d.env.Notifier != nil && !d.shared.Load()
}

func (d *Dispatcher) signal() {
	d.wakes.Add(1)
	select {
	case d.wakeCh <- struct{}{}:
	default:
	}
}

// Drained reports whether the queue, which has no limit shared with other
// processes, has nothing ready for this process: the last claim to end
// (of the dispatcher, a completer or an inserter) took fewer tasks than
// it could, with no delayed task to wait for, and nothing woke the
// dispatcher since that claim began. Whatever makes a task ready (a local
// enqueue, another process's notification, a resume, a retry's timer)
// wakes the dispatcher first, so a claim then would find nothing: the
// completer records outcomes without one (in a burst of short tasks
// whose enqueues already claimed them, most of its claims would be empty).
func (d *Dispatcher) Drained() bool {
	return d.drained.Load() == d.wakes.Load()+1
}

// Limited reports whether the queue has a limit shared with other
// processes, so their completions can free a slot here.
func (d *Dispatcher) Limited() bool { return d.shared.Load() }

// localLimit is how many of the queue's tasks may run in this process.
func (d *Dispatcher) localLimit() int {
	if n := d.workerLimit.Load(); n > 0 {
		return int(n)
	}
	return localTaskLimit
}

// loop claims whenever woken, a timer ends, or the poll interval passes,
// until env.Stop closes.
func (d *Dispatcher) loop() {
	poll := d.env.Poll
	timer := time.NewTimer(0) // claim at once: work may be waiting
	defer timer.Stop()
	for {
		polite := false
		select {
		case <-d.env.Stop:
			return
		case <-d.wakeCh:
			polite = d.politeWake()
		case <-timer.C:
			d.local.Store(false)
		}
		next := d.claim(polite)
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

// claimsOnCompletion reports whether the calls that record the outcomes of
// the queue's tasks also claim its next tasks (see completer). They do
// unless the queue has limits shared with other processes. Then such a
// claim would keep the slots this process's tasks free away from the
// others, who learn of a free slot only after its commit: so only for a
// Concurrency limit alone, and only on an engine with notifications, by
// which a process that gets no slot says so (hungry) and the others give
// way (yield) for a while. Otherwise the freed slots go to whichever
// process's dispatcher claims first.
func (d *Dispatcher) claimsOnCompletion() bool {
	if !d.shared.Load() {
		return true
	}
	return d.concOnly.Load() && d.env.Notifier != nil && time.Now().UnixNano() >= d.yieldUntil.Load()
}

// Hunger and yielding (see claimsOnCompletion).
const (
	// yieldFor is how long this process gives way after another one said
	// it was hungry for the queue's tasks.
	yieldFor = time.Second
	// hungerEvery spaces this process's hunger notifications per queue.
	hungerEvery = 100 * time.Millisecond
)

// Yield gives way to another process hungry for the queue's tasks.
func (d *Dispatcher) Yield() {
	d.yieldUntil.Store(time.Now().Add(yieldFor).UnixNano())
}

// hungry tells the other processes that a claim of the queue, which has a
// Concurrency limit, found no slot (or no task): those holding the slots
// give way.
func (d *Dispatcher) hungry() {
	now := time.Now().UnixNano()
	last := d.hungryAt.Load()
	if now-last < int64(hungerEvery) || !d.hungryAt.CompareAndSwap(last, now) {
		return
	}
	d.env.Notifier.Hungry(d.name)
}

// batch is the most tasks one claim of the queue takes: unlimitedClaimBatch
// when the queue has no limit at all (shared or WorkerConcurrency),
// claimBatch otherwise.
func (d *Dispatcher) batch() int {
	if d.shared.Load() || d.workerLimit.Load() > 0 {
		return claimBatch
	}
	return unlimitedClaimBatch
}

// reserve counts up to batch more tasks in the local count, as many as
// the local limit leaves room for once finished more tasks (still counted)
// are gone, and returns how many: the most a claim may take. The claimer
// releases what it did not take.
func (d *Dispatcher) reserve(finished int) int {
	for {
		cur := d.running.Load()
		n := min(int64(d.batch()), int64(d.localLimit())-cur+int64(finished))
		if n <= 0 {
			return 0
		}
		if d.running.CompareAndSwap(cur, cur+n) {
			return int(n)
		}
	}
}

// claimWith claims up to n tasks, reserved with reserve, after recording
// the outcomes ps in the same store call, and starts the tasks. It returns
// what the store reports for each outcome.
func (d *Dispatcher) claimWith(ctx context.Context, n int, ps []store.CompleteParams) ([]bool, error) {
	res, err := d.claimReserved(ctx, n, ps, false)
	if err != nil {
		return nil, err
	}
	if !res.RetryAt.IsZero() || len(res.Claimed) == n {
		// Its timer must know when to claim next, or more may be ready.
		d.Wake()
	}
	return res.Completed, nil
}

// claimReserved makes the store call that claims up to n tasks, reserved
// with reserve, after recording the outcomes ps (if any), and settles it.
// polite: see store.ClaimParams.Polite.
func (d *Dispatcher) claimReserved(ctx context.Context, n int, ps []store.CompleteParams, polite bool) (store.ClaimResult, error) {
	p := d.claimParams(n)
	p.Complete, p.Polite = ps, polite
	wakes := d.wakes.Load()
	d.env.claims.RLock()
	defer d.env.claims.RUnlock()
	res, err := d.env.Store.Claim(ctx, p)
	return res, d.settle(n, wakes, res, err)
}

// claimParams are the arguments of a claim of up to n of the queue's tasks
// for this process.
func (d *Dispatcher) claimParams(n int) store.ClaimParams {
	return store.ClaimParams{Queue: d.name, ExecutorID: d.env.ExecutorID, Max: n, Runs: d.env.Runs}
}

// settle ends a claim of up to n tasks, reserved with reserve, that
// returned res and err, and began when Wake had been called wakes times:
// a failed claim releases the reservations (and has the executor look for
// what it may have taken all the same: Env.Unsure); one that succeeded
// adopts the limits it applied, notes whether it drained the queue (see
// Drained), starts its tasks and releases the reservations it did not use.
func (d *Dispatcher) settle(n int, wakes uint64, res store.ClaimResult, err error) error {
	if err != nil {
		d.running.Add(-int64(n))
		if d.env.Unsure != nil {
			d.env.Unsure(d.name) // it may have committed
		}
		return err
	}
	d.adopt(res.Config)
	if len(res.Claimed) < n && res.RetryAt.IsZero() && !res.Paused && !res.GaveWay && !d.shared.Load() {
		d.drained.Store(wakes + 1)
	}
	d.running.Add(int64(len(res.Claimed) - n))
	for _, w := range res.Claimed {
		d.env.Start(w, d)
	}
	return nil
}

// claim takes as many tasks as the limits allow and starts them. It returns
// when the next claim could succeed without an event (zero: unknown).
// polite (see Heard): a claim that gives way to another process's ends
// the round; one that fills its batch tells the other processes, which
// may have given way to it, that more may be ready.
func (d *Dispatcher) claim(polite bool) time.Time {
	for {
		n := d.reserve(0)
		if n == 0 {
			return time.Time{} // a local completion will wake us
		}
		// A claim that locked rows must finish: never interrupt it.
		res, err := d.claimReserved(context.WithoutCancel(d.env.Ctx), n, nil, polite)
		if err != nil {
			if d.env.Outage != nil {
				d.env.Outage.Failed(d.env.Log, "claim tasks of queue "+d.name, err, d.env.Poll)
			} else {
				d.env.Log.Error("dbos: claim failed; retrying at the next poll", "queue", d.name, "err", err)
			}
			return time.Time{}
		}
		if d.env.Outage != nil {
			d.env.Outage.Succeeded(d.env.Log)
		}
		d.notePaused(res.Paused)
		if res.GaveWay {
			// The claim in flight began after the rows that woke us
			// committed, or its process heard of them too and claims
			// again once it ends; if it fills its batch, it tells us.
			return time.Time{}
		}
		if len(res.Claimed) < n {
			if len(res.Claimed) == 0 && res.Config.Concurrency > 0 && !res.Paused {
				d.hungry()
			}
			return res.RetryAt
		}
		if polite {
			d.env.Notifier.Enqueued(d.name)
		}
		select {
		case <-d.env.Stop:
			return time.Time{}
		default:
		}
	}
}

// notePaused logs when the dispatcher's claims find the queue paused
// (dbos.PauseQueue, from any process), and when they no longer do. A
// paused queue's claims take nothing and give no RetryAt: the dispatcher
// claims again at the next poll, or at once when the queue is resumed
// (the resume wakes it, in this process or through a notification).
func (d *Dispatcher) notePaused(paused bool) {
	if paused == d.paused {
		return
	}
	d.paused = paused
	if paused {
		d.env.Log.Info(fmt.Sprintf("dbos: queue %q is paused: this process starts none of its tasks until it is resumed", d.name), "queue", d.name)
	} else {
		d.env.Log.Info(fmt.Sprintf("dbos: queue %q is no longer paused", d.name), "queue", d.name)
	}
}

// Took counts one more of the queue's tasks running in this process: one
// that did not come from a claim (resumed, taken over, started directly).
func (d *Dispatcher) Took() { d.running.Add(1) }

// Finished counts a task of the queue that ended in this process; unless
// the call that recorded its outcome claimed the queue's next tasks
// (claimed), the dispatcher is woken to claim them.
func (d *Dispatcher) Finished(claimed bool) {
	d.running.Add(-1)
	if !claimed {
		d.Wake()
	}
}
