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
