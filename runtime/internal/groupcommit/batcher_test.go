package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// TestBatcherGathersConcurrentRequests: while one call is in flight the
// requests that arrive gather into the next; every caller gets its own
// result; no call is larger than max or holds one key twice.
func TestBatcherGathersConcurrentRequests(t *testing.T) {
	var (
		mu     sync.Mutex
		sizes  []int
		inCall atomic.Int32
	)
	release := make(chan struct{})
	first := true
	b := &Batcher[int, string]{
		Call: func(in []int) ([]string, error) {
			if inCall.Add(1) != 1 {
				t.Error("two calls in flight at once")
			}
			defer inCall.Add(-1)
			mu.Lock()
			sizes = append(sizes, len(in))
			wait := first
			first = false
			mu.Unlock()
			if wait {
				<-release // hold the first call while the others arrive
			}
			seen := map[int]bool{}
			out := make([]string, len(in))
			for i, v := range in {
				if seen[v%10] {
					t.Errorf("key %d twice in one call %v", v%10, in)
				}
				seen[v%10] = true
				out[i] = fmt.Sprint("r", v)
			}
			return out, nil
		},
		Key: func(v int) string { return fmt.Sprint(v % 10) },
		Max: 8,
	}
	const n = 40
	var wg sync.WaitGroup
	results := make([]string, n)
	wg.Go(func() { results[0], _ = b.Do(context.Background(), 0) })
	testdb.WaitFor(t, "the first call to start", b.leadingNow)
	for i := 1; i < n; i++ {
		wg.Go(func() {
			r, err := b.Do(context.Background(), i)
			if err != nil {
				t.Errorf("do(%d): %v", i, err)
			}
			results[i] = r
		})
	}
	testdb.WaitFor(t, "the other requests to wait", func() bool { return b.waiting() >= n-1 })
	close(release)
	wg.Wait()
	for i, r := range results {
		if r != fmt.Sprint("r", i) {
			t.Errorf("result %d = %q", i, r)
		}
	}
	// 1 alone, then 39 in calls of at most 8 (and at most one of each key).
	if sizes[0] != 1 || len(sizes) < 1+5 || slices.Max(sizes) > 8 {
		t.Errorf("call sizes %v, want [1] then calls of up to 8", sizes)
	}
	if b.leadingNow() || b.waiting() != 0 {
		t.Error("the batcher is not idle after every call returned")
	}
}

// TestBatcherParallelCalls: with par 2, a second call starts while the
// first is in flight, never a third; the requests that arrive meanwhile
// gather into the next calls; a request its key kept out of a batch is led
// by its own caller even when a newer caller finds a free slot.
func TestBatcherParallelCalls(t *testing.T) {
	var (
		mu        sync.Mutex
		calls     [][]int
		inCall    atomic.Int32
		maxInCall atomic.Int32
	)
	release := make(chan struct{})
	b := &Batcher[int, string]{
		Call: func(in []int) ([]string, error) {
			n := inCall.Add(1)
			defer inCall.Add(-1)
			for {
				m := maxInCall.Load()
				if n <= m || maxInCall.CompareAndSwap(m, n) {
					break
				}
			}
			mu.Lock()
			calls = append(calls, slices.Clone(in))
			held := len(calls) <= 2
			mu.Unlock()
			if held {
				<-release // hold the first two calls while the others arrive
			}
			out := make([]string, len(in))
			for i, v := range in {
				out[i] = fmt.Sprint("r", v)
			}
			return out, nil
		},
		Key: func(v int) string { return fmt.Sprint(v % 10) },
		Max: 8,
		Par: 2,
	}
	const n = 30
	var wg sync.WaitGroup
	results := make([]string, n)
	do := func(i int) {
		wg.Go(func() {
			r, err := b.Do(context.Background(), i)
			if err != nil {
				t.Errorf("do(%d): %v", i, err)
			}
			results[i] = r
		})
	}
	do(0)
	testdb.WaitFor(t, "a call in flight", func() bool { return b.inFlightNow() >= 1 })
	// A second call starts only for a full batch: the requests gather
	// behind the first until 8 wait.
	for i := 1; i < n; i++ {
		do(i)
	}
	testdb.WaitFor(t, "two calls in flight and every request taken or waiting", func() bool {
		return b.inFlightNow() >= 2 && b.waiting()+len(calls2(&mu, &calls)) >= n
	})
	close(release)
	wg.Wait()
	for i, r := range results {
		if r != fmt.Sprint("r", i) {
			t.Errorf("result %d = %q", i, r)
		}
	}
	if m := maxInCall.Load(); m != 2 {
		t.Errorf("at most %d calls in flight at once, want 2", m)
	}
	if len(calls[0]) != 1 || len(calls[1]) < 2 {
		t.Errorf("first calls %v, want one request, then a batch", calls[:2])
	}
	for _, c := range calls {
		if len(c) > 8 {
			t.Errorf("call %v holds more than 8 requests", c)
		}
	}
	if b.inFlightNow() != 0 || b.waiting() != 0 {
		t.Error("the batcher is not idle after every call returned")
	}

	// A request kept out of a batch by its key (3, like 13) waits while a
	// slot is free; a newer caller (4) finding the slot hands the lead to
	// it, and both are called.
	b = &Batcher[int, string]{
		Call: func(in []int) ([]string, error) {
			out := make([]string, len(in))
			for i, v := range in {
				out[i] = fmt.Sprint("r", v)
			}
			return out, nil
		},
		Key: func(v int) string { return fmt.Sprint(v % 10) },
		Max: 8,
		Par: 2,
	}
	held := &request[int, string]{in: 3, wake: make(chan []*request[int, string], 1)}
	b.pending = append(b.pending, held)
	b.inFlight = 0
	got := make(chan string, 1)
	go func() {
		r, _ := b.Do(context.Background(), 4)
		got <- r
	}()
	var batch []*request[int, string]
	select {
	case batch = <-held.wake:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting request was never handed the lead")
	}
	if len(batch) != 2 || batch[0] != held || batch[1].in != 4 {
		t.Fatalf("the waiting request was handed %v, want a batch it leads, with 4", batch)
	}
	b.run(batch)
	b.handOff()
	if r := <-got; r != "r4" || held.out != "r3" {
		t.Errorf("results %q and %q, want r3 and r4", held.out, r)
	}
	if b.inFlightNow() != 0 || b.waiting() != 0 {
		t.Error("the batcher is not idle after the calls")
	}
}

// TestBatcherErrorsAndGivingUp: a failed call fails each of its requests;
// a caller whose context ends while it waits gives up without being called.
func TestBatcherErrorsAndGivingUp(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	boom := errors.New("boom")
	b := &Batcher[int, int]{
		Call: func(in []int) ([]int, error) {
			calls.Add(1)
			if in[0] == 0 {
				<-release
				return nil, boom
			}
			return in, nil
		},
		Max: 10,
	}
	done := make(chan error, 1)
	go func() {
		_, err := b.Do(context.Background(), 0)
		done <- err
	}()
	testdb.WaitFor(t, "the first call to start", b.leadingNow)
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := b.Do(ctx, 1)
		gaveUp <- err
	}()
	testdb.WaitFor(t, "a request to wait", func() bool { return b.waiting() >= 1 })
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("a waiting caller whose context ended got %v, want context.Canceled", err)
	}
	close(release)
	if err := <-done; !errors.Is(err, boom) {
		t.Errorf("the failed call's caller got %v, want boom", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls, want 1: the caller who gave up must not be called", n)
	}
	if got, err := b.Do(context.Background(), 5); got != 5 || err != nil {
		t.Errorf("after an error: do(5) = %v, %v", got, err)
	}
	if _, err := b.Do(ctx, 6); !errors.Is(err, context.Canceled) {
		t.Errorf("do with an ended context = %v, want context.Canceled", err)
	}
}

func (b *Batcher[T, R]) leadingNow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inFlight > 0
}

// TestBatcherSpill: with Spill set, a second call starts as soon as that
// many requests wait behind the one in flight, a partial batch, and no
// more than Par calls run at once.
func TestBatcherSpill(t *testing.T) {
	release := make(chan struct{})
	var (
		mu    sync.Mutex
		calls [][]int
	)
	b := &Batcher[int, int]{
		Call: func(in []int) ([]int, error) {
			recordCall(&mu, &calls, release, in)
			return in, nil
		},
		Max:   8,
		Par:   2,
		Spill: 3,
	}
	var wg sync.WaitGroup
	do := func(i int) {
		wg.Go(func() {
			if r, err := b.Do(context.Background(), i); err != nil || r != i {
				t.Errorf("do(%d) = %d, %v", i, r, err)
			}
		})
	}
	do(0)
	testdb.WaitFor(t, "the first call in flight", func() bool { return b.inFlightNow() == 1 })
	for i := 1; i <= 3; i++ {
		do(i)
	}
	testdb.WaitFor(t, "a second call for the 3 waiting requests", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(calls) == 2
	})
	close(release)
	wg.Wait()
	if got := calls[1]; len(got) != 3 {
		t.Errorf("second call %v, want the 3 requests that waited", got)
	}
}

func (b *Batcher[T, R]) inFlightNow() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inFlight
}

func (b *Batcher[T, R]) waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

// calls2 returns the requests of the first two calls, with mu held.
func calls2(mu *sync.Mutex, calls *[][]int) []int {
	mu.Lock()
	defer mu.Unlock()
	var in []int
	for _, c := range (*calls)[:min(2, len(*calls))] {
		in = append(in, c...)
	}
	return in
}

// TestBatcherGo: a request made with Go returns before its call is made
// when another is in flight, and its done gets its own result once the
// call that took it ends; requests of Go and of Do share calls, the call
// of a batch led by a Go request is made by the goroutine that ended the
// call before it, and errors reach done.
func TestBatcherGo(t *testing.T) {
	release := make(chan struct{})
	var (
		mu    sync.Mutex
		calls [][]int
	)
	boom := errors.New("boom")
	b := &Batcher[int, int]{
		Call: func(in []int) ([]int, error) {
			recordCall(&mu, &calls, release, in)
			if slices.Contains(in, -1) {
				return nil, boom
			}
			out := make([]int, len(in))
			for i, v := range in {
				out[i] = 10 * v
			}
			return out, nil
		},
		Max: 4,
	}
	var (
		wg      sync.WaitGroup
		results sync.Map // request -> result, or error
	)
	submit := func(i int) {
		wg.Add(1)
		b.Go(i, func(r int, err error) {
			if err != nil {
				results.Store(i, err)
			} else {
				results.Store(i, r)
			}
			wg.Done()
		})
	}
	led := make(chan struct{})
	go func() { // Go with nothing in flight: the caller makes the call
		defer close(led)
		submit(0)
	}()
	testdb.WaitFor(t, "the first call in flight", func() bool { return b.inFlightNow() == 1 })
	for i := 1; i <= 5; i++ {
		submit(i) // returns at once: a call is in flight
	}
	doResult := make(chan int, 1)
	go func() {
		r, _ := b.Do(context.Background(), 6)
		doResult <- r
	}()
	testdb.WaitFor(t, "the requests to wait", func() bool { return b.waiting() == 6 })
	select {
	case <-led:
		t.Fatal("the caller of Go who leads returned before its call ended")
	default:
	}
	close(release)
	<-led // it makes the next calls too, those its Go requests lead
	if r := <-doResult; r != 60 {
		t.Errorf("Do(6) among Go requests = %d, want 60", r)
	}
	wg.Wait()
	for i := range 6 {
		if r, _ := results.Load(i); r != 10*i {
			t.Errorf("Go(%d) got %v, want %d", i, r, 10*i)
		}
	}
	mu.Lock()
	if len(calls) != 3 || len(calls[1]) != 4 || len(calls[2]) != 2 {
		t.Errorf("calls %v, want [0], then the 6 waiting requests in batches of 4 and 2", calls)
	}
	mu.Unlock()

	wg.Add(1)
	var got error
	b.Go(-1, func(_ int, err error) { got = err; wg.Done() })
	wg.Wait()
	if !errors.Is(got, boom) {
		t.Errorf("a failed call's Go request got %v, want boom", got)
	}
}

// recordCall adds a call's requests to calls, with mu held, and holds the
// first call until release closes, while the others arrive.
func recordCall(mu *sync.Mutex, calls *[][]int, release <-chan struct{}, in []int) {
	mu.Lock()
	*calls = append(*calls, slices.Clone(in))
	first := len(*calls) == 1
	mu.Unlock()
	if first {
		<-release
	}
}
