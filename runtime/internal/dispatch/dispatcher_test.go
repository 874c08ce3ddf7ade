package dispatch

import (
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// TestClaimBatchByLimits: a claim takes up to unlimitedClaimBatch tasks
// from a queue without limits, claimBatch from one with any limit, and
// never more than the local limit leaves room for.
func TestClaimBatchByLimits(t *testing.T) {
	for _, c := range []struct {
		cfg  store.QueueConfig
		want int
	}{
		{store.QueueConfig{}, unlimitedClaimBatch},
		{store.QueueConfig{Concurrency: 10}, claimBatch},
		{store.QueueConfig{WorkerConcurrency: 500}, claimBatch},
		{store.QueueConfig{RateLimit: 100, RatePeriod: time.Second}, claimBatch},
		{store.QueueConfig{PartitionConcurrency: 2}, claimBatch},
	} {
		d := &Dispatcher{}
		d.adopt(c.cfg)
		if got := d.batch(); got != c.want {
			t.Errorf("%+v: batch %d, want %d", c.cfg, got, c.want)
		}
	}

	d := &Dispatcher{}
	d.adopt(store.QueueConfig{})
	d.running.Store(localTaskLimit - 100)
	if got := d.reserve(0); got != 100 {
		t.Errorf("reserve with room for 100 = %d", got)
	}
	if got := d.reserve(300); got != 300 {
		t.Errorf("reserve after 300 finished = %d, want 300", got)
	}
	if got := d.running.Load(); got != localTaskLimit+300 {
		t.Errorf("running %d after the reservations, want %d", got, localTaskLimit+300)
	}
}

// TestDrained: a queue is drained once a claim takes fewer tasks than it
// could, with no delayed task and no limit shared with other processes,
// until the next wake-up; a wake-up during the claim leaves it undrained.
func TestDrained(t *testing.T) {
	d := &Dispatcher{wakeCh: make(chan struct{}, 1)}
	d.adopt(store.QueueConfig{})
	if d.Drained() {
		t.Fatal("drained before any claim")
	}
	// settle ends a claim of up to n that took nothing (so starts nothing).
	settle := func(n int, wakes uint64, res store.ClaimResult) {
		t.Helper()
		d.running.Add(int64(n))
		if err := d.settle(n, wakes, res, nil); err != nil {
			t.Fatal(err)
		}
	}
	settle(5, d.wakes.Load(), store.ClaimResult{})
	if !d.Drained() {
		t.Fatal("not drained after a claim that took fewer than it could")
	}
	d.Wake()
	if d.Drained() {
		t.Fatal("drained after a wake-up")
	}
	before := d.wakes.Load()
	d.Wake() // an enqueue commits while the claim runs
	settle(5, before, store.ClaimResult{})
	if d.Drained() {
		t.Fatal("drained by a claim during which a wake-up came")
	}
	settle(5, d.wakes.Load(), store.ClaimResult{RetryAt: time.Now().Add(time.Minute)})
	if d.Drained() {
		t.Fatal("drained with a delayed task to wait for")
	}
	d.adopt(store.QueueConfig{Concurrency: 3})
	settle(5, d.wakes.Load(), store.ClaimResult{Config: store.QueueConfig{Concurrency: 3}})
	if d.Drained() {
		t.Fatal("drained under a shared limit (fewer may mean no room, not no task)")
	}
	if got := d.running.Load(); got != 0 {
		t.Errorf("running %d after the claims released their reservations, want 0", got)
	}
}
