package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// producers is how many goroutines enqueue at once in the producers
// workload and in the processes that pre-enqueue the drain and limited
// backlogs.
const producers = 16

// workload describes one benchmark: how many tasks it runs, whether its
// tasks are enqueued by a separate process before the measured one starts,
// and the body the measured child process runs.
type workload struct {
	name  string
	about string
	base  int // tasks at scale 1
	least int // tasks at any scale
	// backlog, when set, is the task a separate producer process enqueues
	// n times on the workload's queue, with IDs "<name>-<index>", before
	// the measured process launches; the measured process must not
	// dispatch anything else.
	backlog taskKind
	// backlogQueue and backlogOpts, when set, give the queue and the
	// enqueue options of the backlog's task i of n (default: queueName(), none).
	backlogQueue func(i int) string
	backlogOpts  func(i, n int) []dbos.EnqueueOption
	run          func(ctx context.Context, c *child) (Values, error)
	// orchestrate, when set, replaces the backlog producer and the one
	// measured process: it runs the workload's processes itself (spec
	// names the run's fresh database of engine) and returns the run's values.
	orchestrate func(ctx context.Context, o *Options, engine string, spec childSpec, label string) (Values, error)
	// engines the workload runs on; nil: every engine.
	engines []string
}

// runsOn reports whether the workload runs on engine.
func (w *workload) runsOn(engine string) bool {
	return w.engines == nil || slices.Contains(w.engines, engine)
}

// taskKind says which task a producer enqueues.
type taskKind string

const (
	taskNone  taskKind = ""
	taskNoop  taskKind = "noop"
	taskSleep taskKind = "sleep"
)

// Workloads are the benchmarks, in the order they run and print.
var workloads = []*workload{
	{name: "seedloop", base: 5000, least: 10, run: runSeedLoop,
		about: "a workflow enqueues n no-op tasks one by one (EnqueueNoop), then awaits each result"},
	{name: "producers", base: 10000, least: producers, run: runProducers,
		about: "16 goroutines enqueue n no-op tasks in all, outside a workflow, and await them"},
	{name: "drain", base: 100000, least: 20, backlog: taskNoop, run: runDrain,
		about: "n no-op tasks already enqueued; one worker process launches and runs them all"},
	{name: "latency", base: 500, least: 10, run: runLatency,
		about: "one no-op task at a time: enqueue to result"},
	{name: "limited", base: 2000, least: 20, backlog: taskSleep, run: runLimited,
		about: "n tasks of 5 ms already enqueued on a Concurrency(10) queue (ideal: 2000 tasks/s)"},
	{name: "rate", base: 250, least: rateLimit + 1, run: runRate,
		about: "n no-op tasks on a RateLimit(50, 1s) queue; start rate from the database's start times"},
	{name: "outbox", base: 300, least: 10, run: runOutbox, // outbox.go
		about: "one task at a time enqueued with EnqueueFTx in a transaction that also writes a row: commit to start, worker idle"},
}

// WorkloadNames returns the names of every workload, in run order.
func WorkloadNames() []string {
	names := make([]string, len(workloads))
	for i, w := range workloads {
		names[i] = w.name
	}
	return names
}

func findWorkload(name string) *workload {
	for _, w := range workloads {
		if w.name == name {
			return w
		}
	}
	return nil
}

// tasks is the number of tasks the workload runs at the given scale.
func (w *workload) tasks(scale float64) int {
	return max(w.least, int(math.Round(float64(w.base)*scale)))
}

// backlogQueueName is the queue of the backlog's task i.
func (w *workload) backlogQueueName(i int) string {
	if w.backlogQueue != nil {
		return w.backlogQueue(i)
	}
	return w.queueName()
}

func (w *workload) queueName() string {
	switch w.name {
	case "drain":
		return drainQueueName
	case "limited":
		return limitedQueueName
	}
	return ""
}

// runSeedLoop: the workflow of the seed example, timed from its start to
// its result.
func runSeedLoop(ctx context.Context, c *child) (Values, error) {
	seedQueue = dbos.NewQueue(seedQueueName)
	if err := c.launch(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	h, err := StartSeedLoop(ctx, c.spec.N)
	if err != nil {
		return nil, err
	}
	right, err := h.GetResult(ctx)
	took := time.Since(start)
	if err != nil {
		return nil, err
	}
	if right != c.spec.N {
		return nil, fmt.Errorf("seed loop: %d of %d results were right", right, c.spec.N)
	}
	return Values{
		{Name: "tasks/s", Unit: "tasks/s", Value: rate(c.spec.N, took)},
		{Name: "wall", Unit: "s", Value: took.Seconds()},
	}, nil
}

// runProducers: 16 goroutines each enqueue their share of the tasks, then
// await them; timed from the first enqueue to the last result.
func runProducers(ctx context.Context, c *child) (Values, error) {
	q := dbos.NewQueue(producersQueueName)
	if err := c.launch(ctx); err != nil {
		return nil, err
	}
	took, err := produceNoops(ctx, q, c.spec.N)
	if err != nil {
		return nil, err
	}
	return Values{
		{Name: "tasks/s", Unit: "tasks/s", Value: rate(c.spec.N, took)},
		{Name: "wall", Unit: "s", Value: took.Seconds()},
	}, nil
}

// produceNoops enqueues n no-op tasks on q from 16 goroutines and awaits
// them, as the producers workload does; it returns the time from the first
// enqueue to the last result.
func produceNoops(ctx context.Context, q *dbos.Queue, n int) (time.Duration, error) {
	return produceAndAwait(ctx, n, producers,
		func(ctx context.Context, i int) (*NoopHandle, error) { return EnqueueNoop(ctx, q, i) },
		func(ctx context.Context, i int, h *NoopHandle) error {
			v, err := h.GetResult(ctx)
			if err == nil && v != i {
				err = fmt.Errorf("got %d", v)
			}
			return err
		})
}

// produceAndAwait runs p goroutines; goroutine g enqueues tasks g, g+p,
// g+2p, ... below n with enqueue, then awaits each of its handles in turn
// (unless await is nil). It returns the time from the first enqueue to the last result.
func produceAndAwait[H any](ctx context.Context, n, p int,
	enqueue func(ctx context.Context, i int) (H, error),
	await func(ctx context.Context, i int, h H) error,
) (time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	start := time.Now()
	for g := range p {
		wg.Go(func() {
			var hs []H
			for i := g; i < n; i += p {
				h, err := enqueue(ctx, i)
				if err != nil {
					cancel(fmt.Errorf("enqueue task %d: %w", i, err))
					return
				}
				hs = append(hs, h)
			}
			for k, h := range hs {
				i := g + k*p
				if await == nil {
					break
				}
				if err := await(ctx, i, h); err != nil {
					cancel(fmt.Errorf("result of task %d: %w", i, err))
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	return took, context.Cause(ctx)
}

// runLatency: enqueue one task, await it, repeat; one untimed warm-up.
func runLatency(ctx context.Context, c *child) (Values, error) {
	q := dbos.NewQueue(latencyQueueName)
	if err := c.launch(ctx); err != nil {
		return nil, err
	}
	n := c.spec.N
	lat := make([]time.Duration, 0, n)
	for i := -1; i < n; i++ {
		start := time.Now()
		h, err := EnqueueNoop(ctx, q, i)
		if err != nil {
			return nil, fmt.Errorf("enqueue task %d: %w", i, err)
		}
		v, err := h.GetResult(ctx)
		if err == nil && v != i {
			err = fmt.Errorf("got %d", v)
		}
		if err != nil {
			return nil, fmt.Errorf("result of task %d: %w", i, err)
		}
		if i >= 0 {
			lat = append(lat, time.Since(start))
		}
	}
	slices.Sort(lat)
	ms := func(p float64) float64 { return millis(percentile(lat, p)) }
	return Values{
		{Name: "p50", Unit: "ms", Value: ms(0.50)},
		{Name: "p90", Unit: "ms", Value: ms(0.90)},
		{Name: "p99", Unit: "ms", Value: ms(0.99)},
		{Name: "max", Unit: "ms", Value: ms(1)},
	}, nil
}

// runDrain: the backlog was enqueued by another process; this one declares
// the queue, launches and runs it all.
func runDrain(ctx context.Context, c *child) (Values, error) {
	q := dbos.NewQueue(drainQueueName)
	d, err := c.drainBacklog(ctx, q, taskNoop)
	if err != nil {
		return nil, err
	}
	vs := Values{
		{Name: "tasks/s", Unit: "tasks/s", Value: d.rate()},
	}
	if d.peakRSS > 0 {
		vs = append(vs, Value{Name: "peak RSS", Unit: "MiB", Value: d.peakRSS})
	}
	return append(vs, Value{Name: "reruns", Unit: "tasks", Value: float64(d.reruns)}), nil
}

// runLimited: like drain, on a Concurrency(10) queue of 5 ms tasks, whose
// ideal rate is 10 / 5 ms = 2000 tasks/s.
func runLimited(ctx context.Context, c *child) (Values, error) {
	q := dbos.NewQueue(limitedQueueName, dbos.Concurrency(limitedConcurrency))
	d, err := c.drainBacklog(ctx, q, taskSleep)
	if err != nil {
		return nil, err
	}
	ideal := float64(limitedConcurrency) / limitedTask.Seconds()
	vs := Values{
		{Name: "tasks/s", Unit: "tasks/s", Value: d.rate()},
		{Name: "% of ideal", Unit: "%", Value: 100 * d.rate() / ideal},
	}
	if body := meanSleep(); body > 0 && d.rate() > 0 {
		// What the bodies as they ran allow, and what each slot spent
		// between a body's end and its successor's start, on average.
		slot := time.Duration(float64(limitedConcurrency) / d.rate() * float64(time.Second))
		vs = append(vs,
			Value{Name: "task body", Unit: "ms", Value: millis(body)},
			Value{Name: "% of body ideal", Unit: "%", Value: 100 * d.rate() * body.Seconds() / limitedConcurrency},
			// Clamped: with few tasks, the database's millisecond clock
			// can put the rate a little above what the bodies allow.
			Value{Name: "turnover", Unit: "ms", Value: millis(max(slot-body, 0))},
		)
	}
	return append(vs, Value{Name: "reruns", Unit: "tasks", Value: float64(d.reruns)}), nil
}

// runRate: enqueue every task on a RateLimit(50, 1s) queue, await them
// all, then judge the start times the database recorded.
func runRate(ctx context.Context, c *child) (Values, error) {
	q := dbos.NewQueue(rateQueueName, dbos.RateLimit(rateLimit, ratePeriod))
	if err := c.launch(ctx); err != nil {
		return nil, err
	}
	n := c.spec.N
	hs := make([]*NoopHandle, n)
	for i := range hs {
		h, err := EnqueueNoop(ctx, q, i)
		if err != nil {
			return nil, fmt.Errorf("enqueue task %d: %w", i, err)
		}
		hs[i] = h
	}
	starts := make([]time.Time, n)
	for i, h := range hs {
		if _, err := h.GetResult(ctx); err != nil {
			return nil, fmt.Errorf("result of task %d: %w", i, err)
		}
		st, err := h.Status(ctx)
		if err != nil {
			return nil, err
		}
		if st.StartedAt.IsZero() {
			return nil, fmt.Errorf("task %d finished without a start time", i)
		}
		starts[i] = st.StartedAt
	}
	r := judgeRate(starts, rateLimit, ratePeriod)
	allowance := float64(rateLimit) / ratePeriod.Seconds()
	return Values{
		{Name: "starts/s", Unit: "starts/s", Value: r.perSecond},
		{Name: "% of allowance", Unit: "%", Value: 100 * r.perSecond / allowance},
		{Name: "windows over limit", Unit: "windows", Value: float64(r.overLimit)},
	}, nil
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
