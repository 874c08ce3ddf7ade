package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

func testPartitionConcurrency(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue := unique("q")
	a1 := enqueue(t, ctx, s, store.InsertParams{Queue: queue, PartitionKey: "A"})
	a2 := enqueue(t, ctx, s, store.InsertParams{Queue: queue, PartitionKey: "A"})
	b1 := enqueue(t, ctx, s, store.InsertParams{Queue: queue, PartitionKey: "B"})
	n1 := enqueue(t, ctx, s, store.InsertParams{Queue: queue}) // partition ""
	n2 := enqueue(t, ctx, s, store.InsertParams{Queue: queue})
	declare(t, ctx, s, store.QueueConfig{Name: queue, PartitionConcurrency: 1})
	p := store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10}
	res := claim(t, ctx, s, p)
	if want := []string{a1.ID, b1.ID, n1.ID}; !slices.Equal(ids(res.Claimed), want) {
		t.Fatalf("PartitionConcurrency 1: claimed %v, want one per partition %v", ids(res.Claimed), want)
	}
	res = claim(t, ctx, s, p)
	if len(res.Claimed) != 0 || !res.RetryAt.IsZero() {
		t.Fatalf("claimed %v (RetryAt %v) with every partition full, want none and zero (a completion frees a slot)", ids(res.Claimed), res.RetryAt)
	}
	complete(t, ctx, s, get(t, ctx, s, a1.ID))
	res = claim(t, ctx, s, p)
	if want := []string{a2.ID}; !slices.Equal(ids(res.Claimed), want) {
		t.Fatalf("after A's completion claimed %v, want %v", ids(res.Claimed), want)
	}
	// The queue's own limits still apply on top.
	complete(t, ctx, s, get(t, ctx, s, n1.ID))
	declare(t, ctx, s, store.QueueConfig{Name: queue, PartitionConcurrency: 1, Concurrency: 3}) // a2 and b1 run
	res = claim(t, ctx, s, p)
	if want := []string{n2.ID}; !slices.Equal(ids(res.Claimed), want) {
		t.Fatalf("claimed %v, want %v", ids(res.Claimed), want)
	}
}

func testPartitionRateLimit(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue := unique("q")
	a1 := enqueue(t, ctx, s, store.InsertParams{Queue: queue, PartitionKey: "A"})
	enqueue(t, ctx, s, store.InsertParams{Queue: queue, PartitionKey: "A"})
	b1 := enqueue(t, ctx, s, store.InsertParams{Queue: queue, PartitionKey: "B"})
	declare(t, ctx, s, store.QueueConfig{Name: queue, PartitionRateLimit: 1, PartitionRatePeriod: time.Hour})
	p := store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10}
	res := claim(t, ctx, s, p)
	if want := []string{a1.ID, b1.ID}; !slices.Equal(ids(res.Claimed), want) {
		t.Fatalf("PartitionRateLimit 1: claimed %v, want %v", ids(res.Claimed), want)
	}
	start := res.Claimed[0].StartedAt
	if !res.RetryAt.Equal(start.Add(time.Hour)) {
		t.Errorf("RetryAt = %v, want A's window to free a slot at %v", res.RetryAt, start.Add(time.Hour))
	}
	for _, w := range res.Claimed {
		complete(t, ctx, s, w)
	}
	res = claim(t, ctx, s, p)
	if len(res.Claimed) != 0 || !res.RetryAt.Equal(start.Add(time.Hour)) {
		t.Errorf("claimed %v (RetryAt %v) within A's window, want none and %v", ids(res.Claimed), res.RetryAt, start.Add(time.Hour))
	}
}

func testPartitionsUnderContention(t *testing.T, open Opener) {
	ctx := testContext(t)
	stores := []store.Store{open(t), open(t)}
	queue := unique("q")
	keys := []string{"A", "B", "C"}
	var ws []store.Workflow
	for i := range 18 {
		ws = append(ws, enqueue(t, ctx, stores[i%2], store.InsertParams{Queue: queue, PartitionKey: keys[i%3]}))
	}
	declare(t, ctx, stores[1], store.QueueConfig{Name: queue, PartitionConcurrency: 1})
	var (
		mu    sync.Mutex
		order = map[string][]string{}
	)
	g := newGauge()
	var workers []worker
	for i := range 6 {
		workers = append(workers, worker{
			s:      stores[i%2],
			params: store.ClaimParams{Queue: queue, ExecutorID: fmt.Sprintf("exec-%d", i), Max: 3},
			hold:   2 * time.Millisecond,
			onClaim: func(w store.Workflow) {
				g.add(w.PartitionKey, +1)
				mu.Lock()
				order[w.PartitionKey] = append(order[w.PartitionKey], w.ID)
				mu.Unlock()
			},
			onFinish: func(w store.Workflow) { g.add(w.PartitionKey, -1) },
		})
	}
	final := contention(t, ctx, workers, len(ws), ws)
	byKey := map[string][]store.Workflow{}
	for _, w := range final {
		byKey[w.PartitionKey] = append(byKey[w.PartitionKey], w)
	}
	for key, kws := range byKey {
		if g.most[key] > 1 {
			t.Errorf("partition %s: %d held at once with PartitionConcurrency 1", key, g.most[key])
		}
		if n := MaxRunning(kws); n > 1 {
			t.Errorf("partition %s: the database's times show %d running at once with PartitionConcurrency 1", key, n)
		}
		if !slices.Equal(order[key], ids(kws)) {
			t.Errorf("partition %s ran %v, want FIFO %v", key, order[key], ids(kws))
		}
	}
	if n := MaxRunning(final); n < 2 {
		t.Logf("partitions never overlapped (at most %d running): the test ran too slowly to show parallelism", n)
	}
}
