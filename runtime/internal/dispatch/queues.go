// Package dispatch claims queued work for one executor and counts it: a
// Dispatcher per queue this process runs, whose reservations (reserve,
// settle) every path that claims uses: the dispatcher's own claims, the
// calls that record outcomes (completer) and the calls that insert new
// tasks (inserter), which may claim the queue's next tasks in the same
// statement and commit.
package dispatch

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/groupcommit"
	"github.com/dbosgen/dbosgen/runtime/internal/notify"
	"github.com/dbosgen/dbosgen/runtime/internal/outage"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Env is what the dispatchers of one executor share with it.
type Env struct {
	Store      store.Store
	ExecutorID string
	Log        *slog.Logger
	// Poll is the fallback interval between claims when no event wakes a
	// dispatcher.
	Poll time.Duration
	// Ctx is the executor's run context: store calls that must finish once
	// sent run on context.WithoutCancel(Ctx).
	Ctx context.Context
	// Stop closes when Shutdown begins: the dispatchers' loops end.
	Stop <-chan struct{}
	// Stopping reports that Shutdown began: completions and inserts claim
	// nothing more.
	Stopping func() bool
	// Notifier tells other processes of this one's hunger for a queue's
	// tasks; nil on an engine without notifications.
	Notifier *notify.Notifier
	// Start runs a workflow claimed for this process in a new goroutine; d
	// counts it already.
	Start func(w store.Workflow, d *Dispatcher)
	// Runs is what this process runs: every claim (the dispatchers', the
	// completers', the inserters') takes only such workflows.
	Runs *store.Runs
	// Outage, when set, logs failed claims once per outage (with the
	// executor's other database calls) instead of each one.
	Outage *outage.Tracker
	// Unsure, when set, is called with the queue's name after a claim
	// call failed: it may have committed all the same (its reply lost),
	// leaving tasks PENDING under this executor that no one runs. It must
	// return at once.
	Unsure func(queue string)

	// claims is held shared by every claim from its store call until the
	// tasks it took are started; see Queues.PauseClaims.
	claims sync.RWMutex
}

// maxInsertBatch caps the workflows one store call inserts.
const maxInsertBatch = 128

// An inserter makes a second store call while one is in flight once
// insertSpill enqueues wait behind it (at most insertCalls at once): the
// callers of a call wait for its commit's flush, so with one call at a
// time many producers enqueue no faster than one flush per batch. With a
// second call for as few as 8, 16 producers went from 4,692 to 6,471
// tasks/s on Postgres (medians of 6 alternated runs, dbosbench producers)
// and from 1,980 to 3,081 on SQLite (medians of 3).
const (
	insertCalls = 2
	insertSpill = 8
)

// Queues is this executor's dispatchers, by queue name, with the batched
// store calls that record outcomes and insert tasks for any queue.
type Queues struct {
	env       *Env
	byName    map[string]*Dispatcher
	done      *completer // records outcomes of workflows of no dispatched queue
	inserters sync.Map   // queue name ("": none) -> *groupcommit.Batcher of its inserts
}

// New makes a dispatcher for each queue declaration, adopting its limits
// until a claim reports the stored ones.
func New(env *Env, decls []store.QueueConfig) *Queues {
	qs := &Queues{env: env, byName: make(map[string]*Dispatcher, len(decls)), done: newCompleter(env, nil)}
	for _, c := range decls {
		qs.byName[c.Name] = newDispatcher(env, c)
	}
	return qs
}

// Get returns the dispatcher of a queue this process runs, or nil.
func (qs *Queues) Get(name string) *Dispatcher { return qs.byName[name] }

// Run starts every dispatcher's loop, counted in wg; the loops end when
// env.Stop closes.
func (qs *Queues) Run(wg *sync.WaitGroup) {
	for _, d := range qs.byName {
		wg.Go(d.loop)
	}
}

// WakeAll wakes every dispatcher, after notifications may have been lost.
func (qs *Queues) WakeAll() {
	for _, d := range qs.byName {
		d.Wake()
	}
}

// Complete records the outcome of a workflow of d's queue (d nil: of a
// queue this process does not run, or of none), with the concurrent
// outcomes of other workflows (see completer). It reports whether the
// outcome was recorded (false: the workflow is not PENDING under
// p.ExecutorID) and whether the same call claimed d's next tasks. On error
// nothing was recorded.
func (qs *Queues) Complete(d *Dispatcher, p store.CompleteParams) (ok, claimed bool, err error) {
	return qs.completer(d).complete(p)
}

// CompleteAsync records the outcome of a workflow as Complete does, without
// waiting for it: done gets Complete's results, called by the goroutine
// that made the store call (maybe this one, before CompleteAsync returns).
// done must not block: it holds up the outcomes recorded after it.
func (qs *Queues) CompleteAsync(d *Dispatcher, p store.CompleteParams, done func(ok, claimed bool, err error)) {
	qs.completer(d).completeAsync(p, done)
}

// completer records the outcomes of d's queue (d nil: of a queue this
// process does not run, or of none).
func (qs *Queues) completer(d *Dispatcher) *completer {
	if d != nil {
		return d.done
	}
	return qs.done
}

// Inserted is one insert's result.
type Inserted struct {
	store.InsertResult
	// Taken reports that the call also claimed every ready task of the
	// queue for this process: nobody needs waking for this one.
	Taken bool
}

// Insert inserts a workflow (see store.InsertWorkflows) with the
// concurrent inserts of the same queue (or of workflows started without
// one): one statement and one commit for all. It returns once the
// workflow is committed; a caller whose ctx ends while it waits for a call
// gives up.
func (qs *Queues) Insert(ctx context.Context, p store.InsertParams) (Inserted, error) {
	r, err := qs.inserter(p.Queue).Do(ctx, p)
	if err != nil {
		return Inserted{}, err
	}
	return r, r.Err
}

// PauseClaims waits for the claims in flight to start their tasks, holds
// back new ones, and returns the function that lets them go on: meanwhile
// every task a claim of this process took has been started.
func (qs *Queues) PauseClaims() (resume func()) {
	qs.env.claims.Lock()
	return qs.env.claims.Unlock
}

// inserter returns the batcher of the inserts on queue. When this process
// runs the queue, the queue has no limits and the process has room, the
// call also claims the queue's ready tasks, oldest first, in the insert's
// transaction (store.InsertAndClaim): the tasks an idle worker enqueues
// start with the commit that enqueued them, without a wake-up and a claim
// of their own.
func (qs *Queues) inserter(queue string) *groupcommit.Batcher[store.InsertParams, Inserted] {
	if b, ok := qs.inserters.Load(queue); ok {
		return b.(*groupcommit.Batcher[store.InsertParams, Inserted])
	}
	b := &groupcommit.Batcher[store.InsertParams, Inserted]{
		Call: func(ps []store.InsertParams) ([]Inserted, error) {
			// The call inserts for every caller of the batch: no one
			// caller's cancellation may interrupt it.
			return qs.insertBatch(context.WithoutCancel(qs.env.Ctx), queue, ps)
		},
		Max:   maxInsertBatch,
		Par:   insertCalls,
		Spill: insertSpill,
	}
	actual, _ := qs.inserters.LoadOrStore(queue, b)
	return actual.(*groupcommit.Batcher[store.InsertParams, Inserted])
}

// insertBatch makes an inserter's store call.
func (qs *Queues) insertBatch(ctx context.Context, queue string, ps []store.InsertParams) ([]Inserted, error) {
	out := make([]Inserted, len(ps))
	d := qs.byName[queue]
	n := 0
	if d != nil && !d.Limited() && !qs.env.Stopping() {
		n = d.reserve(0)
	}
	if n == 0 {
		res, err := qs.env.Store.InsertWorkflows(ctx, ps)
		for i, r := range res {
			out[i].InsertResult = r
		}
		return out, err
	}
	wakes := d.wakes.Load()
	c := d.claimParams(n)
	c.Drained = d.Drained()
	qs.env.claims.RLock()
	res, claimed, err := qs.env.Store.InsertAndClaim(ctx, ps, c)
	err = d.settle(n, wakes, claimed, err)
	qs.env.claims.RUnlock()
	if err != nil {
		return nil, err
	}
	// Fewer than it could take: nothing ready is left, these rows included
	// (unless the queue is paused: then they wait, and other processes
	// must hear of them).
	taken := len(claimed.Claimed) < n && claimed.RetryAt.IsZero() && !claimed.Paused
	for i, r := range res {
		out[i] = Inserted{InsertResult: r, Taken: taken}
	}
	return out, nil
}
