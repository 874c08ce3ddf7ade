package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// testPauseQueue: a paused queue, paused before or after its declaration,
// starts nothing for any store until it is resumed; a declaration keeps
// the flag; pausing an undeclared queue stores it without counting as a
// declaration.
func testPauseQueue(t *testing.T, open Opener) {
	ctx := testContext(t)
	s, other := open(t), open(t)
	queue := unique("q")

	// Paused before anyone declared it or enqueued to it.
	if was, declared, err := other.SetQueuePaused(ctx, queue, true); err != nil || was || declared {
		t.Fatalf("pause an unknown queue = was %v, declared %v, %v; want false, false, nil", was, declared, err)
	}
	ws := enqueueN(t, ctx, s, queue, 3)
	res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
	if len(res.Claimed) != 0 || !res.Paused || !res.RetryAt.IsZero() || res.Config != (store.QueueConfig{Name: queue}) {
		t.Fatalf("claim of a paused queue: %v, paused %v, RetryAt %v, %+v; want nothing, paused, no RetryAt, no limits", ids(res.Claimed), res.Paused, res.RetryAt, res.Config)
	}
	inserted, res, err := s.InsertAndClaim(ctx, []store.InsertParams{{ID: unique("wf"), Name: "f", State: store.StateEnqueued, Queue: queue}}, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
	if err != nil || len(inserted) != 1 || !inserted[0].Created || len(res.Claimed) != 0 || !res.Paused {
		t.Fatalf("InsertAndClaim on a paused queue = %+v, claimed %v, paused %v, %v; want inserted, nothing claimed, paused", inserted, ids(res.Claimed), res.Paused, err)
	}
	ws = append(ws, inserted[0].Workflow)

	// A declaration finds none before it, and keeps the flag.
	if prev, existed := declare(t, ctx, s, store.QueueConfig{Name: queue, Concurrency: 2}); existed || prev != (store.QueueConfig{}) {
		t.Errorf("declaring a queue paused before any declaration: previous %+v, existed %v; want none", prev, existed)
	}
	res = claim(t, ctx, other, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
	if len(res.Claimed) != 0 || !res.Paused || res.Config.Concurrency != 2 {
		t.Fatalf("claim of a paused queue after its declaration: %v, paused %v, %+v; want nothing, paused, Concurrency 2", ids(res.Claimed), res.Paused, res.Config)
	}
	if was, declared, err := s.SetQueuePaused(ctx, queue, true); err != nil || !was || !declared {
		t.Errorf("pause a paused queue = was %v, declared %v, %v; want true, true, nil", was, declared, err)
	}
	for _, w := range ws {
		if got := get(t, ctx, s, w.ID); got.State != store.StateEnqueued {
			t.Errorf("%s is %s on a paused queue, want ENQUEUED", w.ID, got.State)
		}
	}

	// Resumed by another store: the queue's limits apply again.
	if was, declared, err := other.SetQueuePaused(ctx, queue, false); err != nil || !was || !declared {
		t.Fatalf("resume = was %v, declared %v, %v; want true, true, nil", was, declared, err)
	}
	res = claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
	if !slices.Equal(ids(res.Claimed), ids(ws[:2])) || res.Paused {
		t.Fatalf("claim after resume: %v, paused %v; want %v", ids(res.Claimed), res.Paused, ids(ws[:2]))
	}

	// Paused after its declaration: a new declaration keeps the flag too.
	if was, _, err := s.SetQueuePaused(ctx, queue, true); err != nil || was {
		t.Fatalf("pause again = was %v, %v; want false", was, err)
	}
	if prev, existed := declare(t, ctx, other, store.QueueConfig{Name: queue}); !existed || prev.Concurrency != 2 {
		t.Errorf("redeclaring a paused queue: previous %+v, existed %v; want Concurrency 2, true", prev, existed)
	}
	if res := claim(t, ctx, other, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10}); len(res.Claimed) != 0 || !res.Paused {
		t.Fatalf("claim after a redeclaration of a paused queue: %v, paused %v; want nothing, paused", ids(res.Claimed), res.Paused)
	}
	if _, _, err := s.SetQueuePaused(ctx, queue, false); err != nil {
		t.Fatal(err)
	}
	if res := claim(t, ctx, other, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10}); !slices.Equal(ids(res.Claimed), ids(ws[2:])) {
		t.Fatalf("claim after the second resume: %v, want %v", ids(res.Claimed), ids(ws[2:]))
	}

	// Resuming an unknown queue stores nothing.
	unknown := unique("q")
	if was, declared, err := s.SetQueuePaused(ctx, unknown, false); err != nil || was || declared {
		t.Errorf("resume an unknown queue = was %v, declared %v, %v; want false, false, nil", was, declared, err)
	}
	if _, existed := declare(t, ctx, s, store.QueueConfig{Name: unknown}); existed {
		t.Errorf("resuming an unknown queue stored a declaration")
	}
	if _, _, err := s.SetQueuePaused(ctx, "", true); err == nil {
		t.Errorf("pausing the queue \"\" succeeded")
	}
}

// testPauseEveryClaimPath: whatever the queue's limits, a paused queue's
// claims take nothing, also those that record outcomes and those of a
// store that has not claimed from the queue before; resumed, they take
// what the limits allow.
func testPauseEveryClaimPath(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		cfg  store.QueueConfig
	}{
		{"Unlimited", store.QueueConfig{}},
		{"Concurrency", store.QueueConfig{Concurrency: 3}},
		{"WorkerConcurrency", store.QueueConfig{WorkerConcurrency: 3}},
		{"RateLimit", store.QueueConfig{RateLimit: 5, RatePeriod: time.Minute}},
		{"PartitionConcurrency", store.QueueConfig{PartitionConcurrency: 3}},
		{"PartitionRateLimit", store.QueueConfig{PartitionRateLimit: 5, PartitionRatePeriod: time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			s := open(t)
			queue := unique("q")
			cfg := tc.cfg
			cfg.Name = queue
			declare(t, ctx, s, cfg)
			first := claimOne(t, ctx, s, queue, "e") // routes s's claims of the queue
			ws := enqueueN(t, ctx, s, queue, 2)
			if _, _, err := s.SetQueuePaused(ctx, queue, true); err != nil {
				t.Fatal(err)
			}
			delayed := enqueue(t, ctx, s, store.InsertParams{Queue: queue, Delay: 50 * time.Millisecond})
			for _, c := range []store.Store{s, open(t)} {
				res := claim(t, ctx, c, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
				if len(res.Claimed) != 0 || !res.Paused || !res.RetryAt.IsZero() {
					t.Fatalf("claim: %v, paused %v, RetryAt %v; want nothing, paused, no RetryAt", ids(res.Claimed), res.Paused, res.RetryAt)
				}
				_, res, err := c.InsertAndClaim(ctx, nil, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
				if err != nil || len(res.Claimed) != 0 || !res.Paused {
					t.Fatalf("InsertAndClaim: %v, paused %v, %v; want nothing, paused", ids(res.Claimed), res.Paused, err)
				}
			}
			res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10, Complete: []store.CompleteParams{
				{ID: first.ID, ExecutorID: first.ExecutorID, Attempts: first.Attempts, State: store.StateSuccess},
			}})
			if len(res.Claimed) != 0 || !res.Paused || !slices.Equal(res.Completed, []bool{true}) {
				t.Fatalf("claim recording an outcome: %v, paused %v, completed %v; want nothing, paused, [true]", ids(res.Claimed), res.Paused, res.Completed)
			}
			time.Sleep(60 * time.Millisecond) // the delayed one is ready
			if _, _, err := open(t).SetQueuePaused(ctx, queue, false); err != nil {
				t.Fatal(err)
			}
			res = claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
			want := append(ids(ws), delayed.ID)
			if !slices.Equal(ids(res.Claimed), want) || res.Paused {
				t.Fatalf("claim after resume: %v, paused %v; want %v", ids(res.Claimed), res.Paused, want)
			}
		})
	}
}

// testListQueues: ListQueues shows a declared queue with its limits and
// counts, a queue only enqueued to (no declaration, no limits), and a
// paused one; counts follow claims and completions.
func testListQueues(t *testing.T, open Opener) {
	ctx := testContext(t)
	s, other := open(t), open(t)
	declared, undeclared, paused := unique("q"), unique("q"), unique("q")
	declare(t, ctx, s, store.QueueConfig{Name: declared, Concurrency: 5, RateLimit: 10, RatePeriod: time.Minute})
	enqueueN(t, ctx, s, declared, 4)
	enqueueN(t, ctx, s, undeclared, 2)
	if _, _, err := s.SetQueuePaused(ctx, paused, true); err != nil {
		t.Fatal(err)
	}
	res := claim(t, ctx, s, store.ClaimParams{Queue: declared, ExecutorID: "e", Max: 3})
	if len(res.Claimed) != 3 {
		t.Fatalf("claimed %d, want 3", len(res.Claimed))
	}
	complete(t, ctx, s, res.Claimed[0])

	qs, err := other.ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.QueueInfo{}
	for i, q := range qs {
		got[q.Name] = q
		if i > 0 && qs[i-1].Name >= q.Name {
			t.Errorf("ListQueues not ordered by name: %q before %q", qs[i-1].Name, q.Name)
		}
	}
	d := got[declared]
	want := store.QueueConfig{Name: declared, Concurrency: 5, RateLimit: 10, RatePeriod: time.Minute}
	if d.QueueConfig != want || d.Paused || d.DeclaredBy == "" || !near(d.DeclaredAt, time.Now()) ||
		d.Enqueued != 1 || d.Running != 2 || d.StartedLastMinute != 3 || d.StartedInRatePeriod != 3 {
		t.Errorf("declared queue = %+v; want %+v, declared now, 1 enqueued, 2 running, 3 started in the last minute and in the rate period", d, want)
	}
	u := got[undeclared]
	if u.QueueConfig != (store.QueueConfig{Name: undeclared}) || u.DeclaredBy != "" || !u.DeclaredAt.IsZero() || u.Enqueued != 2 || u.Running != 0 || u.StartedInRatePeriod != 0 {
		t.Errorf("queue only enqueued to = %+v; want no limits, no declaration, 2 enqueued", u)
	}
	if p := got[paused]; p.Name != paused || !p.Paused || p.DeclaredBy != "" || p.Enqueued != 0 {
		t.Errorf("paused queue = %+v; want paused, undeclared, empty", p)
	}
}
