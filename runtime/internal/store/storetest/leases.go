package storetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

func testOwnedWorkflows(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	exec := unique("exec")
	var mine []string
	for range 3 {
		w, _, err := InsertOne(ctx, s, store.InsertParams{ID: unique("wf"), Name: "f", State: store.StatePending, ExecutorID: exec})
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, w.ID)
	}
	other, _ := running(t, s)
	if _, _, err := s.CancelWorkflow(ctx, mine[1]); err != nil {
		t.Fatal(err)
	}
	owned, err := s.OwnedWorkflows(ctx, exec, append(slices.Clone(mine), other, unique("missing")))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(owned)
	want := []string{mine[0], mine[2]}
	slices.Sort(want)
	if !slices.Equal(owned, want) {
		t.Errorf("OwnedWorkflows = %v, want %v (not the cancelled one, nor another executor's, nor a missing one)", owned, want)
	}
	if owned, err := s.OwnedWorkflows(ctx, exec, nil); err != nil || len(owned) != 0 {
		t.Errorf("OwnedWorkflows of none = %v, %v", owned, err)
	}
}

// testLeaseTakeOver: an executor whose lease expired is reaped by a live
// one, which takes over its PENDING workflows (queued ones back to
// ENQUEUED on their queue, the others PENDING under the taker with one
// more attempt); an executor that renewed its lease keeps its workflows,
// and finished workflows stay as they are.
func testLeaseTakeOver(t *testing.T, open Opener) {
	ctx := testContext(t)
	s, other := open(t), open(t) // the taker, and the processes that die or live
	dead, live, taker := unique("dead"), unique("live"), unique("taker")
	queue := unique("q")

	// The executor that dies: one workflow started directly, one claimed
	// from a queue, one finished.
	deadDirect := pendingUnder(t, ctx, other, dead, time.Minute)
	deadQueued := claimOne(t, ctx, other, queue, dead)
	deadDone := claimOne(t, ctx, other, queue, dead)
	complete(t, ctx, other, deadDone)
	// The executor that lives: the same, minus the finished one.
	liveDirect := pendingUnder(t, ctx, other, live, 0)
	liveQueued := claimOne(t, ctx, other, queue, live)
	waiting := enqueue(t, ctx, other, store.InsertParams{Queue: queue})

	// live's first lease is as short as dead's; renewing it for a minute
	// keeps it alive.
	for _, l := range []struct {
		exec  string
		lease time.Duration
	}{{dead, time.Millisecond}, {live, time.Millisecond}, {live, time.Minute}, {taker, time.Minute}} {
		if err := other.RenewLease(ctx, store.Executor{ID: l.exec}, l.lease); err != nil {
			t.Fatalf("RenewLease(%s, %v): %v", l.exec, l.lease, err)
		}
	}
	// dead's lease (1ms) expires before the first TakeOverExpired, so one
	// call both reaps dead and moves its workflows: a call that read the
	// clock just before the expiry in its reap and just after it in its
	// move would move them without reaping dead, and the next call would
	// reap dead having nothing left to move.
	tickPast(time.Now().Add(time.Millisecond))
	reaped, moved := takeOverUntil(t, ctx, s, taker, dead)
	if slices.Contains(reaped, live) || slices.Contains(reaped, taker) {
		t.Errorf("TakeOverExpired(%s) reaped %v: a live executor (%s) or itself (%s)", taker, reaped, live, taker)
	}
	mine := map[string]bool{deadDirect.ID: true, deadQueued.ID: true, deadDone.ID: true, liveDirect.ID: true, liveQueued.ID: true, waiting.ID: true}
	got := map[string]store.Workflow{}
	for _, w := range moved {
		if mine[w.ID] {
			got[w.ID] = w
		}
	}
	if len(got) != 2 || got[deadDirect.ID].ID == "" || got[deadQueued.ID].ID == "" {
		t.Fatalf("TakeOverExpired moved %v of this test's workflows, want the dead executor's PENDING ones [%s %s]", slices.Sorted(maps.Keys(got)), deadDirect.ID, deadQueued.ID)
	}
	checkDirect := func(what string, w store.Workflow) {
		t.Helper()
		if w.State != store.StatePending || w.ExecutorID != taker || w.Attempts != deadDirect.Attempts+1 || !w.StartedAt.After(deadDirect.StartedAt) || !near(w.StartedAt, time.Now()) {
			t.Errorf("%s: the direct workflow is %s under %q, Attempts %d, StartedAt %v; want PENDING under %s, Attempts %d, started now",
				what, w.State, w.ExecutorID, w.Attempts, w.StartedAt, taker, deadDirect.Attempts+1)
		}
	}
	checkQueued := func(what string, w store.Workflow) {
		t.Helper()
		if w.State != store.StateEnqueued || w.ExecutorID != "" || w.Queue != queue || w.Attempts != deadQueued.Attempts {
			t.Errorf("%s: the queued workflow is %s under %q on %q, Attempts %d; want ENQUEUED under nobody on %s, Attempts %d",
				what, w.State, w.ExecutorID, w.Queue, w.Attempts, queue, deadQueued.Attempts)
		}
	}
	checkDirect("moved", got[deadDirect.ID])
	checkDirect("stored", get(t, ctx, s, deadDirect.ID))
	checkQueued("moved", got[deadQueued.ID])
	checkQueued("stored", get(t, ctx, s, deadQueued.ID))
	if w := get(t, ctx, s, deadDone.ID); w.State != store.StateSuccess || w.ExecutorID != dead || w.Attempts != deadDone.Attempts {
		t.Errorf("the dead executor's finished workflow became %s under %q, Attempts %d", w.State, w.ExecutorID, w.Attempts)
	}
	for _, w := range []store.Workflow{liveDirect, liveQueued} {
		if now := get(t, ctx, s, w.ID); now.State != store.StatePending || now.ExecutorID != live || now.Attempts != w.Attempts {
			t.Errorf("the live executor's %s became %s under %q, Attempts %d", w.ID, now.State, now.ExecutorID, now.Attempts)
		}
	}
	if w := get(t, ctx, s, waiting.ID); w.State != store.StateEnqueued || w.Attempts != 0 {
		t.Errorf("an ENQUEUED workflow became %s, Attempts %d", w.State, w.Attempts)
	}
	// The taker's run owns the direct workflow; the dead one's is fenced.
	if owned, err := s.OwnedWorkflows(ctx, taker, []string{deadDirect.ID}); err != nil || !slices.Equal(owned, []string{deadDirect.ID}) {
		t.Errorf("OwnedWorkflows(%s) = %v, %v; want the direct workflow", taker, owned, err)
	}
	stale := store.Owner{ExecutorID: dead, Attempts: deadDirect.Attempts}
	if _, _, err := s.RecordStep(ctx, store.Step{WorkflowID: deadDirect.ID, StepID: 1, Name: "s"}, stale); !errors.Is(err, store.ErrFenced) {
		t.Errorf("RecordStep by the dead executor's run: err = %v, want ErrFenced", err)
	}
	// The queued one is claimed again, in its turn (before the waiting
	// one, enqueued later), with one more attempt.
	res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: taker, Max: 1})
	if len(res.Claimed) != 1 || res.Claimed[0].ID != deadQueued.ID || res.Claimed[0].Attempts != deadQueued.Attempts+1 {
		t.Errorf("claim after the takeover took %+v, want %s with Attempts %d", res.Claimed, deadQueued.ID, deadQueued.Attempts+1)
	}
	// The dead executor was deleted: a second takeover finds it no more.
	to, err := s.TakeOverExpired(ctx, taker, nil)
	if err != nil {
		t.Fatal(err)
	}
	reaped, moved = to.Dead, to.Moved
	if slices.Contains(reaped, dead) {
		t.Errorf("a second TakeOverExpired reaped %s again", dead)
	}
	for _, w := range moved {
		if mine[w.ID] {
			t.Errorf("a second TakeOverExpired moved %s (%s under %q)", w.ID, w.State, w.ExecutorID)
		}
	}
}

// testTakeOverOnce: takers racing for one dead executor move each of its
// workflows once.
func testTakeOverOnce(t *testing.T, open Opener) {
	ctx := testContext(t)
	dead := unique("dead")
	stores := []store.Store{open(t), open(t)}
	var direct []store.Workflow
	for range 4 {
		direct = append(direct, pendingUnder(t, ctx, stores[0], dead, 0))
	}
	if err := stores[0].RenewLease(ctx, store.Executor{ID: dead}, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// The lease ends a millisecond later on the database's clock; wait
	// well past that before the race.
	time.Sleep(20 * time.Millisecond)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		reaped = map[string]int{}
		moved  = map[string]int{}
	)
	for i := range 6 {
		wg.Go(func() {
			taker := unique("taker")
			to, err := stores[i%2].TakeOverExpired(ctx, taker, nil)
			if err != nil {
				t.Errorf("TakeOverExpired: %v", err)
				return
			}
			gone, ws := to.Dead, to.Moved
			mu.Lock()
			defer mu.Unlock()
			for _, d := range gone {
				reaped[d]++
			}
			for _, w := range ws {
				moved[w.ID]++
			}
		})
	}
	wg.Wait()
	if reaped[dead] != 1 {
		t.Errorf("%d racing takers reaped %s, want 1", reaped[dead], dead)
	}
	for _, w := range direct {
		if moved[w.ID] != 1 {
			t.Errorf("%s was moved %d times, want once", w.ID, moved[w.ID])
		}
		if got := get(t, ctx, stores[0], w.ID); got.Attempts != w.Attempts+1 || got.State != store.StatePending || got.ExecutorID == dead {
			t.Errorf("%s: %s under %q, Attempts %d; want PENDING under a taker, Attempts %d", w.ID, got.State, got.ExecutorID, got.Attempts, w.Attempts+1)
		}
	}
}

// takeOverUntil calls TakeOverExpired as taker until it reaps dead (whose
// lease is about to expire), and returns what that call reported.
func takeOverUntil(t *testing.T, ctx context.Context, s store.Store, taker, dead string) (reaped []string, moved []store.Workflow) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		to, err := s.TakeOverExpired(ctx, taker, nil)
		if err != nil {
			t.Fatalf("TakeOverExpired(%s): %v", taker, err)
		}
		reaped, moved := to.Dead, to.Moved
		if slices.Contains(reaped, dead) {
			return reaped, moved
		}
		if time.Now().After(deadline) {
			t.Fatalf("TakeOverExpired(%s) did not reap %s, whose lease expired", taker, dead)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pendingUnder inserts a workflow started directly by exec.
func pendingUnder(t *testing.T, ctx context.Context, s store.Store, exec string, timeout time.Duration) store.Workflow {
	t.Helper()
	w, _, err := InsertOne(ctx, s, store.InsertParams{ID: unique("wf"), Name: "f", State: store.StatePending, ExecutorID: exec, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// claimOne enqueues a workflow on queue and claims it for exec; the queue
// must hold nothing else ready.
func claimOne(t *testing.T, ctx context.Context, s store.Store, queue, exec string) store.Workflow {
	t.Helper()
	w := enqueue(t, ctx, s, store.InsertParams{Queue: queue})
	res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: exec, Max: 1})
	if len(res.Claimed) != 1 || res.Claimed[0].ID != w.ID {
		t.Fatalf("claimed %v, want [%s]", ids(res.Claimed), w.ID)
	}
	return res.Claimed[0]
}
