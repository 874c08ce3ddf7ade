package executor

import (
	"context"
	"fmt"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/lease"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

const (
	// strandedFirstWait is how long recoverStranded waits before its first
	// look, and strandedMaxWait the most between two tries while the
	// database does not answer.
	strandedFirstWait = 100 * time.Millisecond
	strandedMaxWait   = 5 * time.Second
	// strandedLimit caps the PENDING workflows of the queue one look reads.
	strandedLimit = 10000
)

// recoverStranded runs the workflows of queue that a claim of this process
// took without the process learning of it: a claim whose call failed (the
// connection broke, the server died, a failover) may still have committed,
// leaving workflows PENDING under this executor, which is alive and renews
// its lease, so no other process takes them over, and which never started
// them. The claim paths call it (dispatch.Env.Unsure) after such a
// failure; it returns at once, and one goroutine per queue looks, retrying
// until the database answers, for the queue's PENDING workflows owned by
// this executor that did not start here (e.live), and starts them.
//
// While it reads them no claim of this process is in flight
// (dispatch.Queues.PauseClaims): every workflow a finished claim took is in
// e.live by then, until its outcome is recorded; and the live set is read
// before the rows, so a workflow that finishes meanwhile is either still
// live or no longer PENDING.
func (e *Executor) recoverStranded(queue string) {
	if _, busy := e.stranded.LoadOrStore(queue, struct{}{}); busy {
		return
	}
	go func() {
		defer e.stranded.Delete(queue)
		wait := strandedFirstWait
		for {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-e.stopCh:
				t.Stop()
				return
			}
			if e.stopping.Load() {
				return
			}
			n, err := e.startStranded(queue)
			if err == nil {
				if n > 0 {
					e.log.Warn(fmt.Sprintf("dbos: started %s of queue %q that a claim took for this process while its call failed (the claim committed, its reply was lost)", lease.Workflows(n), queue),
						"queue", queue, "count", n)
				}
				return
			}
			wait = min(2*wait, strandedMaxWait)
		}
	}()
}

// startStranded starts the stranded workflows of queue (see
// recoverStranded) and returns how many.
func (e *Executor) startStranded(queue string) (int, error) {
	ctx, cancel := context.WithTimeout(e.runCtx, 10*time.Second)
	defer cancel()
	resume := e.queues.PauseClaims()
	defer resume()
	live := map[string]bool{}
	e.live.Range(func(id, _ any) bool {
		live[id.(string)] = true
		return true
	})
	ws, err := e.store.ListWorkflows(ctx, store.ListFilter{State: store.StatePending, Queue: queue, Limit: strandedLimit})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, w := range ws {
		if w.ExecutorID != e.executorID || live[w.ID] {
			continue
		}
		e.spawn(w)
		n++
	}
	return n, nil
}
