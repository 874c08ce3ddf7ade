package dispatch

import (
	"context"

	"github.com/dbosgen/dbosgen/runtime/internal/groupcommit"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

const (
	// maxCompleteBatch caps the outcomes one store call records.
	maxCompleteBatch = 256
	// completeCalls is how many store calls recording outcomes may be in
	// flight at once: while one waits for the database (its statements,
	// its commit's WAL flush), a full batch of outcomes that gathered
	// meanwhile starts the next, so that the database and the tasks work
	// at the same time (a partial batch waits: see groupcommit.Batcher).
	completeCalls = 2
)

// completer records the outcomes of the workflows that finish in this
// process, many per store call (a batcher): each outcome gets its own
// fenced result once committed (complete waits for it; completeAsync hands
// it to a callback, and the finished task's goroutine need not wait), and
// the outcomes that arrive while a call is in flight are recorded together
// by the next, with one statement and one commit.
//
// The completer of a dispatched queue may also claim that queue's next
// tasks in the same store call (store.ClaimParams.Complete; see
// Dispatcher.claimsOnCompletion): the slots the outcomes free are taken at
// once, with the outcomes' commit, instead of after a wake-up of the
// dispatcher and a claim of its own. Workflows of other queues, or of none,
// go through Queues.done, a completer that only records.
type completer struct {
	env *Env
	d   *Dispatcher // the queue whose tasks finish here; nil: claim nothing
	b   groupcommit.Batcher[store.CompleteParams, completed]
}

// completed is the result of one outcome.
type completed struct {
	ok      bool // recorded (false: fenced off)
	claimed bool // the call that recorded it claimed for the queue
}

func newCompleter(env *Env, d *Dispatcher) *completer {
	c := &completer{env: env, d: d}
	c.b = groupcommit.Batcher[store.CompleteParams, completed]{
		Call: c.record,
		Key:  func(p store.CompleteParams) string { return p.ID }, // one outcome of a workflow per statement
		Max:  maxCompleteBatch,
		Par:  completeCalls,
	}
	return c
}

// complete records p, with the outcomes of other callers, and returns
// whether it was recorded (false: the workflow is not PENDING under
// p.ExecutorID) and whether the same call claimed for the dispatcher's
// queue. On error nothing was recorded.
func (c *completer) complete(p store.CompleteParams) (ok, claimed bool, err error) {
	r, err := c.b.Do(context.Background(), p)
	return r.ok, r.claimed, err
}

// completeAsync records p as complete does, without waiting: done gets
// the result, from the goroutine that made the call.
func (c *completer) completeAsync(p store.CompleteParams, done func(ok, claimed bool, err error)) {
	c.b.Go(p, func(r completed, err error) { done(r.ok, r.claimed, err) })
}

// record makes the store call for a batch of outcomes.
func (c *completer) record(ps []store.CompleteParams) ([]completed, error) {
	// A call that began must finish: never leave its outcome unknown.
	ctx := context.WithoutCancel(c.env.Ctx)
	var (
		oks     []bool
		claimed bool
		err     error
	)
	if n := c.reserve(len(ps)); n > 0 {
		oks, err = c.d.claimWith(ctx, n, ps)
		claimed = true
	} else {
		// With nothing ready (Drained) the outcomes need no claim,
		// and the dispatcher no wake-up to make one.
		claimed = c.d != nil && c.d.Drained()
		oks, err = c.env.Store.CompleteMany(ctx, ps)
	}
	if err != nil {
		return nil, err
	}
	out := make([]completed, len(ps))
	for i, ok := range oks {
		out[i] = completed{ok: ok, claimed: claimed}
	}
	return out, nil
}

// reserve returns how many tasks the call recording n outcomes may claim
// for the dispatcher's queue (reserved in its local count), 0 when it
// claims nothing.
func (c *completer) reserve(n int) int {
	if c.d == nil || c.env.Stopping() || !c.d.claimsOnCompletion() || c.d.Drained() {
		return 0
	}
	return c.d.reserve(n)
}
