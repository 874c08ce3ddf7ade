package opstest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// TestPauseStopsStartsInEveryProcess runs three processes serving a queue
// (this one and two workers) and pauses the queue while tasks run and new
// ones keep coming: within one poll interval no process starts another
// task; the tasks running finish; the enqueues go on, and their tasks wait
// as ENQUEUED. The pause holds across a restart of every process (whose
// Launch declares the queue again). Resumed, every process starts the
// waiting tasks at once.
func TestPauseStopsStartsInEveryProcess(t *testing.T) {
	engines(t, func(t *testing.T, url string, poll time.Duration) {
		for _, q := range []*dbos.Queue{Jobs, Pairs} {
			t.Run(q.Name(), func(t *testing.T) { pauseAndResume(t, url, poll, q) })
		}
	})
}

// settle is long enough for every process to claim a few times: three
// and a half poll intervals (the half keeps the last claims out of step
// with what the test does next).
func settle(poll time.Duration) time.Duration { return max(3*poll+poll/2, 500*time.Millisecond) }

func pauseAndResume(t *testing.T, url string, poll time.Duration, q *dbos.Queue) {
	const task = 300 * time.Millisecond
	w := startWorkers(t, url, 2)
	rt := launch(t, dbos.Config{DatabaseURL: url})
	ctx, cancel := context.WithTimeout(rt.WithContext(context.Background()), 2*time.Minute)
	defer cancel()
	enqueue := func(ctx context.Context, d time.Duration) string {
		h, err := EnqueueJob(ctx, q, d)
		if err != nil {
			t.Error(err)
			return ""
		}
		return h.ID()
	}
	inState := func(ctx context.Context, ids []string, state dbos.State) bool {
		for _, st := range statuses(t, ctx, ids) {
			if st.State != state {
				return false
			}
		}
		return true
	}

	// Long tasks run.
	var running []string
	for range 4 {
		running = append(running, enqueue(ctx, 1500*time.Millisecond))
	}
	waitFor(t, 10*time.Second, "the long tasks to start", func() bool { return inState(ctx, running, dbos.StatePending) })

	// Tasks keep coming, before and after the pause.
	var (
		mu     sync.Mutex
		stream []string
		began  []time.Time // when each enqueue of stream was called
		after  []string    // those of stream enqueued once the pause had returned
		wg     sync.WaitGroup
		paused time.Time
	)
	stop := make(chan struct{})
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			t0 := time.Now()
			id := enqueue(ctx, task)
			mu.Lock()
			stream, began = append(stream, id), append(began, t0)
			mu.Unlock()
		}
	})
	time.Sleep(300 * time.Millisecond)
	if err := dbos.PauseQueue(ctx, q.Name()); err != nil {
		t.Fatal(err)
	}
	paused = time.Now()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	// An enqueue called before the pause returned may have committed
	// before the pause did: it may start.
	for i, id := range stream {
		if began[i].After(paused) {
			after = append(after, id)
		}
	}
	time.Sleep(settle(poll))

	var left []string // not started at the pause
	for _, st := range statuses(t, ctx, append(append([]string(nil), running...), stream...)) {
		if st.StartedAt.After(paused.Add(poll)) {
			t.Errorf("%s started %s after the pause", st.ID, st.StartedAt.Sub(paused))
		}
		if st.State == dbos.StateEnqueued {
			left = append(left, st.ID)
		}
	}
	if !inState(ctx, after, dbos.StateEnqueued) {
		t.Errorf("tasks enqueued after the pause are not all ENQUEUED")
	}
	t.Logf("%d tasks enqueued before or during the pause, %d after; %d waiting", len(stream)-len(after), len(after), len(left))
	if len(after) < 5 {
		t.Fatalf("only %d tasks were enqueued after the pause", len(after))
	}
	waitFor(t, 10*time.Second, "the running tasks to finish", func() bool { return inState(ctx, running, dbos.StateSuccess) })

	// Every process restarts; their Launch declares the queue again.
	w.stop(t)
	if err := rt.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	startWorkers(t, url, 2)
	rt = launch(t, dbos.Config{DatabaseURL: url})
	ctx, cancel = context.WithTimeout(rt.WithContext(context.Background()), 2*time.Minute)
	defer cancel()
	left = append(left, enqueue(ctx, task), enqueue(ctx, task))
	time.Sleep(settle(poll))
	if !inState(ctx, left, dbos.StateEnqueued) {
		t.Fatalf("after a restart of every process, tasks of the paused queue started")
	}

	// Resumed: the waiting tasks start at once, in every process.
	resumed := time.Now()
	if err := dbos.ResumeQueue(ctx, q.Name()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the waiting tasks to finish", func() bool { return inState(ctx, left, dbos.StateSuccess) })
	sts := statuses(t, ctx, left)
	slices.SortFunc(sts, func(a, b dbos.Status) int { return a.StartedAt.Compare(b.StartedAt) })
	first := sts[:min(len(sts), 6)] // Pairs: two per process, for a task's length
	executors := map[string]bool{}
	for _, st := range first {
		executors[st.ExecutorID] = true
		if since := st.StartedAt.Sub(resumed); since > task*2/3 {
			t.Errorf("%s started %s after the resume; want the first %d at once", st.ID, since, len(first))
		}
	}
	if q == Pairs && len(executors) != 3 {
		t.Errorf("at the resume the first tasks started in %d processes, want every one of the 3", len(executors))
	}
}
