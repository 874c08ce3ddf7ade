package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dbos-inc/dbos-transact-golang/dbos"
)

// peerSpec is one run of a peer system, done by a child process of this
// program (fresh state for every run): the parent passes it as JSON in
// $PEERS_RUN.
type peerSpec struct {
	System    string        `json:"system"`   // "river" or "dbos"
	Workload  string        `json:"workload"` // "e2e", "latency" or "drain"
	URL       string        `json:"url"`      // the run's fresh database: Postgres, or sqlite:PATH (DBOS Go)
	N         int           `json:"n"`
	Producers int           `json:"producers"`
	Sleep     time.Duration `json:"sleep"` // each task's body
	Limit     int           `json:"limit"` // concurrency limit; 0: none
	DBOSPoll  time.Duration `json:"dbos_poll"`
}

// peerResult is what a peer run measured.
type peerResult struct {
	PerSec float64 `json:"per_sec,omitempty"`
	P50ms  float64 `json:"p50_ms,omitempty"`
	P99ms  float64 `json:"p99_ms,omitempty"`
	Peak   int64   `json:"peak_running,omitempty"`
	Error  string  `json:"error,omitempty"`
}

const (
	peerEnv      = "PEERS_RUN"
	peerResultTo = "PEERS_RESULT "
)

// running counts the task bodies running in this process, and its peak.
var running struct{ now, peak atomic.Int64 }

// body is every peer task's body: counted, and sleeping for d.
func body(ctx context.Context, d time.Duration) error {
	n := running.now.Add(1)
	defer running.now.Add(-1)
	for p := running.peak.Load(); n > p && !running.peak.CompareAndSwap(p, n); p = running.peak.Load() {
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// peerMain runs the peer run $PEERS_RUN describes and prints its result.
func peerMain() int {
	var s peerSpec
	res := peerResult{}
	err := json.Unmarshal([]byte(os.Getenv(peerEnv)), &s)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		res, err = runPeer(ctx, s)
		cancel()
	}
	if err != nil {
		res.Error = err.Error()
	}
	b, _ := json.Marshal(res)
	fmt.Printf("%s%s\n", peerResultTo, b)
	if err != nil {
		return 1
	}
	return 0
}

func runPeer(ctx context.Context, s peerSpec) (peerResult, error) {
	switch {
	case s.System == "river" && s.Workload == "drain":
		return riverDrain(ctx, s)
	case s.System == "river":
		r, err := newRiver(ctx, s.URL, s.Limit)
		if err != nil {
			return peerResult{}, err
		}
		defer r.close()
		enq := func(ctx context.Context, i int) (func() error, error) {
			return func() error { return r.await(ctx, 1) }, r.enqueue(ctx, i, s.Sleep)
		}
		return measure(ctx, s, enq)
	case s.System == "dbos" && s.Workload != "drain":
		d, err := newDBOS(ctx, s.URL, s.Limit, s.DBOSPoll)
		if err != nil {
			return peerResult{}, err
		}
		defer d.close()
		enq := func(ctx context.Context, i int) (func() error, error) {
			h, err := d.enqueue(i, s.Sleep)
			if err != nil {
				return nil, err
			}
			return func() error {
				v, err := h.GetResult(dbos.WithHandleTimeout(2*time.Minute), dbos.WithHandlePollingInterval(s.DBOSPoll))
				if err == nil && v != i {
					err = fmt.Errorf("task %d returned %d", i, v)
				}
				return err
			}, nil
		}
		return measure(ctx, s, enq)
	}
	return peerResult{}, fmt.Errorf("no peer run %s %s", s.System, s.Workload)
}

// measure runs an end-to-end workload (e2e: P producers enqueue N tasks,
// then await them; latency: one task at a time, after one untimed) with
// enqueue, which returns the function that awaits the task. River's await
// waits for any one job's completion: the count is what matters.
func measure(ctx context.Context, s peerSpec, enqueue func(ctx context.Context, i int) (func() error, error)) (peerResult, error) {
	if s.Workload == "latency" {
		lat := make([]time.Duration, 0, s.N)
		for i := -1; i < s.N; i++ {
			t0 := time.Now()
			await, err := enqueue(ctx, i)
			if err == nil {
				err = await()
			}
			if err != nil {
				return peerResult{}, err
			}
			if i >= 0 {
				lat = append(lat, time.Since(t0))
			}
		}
		slices.Sort(lat)
		return peerResult{P50ms: pct(lat, 0.5), P99ms: pct(lat, 0.99)}, nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	start := time.Now()
	for g := range s.Producers {
		wg.Go(func() {
			var awaits []func() error
			for i := g; i < s.N; i += s.Producers {
				await, err := enqueue(ctx, i)
				if err != nil {
					cancel(fmt.Errorf("enqueue %d: %w", i, err))
					return
				}
				awaits = append(awaits, await)
			}
			for _, await := range awaits {
				if err := await(); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return peerResult{}, err
	}
	return peerResult{PerSec: float64(s.N) / took.Seconds(), Peak: running.peak.Load()}, nil
}

// riverDrain: N jobs inserted beforehand (InsertMany) while no client
// works, then one client works them all; the rate is from the first
// attempt to the last completion, by the database clock.
func riverDrain(ctx context.Context, s peerSpec) (peerResult, error) {
	if err := riverBacklog(ctx, s.URL, s.N, s.Sleep); err != nil {
		return peerResult{}, err
	}
	r, err := newRiver(ctx, s.URL, s.Limit)
	if err != nil {
		return peerResult{}, err
	}
	defer r.close()
	if err := r.await(ctx, s.N); err != nil {
		return peerResult{}, err
	}
	span, err := riverSpan(ctx, r)
	if err != nil || span <= 0 {
		return peerResult{}, fmt.Errorf("read the drain's span: %v (%s)", err, span)
	}
	return peerResult{PerSec: float64(s.N) / span.Seconds(), Peak: running.peak.Load()}, nil
}

// pct is the nearest-rank p-th percentile of sorted, in ms.
func pct(sorted []time.Duration, p float64) float64 {
	i := min(max(int(math.Ceil(p*float64(len(sorted))))-1, 0), len(sorted)-1)
	return float64(sorted[i].Microseconds()) / 1000
}
