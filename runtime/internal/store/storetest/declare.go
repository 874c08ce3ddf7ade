package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

func testDeclareQueue(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue := unique("q")
	first := store.QueueConfig{Name: queue, Concurrency: 4, WorkerConcurrency: 2, RateLimit: 10, RatePeriod: 1500 * time.Microsecond}
	prev, existed := declare(t, ctx, s, first)
	if existed || prev != (store.QueueConfig{}) {
		t.Fatalf("first declaration: previous %+v, existed %v; want none", prev, existed)
	}
	// Another process declares it differently: it learns what it replaced,
	// as stored (periods in whole milliseconds, rounded up).
	second := store.QueueConfig{Name: queue, PartitionConcurrency: 1, PartitionRateLimit: 3, PartitionRatePeriod: time.Minute}
	prev, existed, err := open(t).DeclareQueue(ctx, second, "other-executor")
	if err != nil {
		t.Fatal(err)
	}
	want := first
	want.RatePeriod = 2 * time.Millisecond
	if !existed || prev != want {
		t.Errorf("second declaration: previous %+v, existed %v; want %+v, true", prev, existed, want)
	}
	if want != first.Normalized() {
		t.Errorf("Normalized() = %+v, want what the store returned: %+v", first.Normalized(), want)
	}
	// Declaring it again unchanged replaces an equal declaration.
	if prev, existed := declare(t, ctx, s, second); !existed || prev != second {
		t.Errorf("repeated declaration: previous %+v, existed %v; want %+v, true", prev, existed, second)
	}
	// A period without its limit is not kept.
	third := store.QueueConfig{Name: queue, RatePeriod: time.Second}
	declare(t, ctx, s, third)
	if prev, _ := declare(t, ctx, s, store.QueueConfig{Name: queue}); prev != (store.QueueConfig{Name: queue}) {
		t.Errorf("stored %+v for %+v, want no limits", prev, third)
	}

	for _, bad := range []struct {
		c    store.QueueConfig
		exec string
	}{
		{store.QueueConfig{}, "e"},
		{store.QueueConfig{Name: queue}, ""},
		{store.QueueConfig{Name: queue, Concurrency: -1}, "e"},
		{store.QueueConfig{Name: queue, RateLimit: 1}, "e"},
		{store.QueueConfig{Name: queue, PartitionRateLimit: 1}, "e"},
		{store.QueueConfig{Name: queue, PartitionConcurrency: -2}, "e"},
	} {
		if _, _, err := s.DeclareQueue(ctx, bad.c, bad.exec); err == nil {
			t.Errorf("DeclareQueue(%+v, %q) succeeded, want an error", bad.c, bad.exec)
		}
	}
}

// testDeclareConcurrently declares one new queue from many stores at once:
// the declarations are serialized, so exactly one finds none, and every
// declaration but the last one stored is replaced exactly once.
func testDeclareConcurrently(t *testing.T, open Opener) {
	ctx := testContext(t)
	queue := unique("q")
	const n = 8
	stores := make([]store.Store, n)
	for i := range stores {
		stores[i] = open(t)
	}
	type outcome struct {
		prev    store.QueueConfig
		existed bool
	}
	outcomes := make([]outcome, n)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			prev, existed, err := s.DeclareQueue(ctx, store.QueueConfig{Name: queue, Concurrency: i + 1}, fmt.Sprintf("exec-%d", i))
			if err != nil {
				t.Errorf("DeclareQueue %d: %v", i, err)
			}
			outcomes[i] = outcome{prev, existed}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	final := claim(t, ctx, stores[0], store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 1}).Config
	var replaced []int
	firsts := 0
	for _, o := range outcomes {
		if !o.existed {
			firsts++
			continue
		}
		replaced = append(replaced, o.prev.Concurrency)
	}
	replaced = append(replaced, final.Concurrency)
	slices.Sort(replaced)
	if firsts != 1 || !slices.Equal(replaced, []int{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Errorf("%d declarations found none (want 1); replaced declarations plus the final one: %v, want each of 1..8 once", firsts, replaced)
	}
}

// testClaimFollowsDeclaration checks that claims apply the limits stored in
// the database, whoever declared them, and report them.
func testClaimFollowsDeclaration(t *testing.T, open Opener) {
	ctx := testContext(t)
	s, other := open(t), open(t)
	queue := unique("q")
	ws := enqueueN(t, ctx, s, queue, 8)

	// Undeclared: no limits.
	res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 1})
	if !slices.Equal(ids(res.Claimed), ids(ws[:1])) || res.Config != (store.QueueConfig{Name: queue}) {
		t.Fatalf("undeclared queue: claimed %v with %+v; want %v with no limits", ids(res.Claimed), res.Config, ids(ws[:1]))
	}

	// Another process declares Concurrency 2: one more runs, here too.
	c2 := store.QueueConfig{Name: queue, Concurrency: 2}
	declare(t, ctx, other, c2)
	res = claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
	if !slices.Equal(ids(res.Claimed), ids(ws[1:2])) || res.Config != c2 {
		t.Fatalf("after Concurrency 2: claimed %v with %+v; want %v with %+v", ids(res.Claimed), res.Config, ids(ws[1:2]), c2)
	}
	res = claim(t, ctx, other, store.ClaimParams{Queue: queue, ExecutorID: "e2", Max: 10})
	if len(res.Claimed) != 0 || res.Config != c2 {
		t.Fatalf("with 2 running under Concurrency 2: claimed %v with %+v; want none with %+v", ids(res.Claimed), res.Config, c2)
	}

	// Lowered to 1 with 2 running: nothing until both finish.
	complete(t, ctx, s, get(t, ctx, s, ws[0].ID))
	c1 := store.QueueConfig{Name: queue, Concurrency: 1}
	declare(t, ctx, other, c1)
	if res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10}); len(res.Claimed) != 0 || res.Config != c1 {
		t.Fatalf("with 1 running under Concurrency 1: claimed %v with %+v; want none with %+v", ids(res.Claimed), res.Config, c1)
	}
	complete(t, ctx, s, get(t, ctx, s, ws[1].ID))
	res = claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
	if !slices.Equal(ids(res.Claimed), ids(ws[2:3])) {
		t.Fatalf("Concurrency 1, Max 10: claimed %v, want %v", ids(res.Claimed), ids(ws[2:3]))
	}

	// Raised to 3: two more.
	c3 := store.QueueConfig{Name: queue, Concurrency: 3}
	declare(t, ctx, s, c3)
	res = claim(t, ctx, other, store.ClaimParams{Queue: queue, ExecutorID: "e2", Max: 10})
	if !slices.Equal(ids(res.Claimed), ids(ws[3:5])) || res.Config != c3 {
		t.Fatalf("after Concurrency 3: claimed %v with %+v; want %v with %+v", ids(res.Claimed), res.Config, ids(ws[3:5]), c3)
	}

	// The limits removed: the rest, at once.
	declare(t, ctx, other, store.QueueConfig{Name: queue})
	res = claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
	if !slices.Equal(ids(res.Claimed), ids(ws[5:])) || res.Config != (store.QueueConfig{Name: queue}) {
		t.Fatalf("after removing the limits: claimed %v with %+v; want %v with no limits", ids(res.Claimed), res.Config, ids(ws[5:]))
	}

	// WorkerConcurrency declared elsewhere applies to this executor.
	more := enqueueN(t, ctx, s, queue, 3)
	cw := store.QueueConfig{Name: queue, WorkerConcurrency: 4}
	declare(t, ctx, other, cw)
	res = claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "w", Max: 10})
	if !slices.Equal(ids(res.Claimed), ids(more)) || res.Config != cw {
		t.Fatalf("WorkerConcurrency 4, a new executor: claimed %v with %+v; want %v with %+v", ids(res.Claimed), res.Config, ids(more), cw)
	}
	if res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "w", Max: 10}); res.Config != cw {
		t.Fatalf("claim reported %+v, want %+v", res.Config, cw)
	}
}
