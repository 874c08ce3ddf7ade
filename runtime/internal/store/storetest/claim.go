package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

func testClaimFIFO(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue := unique("q")
	var all []store.Workflow
	for _, prio := range []int{5, 1, 5, 0, 1, 3, 0} {
		all = append(all, enqueue(t, ctx, s, store.InsertParams{Queue: queue, Priority: prio}))
	}
	want := slices.Clone(all)
	slices.SortStableFunc(want, func(a, b store.Workflow) int { return a.Priority - b.Priority }) // stable: Seq order within a priority

	for _, limited := range []bool{false, true} {
		q := queue
		if limited {
			q = unique("q")
			all = all[:0]
			for _, prio := range []int{5, 1, 5, 0, 1, 3, 0} {
				all = append(all, enqueue(t, ctx, s, store.InsertParams{Queue: q, Priority: prio}))
			}
			want = slices.Clone(all)
			slices.SortStableFunc(want, func(a, b store.Workflow) int { return a.Priority - b.Priority })
		}
		if limited {
			declare(t, ctx, s, store.QueueConfig{Name: q, Concurrency: 100})
		}
		p := store.ClaimParams{Queue: q, ExecutorID: "e", Max: 3}
		var got []store.Workflow
		for range 3 {
			got = append(got, claim(t, ctx, s, p).Claimed...)
		}
		if !slices.Equal(ids(got), ids(want)) {
			t.Errorf("limited=%v: claim order %v, want %v (priority, then insertion)", limited, ids(got), ids(want))
		}
	}
}

func testClaimMaxAndEmpty(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue, other := unique("q"), unique("q")
	res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 5})
	if len(res.Claimed) != 0 || !res.RetryAt.IsZero() {
		t.Errorf("claim from an empty queue = %d rows, RetryAt %v; want none, zero", len(res.Claimed), res.RetryAt)
	}
	ws := enqueueN(t, ctx, s, queue, 5)
	bystander := enqueue(t, ctx, s, store.InsertParams{Queue: other})
	before := time.Now()
	res = claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "exec-1", Max: 3})
	if got, want := ids(res.Claimed), ids(ws[:3]); !slices.Equal(got, want) {
		t.Fatalf("claimed %v, want %v", got, want)
	}
	for _, w := range res.Claimed {
		if w.State != store.StatePending || w.ExecutorID != "exec-1" || w.Attempts != 1 || !near(w.StartedAt, before) {
			t.Errorf("claimed %s: State %q ExecutorID %q Attempts %d StartedAt %v; want PENDING exec-1 1 about %v",
				w.ID, w.State, w.ExecutorID, w.Attempts, w.StartedAt, before)
		}
		if stored := get(t, ctx, s, w.ID); stored.State != store.StatePending || !stored.StartedAt.Equal(w.StartedAt) {
			t.Errorf("stored %s: State %q StartedAt %v, want what Claim returned", w.ID, stored.State, stored.StartedAt)
		}
	}
	res = claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "exec-2", Max: 10})
	if got, want := ids(res.Claimed), ids(ws[3:]); !slices.Equal(got, want) {
		t.Errorf("second claim took %v, want the rest %v", got, want)
	}
	if !res.RetryAt.IsZero() {
		t.Errorf("RetryAt = %v after emptying the queue, want zero", res.RetryAt)
	}
	if w := get(t, ctx, s, bystander.ID); w.State != store.StateEnqueued {
		t.Errorf("a claim took a workflow of another queue: state %q", w.State)
	}
}

func testClaimSetsDeadline(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue := unique("q")
	timed := enqueue(t, ctx, s, store.InsertParams{Queue: queue, Timeout: 2500 * time.Millisecond})
	untimed := enqueue(t, ctx, s, store.InsertParams{Queue: queue})
	res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 2})
	if len(res.Claimed) != 2 {
		t.Fatalf("claimed %d, want 2", len(res.Claimed))
	}
	for _, w := range res.Claimed {
		switch w.ID {
		case timed.ID:
			if !w.Deadline.Equal(w.StartedAt.Add(2500 * time.Millisecond)) {
				t.Errorf("Deadline = %v, want StartedAt+2.5s = %v", w.Deadline, w.StartedAt.Add(2500*time.Millisecond))
			}
		case untimed.ID:
			if !w.Deadline.IsZero() {
				t.Errorf("Deadline = %v without a timeout, want zero", w.Deadline)
			}
		}
	}
}

func testClaimRejectsInvalid(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	for _, p := range []store.ClaimParams{
		{Queue: "", ExecutorID: "e", Max: 1},
		{Queue: "q", ExecutorID: "", Max: 1},
		{Queue: "q", ExecutorID: "e", Max: 0},
	} {
		if _, err := s.Claim(ctx, p); err == nil {
			t.Errorf("Claim(%+v) succeeded, want an error", p)
		}
	}
}

func testClaimDelay(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	for _, limited := range []bool{false, true} {
		queue := unique("q")
		p := store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 5}
		if limited {
			declare(t, ctx, s, store.QueueConfig{Name: queue, Concurrency: 5})
		}
		late := enqueue(t, ctx, s, store.InsertParams{Queue: queue, Delay: time.Hour})
		if d := late.NotBefore.Sub(late.CreatedAt); d != time.Hour {
			t.Errorf("NotBefore - CreatedAt = %v, want 1h", d)
		}
		soon := enqueue(t, ctx, s, store.InsertParams{Queue: queue, Delay: 300 * time.Millisecond})

		res := claim(t, ctx, s, p)
		if len(res.Claimed) != 0 {
			t.Fatalf("limited=%v: claimed %v before their delay", limited, ids(res.Claimed))
		}
		if !res.RetryAt.Equal(soon.NotBefore) {
			t.Fatalf("limited=%v: RetryAt = %v, want the next NotBefore %v", limited, res.RetryAt, soon.NotBefore)
		}
		// Wait for the moment the store named (the test's clock may trail
		// the database's by a little), then the delayed workflow is ready.
		time.Sleep(time.Until(res.RetryAt) + 20*time.Millisecond)
		var got []store.Workflow
		for deadline := time.Now().Add(5 * time.Second); len(got) == 0 && time.Now().Before(deadline); {
			res = claim(t, ctx, s, p)
			got = res.Claimed
			if len(got) == 0 {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if !slices.Equal(ids(got), []string{soon.ID}) {
			t.Fatalf("limited=%v: claimed %v after RetryAt, want [%s]", limited, ids(got), soon.ID)
		}
		if !res.RetryAt.Equal(late.NotBefore) {
			t.Errorf("limited=%v: RetryAt = %v, want the next NotBefore %v", limited, res.RetryAt, late.NotBefore)
		}
	}
}

func testConcurrencyLimit(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue := unique("q")
	ws := enqueueN(t, ctx, s, queue, 5)
	declare(t, ctx, s, store.QueueConfig{Name: queue, Concurrency: 3})
	p := store.ClaimParams{Queue: queue, ExecutorID: "e1", Max: 10}
	res := claim(t, ctx, s, p)
	if !slices.Equal(ids(res.Claimed), ids(ws[:3])) {
		t.Fatalf("Concurrency 3: claimed %v, want %v", ids(res.Claimed), ids(ws[:3]))
	}
	if !res.RetryAt.IsZero() {
		t.Errorf("RetryAt = %v while concurrency is full, want zero (a completion frees a slot)", res.RetryAt)
	}
	p.ExecutorID = "e2" // the limit is global
	if res := claim(t, ctx, s, p); len(res.Claimed) != 0 {
		t.Fatalf("claimed %v beyond Concurrency 3", ids(res.Claimed))
	}
	complete(t, ctx, s, get(t, ctx, s, ws[1].ID))
	res = claim(t, ctx, s, p)
	if !slices.Equal(ids(res.Claimed), []string{ws[3].ID}) {
		t.Errorf("after one completion claimed %v, want [%s]", ids(res.Claimed), ws[3].ID)
	}
}

func testWorkerConcurrencyLimit(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue := unique("q")
	ws := enqueueN(t, ctx, s, queue, 6)
	declare(t, ctx, s, store.QueueConfig{Name: queue, WorkerConcurrency: 2})
	p := store.ClaimParams{Queue: queue, ExecutorID: "e1", Max: 10}
	if res := claim(t, ctx, s, p); !slices.Equal(ids(res.Claimed), ids(ws[:2])) {
		t.Fatalf("e1 claimed %v, want %v", ids(res.Claimed), ids(ws[:2]))
	}
	if res := claim(t, ctx, s, p); len(res.Claimed) != 0 || !res.RetryAt.IsZero() {
		t.Fatalf("e1 claimed %v (RetryAt %v) beyond WorkerConcurrency 2, want none and zero", ids(res.Claimed), res.RetryAt)
	}
	p.ExecutorID = "e2"
	if res := claim(t, ctx, s, p); !slices.Equal(ids(res.Claimed), ids(ws[2:4])) {
		t.Fatalf("e2 claimed %v, want %v", ids(res.Claimed), ids(ws[2:4]))
	}
	// Both limits: the global one binds first.
	declare(t, ctx, s, store.QueueConfig{Name: queue, WorkerConcurrency: 2, Concurrency: 5})
	p = store.ClaimParams{Queue: queue, ExecutorID: "e3", Max: 10}
	if res := claim(t, ctx, s, p); !slices.Equal(ids(res.Claimed), ids(ws[4:5])) {
		t.Fatalf("e3 claimed %v, want %v", ids(res.Claimed), ids(ws[4:5]))
	}
}

func testRateLimitRetryAt(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue := unique("q")
	ws := enqueueN(t, ctx, s, queue, 5)
	declare(t, ctx, s, store.QueueConfig{Name: queue, RateLimit: 2, RatePeriod: time.Hour})
	p := store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10}
	res := claim(t, ctx, s, p)
	if !slices.Equal(ids(res.Claimed), ids(ws[:2])) {
		t.Fatalf("RateLimit 2: claimed %v, want %v", ids(res.Claimed), ids(ws[:2]))
	}
	oldest := res.Claimed[0].StartedAt
	if !res.RetryAt.Equal(oldest.Add(time.Hour)) {
		t.Errorf("RetryAt = %v, want oldest start + period = %v", res.RetryAt, oldest.Add(time.Hour))
	}
	// Completions do not free a rate slot.
	for _, w := range res.Claimed {
		complete(t, ctx, s, w)
	}
	res = claim(t, ctx, s, p)
	if len(res.Claimed) != 0 {
		t.Fatalf("claimed %v beyond RateLimit 2 per hour", ids(res.Claimed))
	}
	if !res.RetryAt.Equal(oldest.Add(time.Hour)) {
		t.Errorf("RetryAt = %v, want oldest start + period = %v", res.RetryAt, oldest.Add(time.Hour))
	}
	// A window full but nothing left: no reason to retry.
	empty := unique("q")
	enqueue(t, ctx, s, store.InsertParams{Queue: empty})
	declare(t, ctx, s, store.QueueConfig{Name: empty, RateLimit: 1, RatePeriod: time.Hour})
	res = claim(t, ctx, s, store.ClaimParams{Queue: empty, ExecutorID: "e", Max: 10})
	if len(res.Claimed) != 1 || !res.RetryAt.IsZero() {
		t.Errorf("claimed %d with RetryAt %v from a queue left empty, want 1 and zero", len(res.Claimed), res.RetryAt)
	}
}

func testInsertAndClaim(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	row := func(queue string) store.InsertParams {
		return store.InsertParams{ID: unique("wf"), Name: "storetest.Task", State: store.StateEnqueued, Queue: queue}
	}
	// Unlimited: an older task is taken first, then the new ones, up to Max.
	queue := unique("q")
	older := enqueue(t, ctx, s, store.InsertParams{Queue: queue})
	ps := []store.InsertParams{row(queue), row(queue), row(queue)}
	res, claimed, err := s.InsertAndClaim(ctx, ps, store.ClaimParams{Queue: queue, ExecutorID: "exec-1", Max: 3})
	if err != nil {
		t.Fatalf("InsertAndClaim: %v", err)
	}
	for i, r := range res {
		if !r.Created || r.Err != nil || r.Workflow.ID != ps[i].ID {
			t.Errorf("insert %d = %+v", i, r)
		}
	}
	if got, want := ids(claimed.Claimed), []string{older.ID, ps[0].ID, ps[1].ID}; !slices.Equal(got, want) {
		t.Errorf("claimed %v, want %v (oldest first, up to Max)", got, want)
	}
	for _, w := range claimed.Claimed {
		if w.State != store.StatePending || w.ExecutorID != "exec-1" || w.Attempts != 1 {
			t.Errorf("claimed %s: %s under %q, attempts %d", w.ID, w.State, w.ExecutorID, w.Attempts)
		}
	}
	if w := get(t, ctx, s, ps[2].ID); w.State != store.StateEnqueued {
		t.Errorf("the row past Max is %s, want ENQUEUED", w.State)
	}

	// A free queue (nothing ready before the rows): the rows the claimer
	// can start begin claimed, as a claim leaves them, up to Max; the rest
	// wait. A row whose ID exists (here one running under the claimer) is
	// not created again and takes no room; a delayed row waits, with the
	// moment it becomes ready.
	free := unique("q")
	runs := &store.Runs{AppVersion: "v7", Names: []string{"storetest.Task"}, Signatures: []string{"sig-task"}}
	c := store.ClaimParams{Queue: free, ExecutorID: "exec-free", Max: 2, Runs: runs}
	row = func(queue string) store.InsertParams {
		return store.InsertParams{ID: unique("wf"), Name: "storetest.Task", State: store.StateEnqueued, Queue: queue, Signature: "sig-task"}
	}
	a := row(free)
	if _, claimed, err = s.InsertAndClaim(ctx, []store.InsertParams{a}, c); err != nil || !slices.Equal(ids(claimed.Claimed), []string{a.ID}) {
		t.Fatalf("InsertAndClaim on a free queue: claimed %v, %v; want [%s]", ids(claimed.Claimed), err, a.ID)
	}
	if w := claimed.Claimed[0]; w.State != store.StatePending || w.ExecutorID != "exec-free" || w.Attempts != 1 || w.StartedAt.IsZero() || w.AppVersion != "v7" {
		t.Errorf("started on insert: %s under %q, attempts %d, started %v, version %q; want PENDING under exec-free, 1, set, v7",
			w.State, w.ExecutorID, w.Attempts, w.StartedAt, w.AppVersion)
	}
	b, bb, late := row(free), row(free), row(free)
	late.Delay = time.Hour
	other := row(free)
	other.Name, other.Signature = "storetest.NotRunHere", "sig-other"
	ps = []store.InsertParams{a, b, late, other, bb}
	res, claimed, err = s.InsertAndClaim(ctx, ps, c)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Created || !res[1].Created || !res[4].Created {
		t.Errorf("created %v %v %v, want false true true", res[0].Created, res[1].Created, res[4].Created)
	}
	if got, want := ids(claimed.Claimed), []string{b.ID, bb.ID}; !slices.Equal(got, want) {
		t.Errorf("claimed %v, want %v (the existing row takes no room; the delayed one and the one not run here wait)", got, want)
	}
	for _, id := range []string{late.ID, other.ID} {
		if w := get(t, ctx, s, id); w.State != store.StateEnqueued || w.ExecutorID != "" || w.Attempts != 0 {
			t.Errorf("%s: %s under %q, attempts %d; want ENQUEUED under none, 0", id, w.State, w.ExecutorID, w.Attempts)
		}
	}
	// Now something waits that the claimer runs: it comes first.
	waiting := enqueue(t, ctx, s, store.InsertParams{Queue: free, Signature: "sig-task"})
	d := row(free)
	if _, claimed, err = s.InsertAndClaim(ctx, []store.InsertParams{d}, store.ClaimParams{Queue: free, ExecutorID: "exec-free", Max: 1, Runs: runs}); err != nil {
		t.Fatal(err)
	}
	if got := ids(claimed.Claimed); !slices.Equal(got, []string{waiting.ID}) {
		t.Errorf("with %s waiting: claimed %v, want only it", waiting.ID, got)
	}
	if w := get(t, ctx, s, d.ID); w.State != store.StateEnqueued {
		t.Errorf("the new row behind a waiting one is %s, want ENQUEUED", w.State)
	}
	// The caller's hint that nothing is ready (Drained) changes nothing:
	// right, the rows start; stale (d waits), d is claimed first.
	e1, e2 := row(free), row(free)
	hinted := store.ClaimParams{Queue: free, ExecutorID: "exec-free", Max: 2, Runs: runs, Drained: true}
	if _, claimed, err = s.InsertAndClaim(ctx, []store.InsertParams{e1}, hinted); err != nil {
		t.Fatal(err)
	}
	if got := ids(claimed.Claimed); !slices.Equal(got, []string{d.ID, e1.ID}) {
		t.Errorf("stale Drained hint with %s waiting: claimed %v, want [%s %s]", d.ID, got, d.ID, e1.ID)
	}
	if _, claimed, err = s.InsertAndClaim(ctx, []store.InsertParams{e2}, hinted); err != nil {
		t.Fatal(err)
	}
	if got := ids(claimed.Claimed); !slices.Equal(got, []string{e2.ID}) || claimed.Claimed[0].State != store.StatePending {
		t.Errorf("Drained hint on a free queue: claimed %v, want [%s] PENDING", got, e2.ID)
	}

	// Limited: the limits hold; the claim waits for room like any other.
	limited := unique("q")
	declare(t, ctx, s, store.QueueConfig{Name: limited, Concurrency: 1})
	first := []store.InsertParams{row(limited), row(limited)}
	if _, claimed, err = s.InsertAndClaim(ctx, first, store.ClaimParams{Queue: limited, ExecutorID: "exec-1", Max: 5}); err != nil {
		t.Fatal(err)
	}
	if got := ids(claimed.Claimed); !slices.Equal(got, []string{first[0].ID}) {
		t.Errorf("Concurrency(1): claimed %v, want only %s", got, first[0].ID)
	}
	if _, claimed, err = s.InsertAndClaim(ctx, []store.InsertParams{row(limited)}, store.ClaimParams{Queue: limited, ExecutorID: "exec-1", Max: 5}); err != nil {
		t.Fatal(err)
	}
	if len(claimed.Claimed) != 0 {
		t.Errorf("Concurrency(1) with one running: claimed %v, want none", ids(claimed.Claimed))
	}
}
