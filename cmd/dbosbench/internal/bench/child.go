package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// childEnv is the environment variable that turns a re-executed dbosbench
// (or test binary) into a benchmark child process; its value is the JSON
// of a childSpec.
const childEnv = "DBOSBENCH_CHILD"

// resultPrefix starts the one stdout line on which a child reports.
const resultPrefix = "DBOSBENCH_RESULT "

// childSpec is what the parent asks a child to do.
type childSpec struct {
	// Role is "produce" (enqueue a workload's backlog, then exit) or
	// "measure" (run the workload and report its values).
	Role     string        `json:"role"`
	Workload string        `json:"workload"`
	URL      string        `json:"url"`
	N        int           `json:"n"`
	Timeout  time.Duration `json:"timeout"` // the child's own deadline
	Stall    time.Duration `json:"stall"`   // no progress for this long fails a drain
}

// childReport is what a child prints after resultPrefix.
type childReport struct {
	Values Values `json:"values,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Value is one measured number.
type Value struct {
	Name  string  `json:"name"`
	Unit  string  `json:"unit"`
	Value float64 `json:"value"`
}

// Values are the numbers one run of a workload measured, in print order.
type Values []Value

// IsChild reports whether this process was started by Run as a benchmark
// child; its main (or TestMain) must then call ChildMain and exit.
func IsChild() bool { return os.Getenv(childEnv) != "" }

// ChildMain runs the benchmark child process the environment describes,
// prints its report on stdout and returns the exit code.
func ChildMain() int {
	var spec childSpec
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &spec); err != nil {
		fmt.Fprintf(os.Stderr, "dbosbench child: bad %s: %v\n", childEnv, err)
		return 2
	}
	ctx := context.Background()
	if spec.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, spec.Timeout)
		defer cancel()
	}
	c := &child{spec: spec}
	switch spec.Role {
	case "measure":
		c.stopProfile = startCPUProfile(spec.Workload)
		defer c.endProfile()
	case "work": // a fleet's worker: profiled from its start to its end
		c.stopProfile = startCPUProfile(spec.Workload + "-worker")
		defer c.endProfile()
	}
	vs, err := c.run(ctx)
	if shutdownErr := c.shutdown(); err == nil && shutdownErr != nil {
		err = fmt.Errorf("shutdown: %w", shutdownErr)
	}
	rep := childReport{Values: vs}
	if err != nil {
		rep.Error = err.Error()
	}
	b, jerr := json.Marshal(rep)
	if jerr != nil {
		fmt.Fprintf(os.Stderr, "dbosbench child: %v\n", jerr)
		return 1
	}
	fmt.Printf("%s%s\n", resultPrefix, b)
	if err != nil {
		return 1
	}
	return 0
}

// cpuProfileEnv names a file prefix: when set, each measuring child writes
// a CPU profile of its run to PREFIX.<workload>.<pid>.pprof, and what it
// allocated until the profile stopped to PREFIX.<workload>.<pid>.allocs.pprof.
const cpuProfileEnv = "DBOSBENCH_CPUPROFILE"

// startCPUProfile starts the CPU profile cpuProfileEnv asks for and returns
// the function that stops and writes it; nil when none is asked for (or it
// cannot start, which it reports on stderr).
func startCPUProfile(workload string) func() {
	prefix := os.Getenv(cpuProfileEnv)
	if prefix == "" {
		return nil
	}
	f, err := os.Create(fmt.Sprintf("%s.%s.%d.pprof", prefix, workload, os.Getpid()))
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "dbosbench child: cpu profile: %v\n", err)
		return nil
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		// And what the process allocated so far, for pprof -sample_index=alloc_space.
		if a, err := os.Create(fmt.Sprintf("%s.%s.%d.allocs.pprof", prefix, workload, os.Getpid())); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(a, 0)
			a.Close()
		}
	}
}

// child is one benchmark child process.
type child struct {
	spec        childSpec
	rt          *dbos.Runtime
	stopProfile func() // nil: no CPU profile running
}

// endProfile stops the CPU profile, if one runs: a drain stops it once its
// tasks ran, so that its untimed checks stay out of the profile.
func (c *child) endProfile() {
	if c.stopProfile != nil {
		c.stopProfile()
		c.stopProfile = nil
	}
}

func (c *child) run(ctx context.Context) (Values, error) {
	w := findWorkload(c.spec.Workload)
	if w == nil {
		return nil, fmt.Errorf("unknown workload %q", c.spec.Workload)
	}
	switch c.spec.Role {
	case "produce":
		return c.produce(ctx, w)
	case "measure":
		return w.run(ctx, c)
	default:
		if w.orchestrate != nil { // its processes' roles are its own
			return w.run(ctx, c)
		}
	}
	return nil, fmt.Errorf("unknown role %q", c.spec.Role)
}

// launch starts this process's runtime; the queues it should dispatch must
// be declared already. Runtime warnings and errors go to stderr, which the
// parent shows.
func (c *child) launch(ctx context.Context) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: c.spec.URL, Logger: logger})
	if err != nil {
		return err
	}
	c.rt = rt
	return nil
}

func (c *child) shutdown() error {
	if c.rt == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.rt.Shutdown(ctx)
}

// backlogID is the workflow ID of a pre-enqueued task.
func backlogID(workload string, i int) string { return fmt.Sprintf("%s-%07d", workload, i) }

// produce enqueues the workload's backlog without running any of it. The
// queue is declared only after Launch, so this runtime has no dispatcher
// for it: Launch starts dispatchers for the queues declared before it.
func (c *child) produce(ctx context.Context, w *workload) (Values, error) {
	if w.backlog == taskNone {
		return nil, fmt.Errorf("workload %s has no backlog", w.name)
	}
	if err := c.launch(ctx); err != nil {
		return nil, err
	}
	qs := map[string]*dbos.Queue{}
	queue := func(i int) *dbos.Queue {
		name := w.backlogQueueName(i)
		if qs[name] == nil {
			qs[name] = dbos.NewQueue(name)
		}
		return qs[name]
	}
	for i := range c.spec.N { // declared here, not by the producers: NewQueue is not for concurrent use on one name
		queue(i)
	}
	n := c.spec.N
	took, err := produceAndAwait(ctx, n, producers, func(ctx context.Context, i int) (struct{}, error) {
		opts := []dbos.EnqueueOption{dbos.WithID(backlogID(w.name, i))}
		if w.backlogOpts != nil {
			opts = append(opts, w.backlogOpts(i, n)...)
		}
		q := qs[w.backlogQueueName(i)]
		var err error
		switch w.backlog {
		case taskNoop:
			_, err = EnqueueNoop(ctx, q, i, opts...)
		case taskSleep:
			_, err = EnqueueSleep(ctx, q, limitedTask, opts...)
		}
		return struct{}{}, err
	}, nil)
	if err != nil {
		return nil, err
	}
	return Values{{Name: "backlog enqueue/s", Unit: "tasks/s", Value: rate(n, took)}}, nil
}

// drained is what drainBacklog measured.
type drained struct {
	n          int
	firstStart time.Time // database clock: the first task's start
	lastEnd    time.Time // database clock: the last task's completion
	peakRSS    float64   // MiB, 0 when unknown
	reruns     int64     // task bodies run more than once
	// statuses holds each backlog task's status, by index, as read after
	// the drain.
	statuses []dbos.Status
}

// rate is the drain's throughput by the database clock: tasks per second
// from the first start to the last completion.
func (d drained) rate() float64 { return rate(d.n, d.lastEnd.Sub(d.firstStart)) }

// drainBacklog launches this process's runtime (q, the backlog's queue,
// declared) and waits until every task of the pre-enqueued backlog has run.
// Task bodies count themselves, so waiting adds no load on the database.
// It then reads every task's status (untimed) to check it succeeded and to
// find the first start and the last completion.
func (c *child) drainBacklog(ctx context.Context, q *dbos.Queue, kind taskKind) (drained, error) {
	n := c.spec.N
	ran.want, ran.done = int64(n), make(chan struct{})
	if err := c.launch(ctx); err != nil {
		return drained{}, err
	}
	if err := waitRuns(ctx, n, c.spec.Stall); err != nil {
		return drained{}, err
	}
	c.endProfile()
	d := drained{n: n, peakRSS: peakRSS()}
	if err := c.checkBacklog(ctx, kind, &d); err != nil {
		return drained{}, err
	}
	d.reruns = ran.n.Load() - int64(n)
	if d.reruns != 0 {
		fmt.Fprintf(os.Stderr, "dbosbench: %d task bodies ran more than once on queue %s\n", d.reruns, q.Name())
	}
	return d, nil
}

// waitRuns waits until n task bodies ran, failing when none ran for stall.
func waitRuns(ctx context.Context, n int, stall time.Duration) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last, since := int64(-1), time.Now()
	for {
		select {
		case <-ran.done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("%d of %d tasks ran: %w", ran.n.Load(), n, ctx.Err())
		case now := <-tick.C:
			got := ran.n.Load()
			if got != last {
				last, since = got, now
			} else if stall > 0 && now.Sub(since) >= stall {
				return fmt.Errorf("stalled: %d of %d tasks ran, none in the last %s", got, n, now.Sub(since).Round(time.Second))
			}
		}
	}
}

// checkBacklog reads the status of every backlog task, waiting for the few
// whose outcome is not recorded yet, and records the first start and the
// last completion in d.
func (c *child) checkBacklog(ctx context.Context, kind taskKind, d *drained) error {
	const readers = 8
	d.statuses = make([]dbos.Status, d.n)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for g := range readers {
		wg.Go(func() {
			var first, last time.Time
			err := func() error {
				for i := g; i < d.n; i += readers {
					st, err := backlogStatus(ctx, kind, backlogID(c.spec.Workload, i))
					if err != nil {
						return err
					}
					if st.State != dbos.StateSuccess {
						return fmt.Errorf("task %s is %s (%s)", st.ID, st.State, st.Error)
					}
					st.Input, st.Output = nil, nil
					d.statuses[i] = st
					if first.IsZero() || st.StartedAt.Before(first) {
						first = st.StartedAt
					}
					if st.CompletedAt.After(last) {
						last = st.CompletedAt
					}
				}
				return nil
			}()
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if !first.IsZero() && (d.firstStart.IsZero() || first.Before(d.firstStart)) {
				d.firstStart = first
			}
			if last.After(d.lastEnd) {
				d.lastEnd = last
			}
		})
	}
	wg.Wait()
	return firstErr
}

// backlogStatus returns a backlog task's status once it has finished.
func backlogStatus(ctx context.Context, kind taskKind, id string) (dbos.Status, error) {
	var (
		status func(context.Context) (dbos.Status, error)
		await  func(context.Context) error
	)
	switch kind {
	case taskNoop:
		h, err := RetrieveNoop(ctx, id)
		if err != nil {
			return dbos.Status{}, err
		}
		status = h.Status
		await = func(ctx context.Context) error { _, err := h.GetResult(ctx); return err }
	case taskSleep:
		h, err := RetrieveSleep(ctx, id)
		if err != nil {
			return dbos.Status{}, err
		}
		status, await = h.Status, h.GetResult
	default:
		return dbos.Status{}, fmt.Errorf("no task kind %q", kind)
	}
	st, err := status(ctx)
	if err != nil || st.State.Terminal() {
		return st, err
	}
	if err := await(ctx); err != nil {
		return dbos.Status{}, fmt.Errorf("task %s: %w", id, err)
	}
	return status(ctx)
}

// peakRSS returns this process's peak resident set size in MiB (VmHWM), or
// 0 where /proc/self/status cannot tell.
func peakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			return 0
		}
		return kb / 1024
	}
	return 0
}

var errNoResult = errors.New("child exited without a report")
