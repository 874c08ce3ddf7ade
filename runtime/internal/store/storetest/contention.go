package storetest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/overlap"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// worker is one simulated dispatcher: it claims from a queue with the given
// limits and completes what it claimed after hold, until done reaches total.
type worker struct {
	s        store.Store
	params   store.ClaimParams
	hold     time.Duration
	onClaim  func(store.Workflow) // called after a claim, before the completion
	onFinish func(store.Workflow) // called just before Complete
}

// contention runs workers until total workflows have completed, waking idle
// workers on completions and at RetryAt, and returns every workflow of queue
// as finally stored.
func contention(t *testing.T, ctx context.Context, workers []worker, total int, ws []store.Workflow) []store.Workflow {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var (
		done    atomic.Int64
		wake    = newSignal()
		wg      sync.WaitGroup
		errOnce sync.Once
		failed  error
	)
	fail := func(err error) {
		errOnce.Do(func() { failed = err; cancel() })
	}
	for _, w := range workers {
		wg.Go(func() {
			for done.Load() < int64(total) && ctx.Err() == nil {
				woken := wake.wait()
				res, err := w.s.Claim(ctx, w.params)
				if err != nil {
					fail(err)
					return
				}
				if len(res.Claimed) > w.params.Max {
					fail(fmt.Errorf("claimed %d rows with Max %d", len(res.Claimed), w.params.Max))
					return
				}
				for _, c := range res.Claimed {
					if w.onClaim != nil {
						w.onClaim(c)
					}
				}
				if len(res.Claimed) == 0 {
					// Idle: wait for a completion, RetryAt, or a short
					// fallback poll (a claim racing a completion).
					timeout := 50 * time.Millisecond
					if !res.RetryAt.IsZero() {
						timeout = min(max(time.Until(res.RetryAt), 0), time.Second)
					}
					select {
					case <-woken:
					case <-time.After(timeout):
					case <-ctx.Done():
					}
					continue
				}
				time.Sleep(w.hold)
				for _, c := range res.Claimed {
					if w.onFinish != nil {
						w.onFinish(c)
					}
					ok, err := CompleteOne(ctx, w.s, store.CompleteParams{ID: c.ID, ExecutorID: c.ExecutorID, Attempts: c.Attempts, State: store.StateSuccess})
					if err != nil {
						fail(err)
						return
					}
					if !ok {
						fail(fmt.Errorf("Complete(%s) by its owner = false", c.ID))
						return
					}
					done.Add(1)
				}
				wake.notify()
			}
		})
	}
	wg.Wait()
	if failed != nil {
		t.Fatalf("worker: %v", failed)
	}
	if ctx.Err() != nil {
		t.Fatalf("only %d of %d workflows completed in time", done.Load(), total)
	}
	out := make([]store.Workflow, len(ws))
	for i, w := range ws {
		out[i] = get(t, ctx, workers[0].s, w.ID)
		if out[i].State != store.StateSuccess || out[i].Attempts != 1 {
			t.Errorf("%s: state %s after %d attempts, want SUCCESS after exactly 1 claim", w.ID, out[i].State, out[i].Attempts)
		}
	}
	return out
}

// MaxRunning returns the most workflows that ran at once according to the
// database's own records: each workflow ran over [StartedAt, CompletedAt).
// Cross-process tests use it to check a concurrency limit after the fact.
func MaxRunning(ws []store.Workflow) int {
	ivs := make([]overlap.Interval, len(ws))
	for i, w := range ws {
		end := int64(math.MaxInt64) // still running
		if !w.CompletedAt.IsZero() {
			end = w.CompletedAt.UnixNano()
		}
		ivs[i] = overlap.Interval{Start: w.StartedAt.UnixNano(), End: end}
	}
	most, _ := overlap.Max(ivs, math.MaxInt)
	return most
}

// MaxStarts returns the most workflows started within one rate window: the
// largest number of StartedAt values in any interval (s-period, s].
// Workflows never started are ignored. Cross-process tests use it to check a
// rate limit after the fact.
func MaxStarts(ws []store.Workflow, period time.Duration) int {
	var starts []time.Time
	for _, w := range ws {
		if !w.StartedAt.IsZero() {
			starts = append(starts, w.StartedAt)
		}
	}
	slices.SortFunc(starts, time.Time.Compare)
	most, lo := 0, 0
	for hi, s := range starts {
		for !starts[lo].After(s.Add(-period)) {
			lo++
		}
		most = max(most, hi-lo+1)
	}
	return most
}

// gauge tracks how many workflows a test holds at once.
type gauge struct {
	mu        sync.Mutex
	now, most map[string]int
}

func newGauge() *gauge { return &gauge{now: map[string]int{}, most: map[string]int{}} }

func (g *gauge) add(key string, d int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now[key] += d
	g.most[key] = max(g.most[key], g.now[key])
}

func testConcurrentUnlimitedClaims(t *testing.T, open Opener) {
	ctx := testContext(t)
	stores := []store.Store{open(t), open(t)}
	queue := unique("q")
	ws := enqueueN(t, ctx, stores[0], queue, 60)
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	var workers []worker
	for i := range 8 {
		workers = append(workers, worker{
			s:      stores[i%2],
			params: store.ClaimParams{Queue: queue, ExecutorID: fmt.Sprintf("exec-%d", i), Max: 4},
			onClaim: func(w store.Workflow) {
				mu.Lock()
				seen[w.ID]++
				mu.Unlock()
			},
		})
	}
	contention(t, ctx, workers, len(ws), ws)
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
}

func testConcurrencyUnderContention(t *testing.T, open Opener) {
	ctx := testContext(t)
	stores := []store.Store{open(t), open(t)}
	queue := unique("q")
	ws := enqueueN(t, ctx, stores[0], queue, 30)
	declare(t, ctx, stores[1], store.QueueConfig{Name: queue, Concurrency: 3})
	g := newGauge()
	var workers []worker
	for i := range 8 {
		workers = append(workers, worker{
			s:        stores[i%2],
			params:   store.ClaimParams{Queue: queue, ExecutorID: fmt.Sprintf("exec-%d", i), Max: 2},
			hold:     3 * time.Millisecond,
			onClaim:  func(store.Workflow) { g.add("", +1) },
			onFinish: func(store.Workflow) { g.add("", -1) },
		})
	}
	final := contention(t, ctx, workers, len(ws), ws)
	if g.most[""] > 3 {
		t.Errorf("%d workflows held at once with Concurrency 3", g.most[""])
	}
	if n := MaxRunning(final); n > 3 {
		t.Errorf("the database's start and completion times show %d workflows running at once with Concurrency 3", n)
	}
}

func testWorkerConcurrencyUnderContention(t *testing.T, open Opener) {
	ctx := testContext(t)
	stores := []store.Store{open(t), open(t)}
	queue := unique("q")
	ws := enqueueN(t, ctx, stores[0], queue, 30)
	declare(t, ctx, stores[1], store.QueueConfig{Name: queue, WorkerConcurrency: 2})
	g := newGauge()
	var workers []worker
	for i := range 8 {
		exec := fmt.Sprintf("exec-%d", i%2) // two executors, four claimers each
		workers = append(workers, worker{
			s:        stores[i%2],
			params:   store.ClaimParams{Queue: queue, ExecutorID: exec, Max: 3},
			hold:     3 * time.Millisecond,
			onClaim:  func(store.Workflow) { g.add(exec, +1) },
			onFinish: func(store.Workflow) { g.add(exec, -1) },
		})
	}
	final := contention(t, ctx, workers, len(ws), ws)
	for exec, most := range g.most {
		if most > 2 {
			t.Errorf("%s held %d workflows at once with WorkerConcurrency 2", exec, most)
		}
	}
	byExec := map[string][]store.Workflow{}
	for _, w := range final {
		byExec[w.ExecutorID] = append(byExec[w.ExecutorID], w)
	}
	for exec, ws := range byExec {
		if n := MaxRunning(ws); n > 2 {
			t.Errorf("the database's times show %s running %d workflows at once with WorkerConcurrency 2", exec, n)
		}
	}
}

func testStrictOrder(t *testing.T, open Opener) {
	ctx := testContext(t)
	stores := []store.Store{open(t), open(t)}
	queue := unique("q")
	var ws []store.Workflow
	for i := range 12 {
		ws = append(ws, enqueue(t, ctx, stores[i%2], store.InsertParams{Queue: queue, Priority: []int{2, 0, 1}[i%3]}))
	}
	want := slices.Clone(ws)
	slices.SortStableFunc(want, func(a, b store.Workflow) int { return a.Priority - b.Priority })
	declare(t, ctx, stores[1], store.QueueConfig{Name: queue, Concurrency: 1})
	var (
		mu    sync.Mutex
		order []string
	)
	var workers []worker
	for i := range 6 {
		workers = append(workers, worker{
			s:      stores[i%2],
			params: store.ClaimParams{Queue: queue, ExecutorID: fmt.Sprintf("exec-%d", i), Max: 3},
			hold:   time.Millisecond,
			onClaim: func(w store.Workflow) {
				mu.Lock()
				order = append(order, w.ID)
				mu.Unlock()
			},
		})
	}
	final := contention(t, ctx, workers, len(ws), ws)
	if !slices.Equal(order, ids(want)) {
		t.Errorf("Concurrency 1 ran %v, want strictly %v", order, ids(want))
	}
	if n := MaxRunning(final); n > 1 {
		t.Errorf("the database's times show %d workflows running at once with Concurrency 1", n)
	}
}

func testRateLimitUnderContention(t *testing.T, open Opener) {
	ctx := testContext(t)
	stores := []store.Store{open(t), open(t)}
	queue := unique("q")
	const (
		limit  = 5
		period = 400 * time.Millisecond
		total  = 13 // three windows: about 0.8 s
	)
	ws := enqueueN(t, ctx, stores[0], queue, total)
	declare(t, ctx, stores[1], store.QueueConfig{Name: queue, RateLimit: limit, RatePeriod: period})
	var workers []worker
	for i := range 6 {
		workers = append(workers, worker{
			s:      stores[i%2],
			params: store.ClaimParams{Queue: queue, ExecutorID: fmt.Sprintf("exec-%d", i), Max: 2},
		})
	}
	final := contention(t, ctx, workers, total, ws)
	if n := MaxStarts(final, period); n > limit {
		t.Errorf("the database's start times show %d starts within %v, RateLimit %d", n, period, limit)
	}
}
