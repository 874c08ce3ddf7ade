package flowtest

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/overlap"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// A worker is this test binary re-executed as a program sharing the
// database: it launches, says "ready", waits for "go" on stdin, enqueues its
// tasks, prints one JSON record per finished task and "done", then keeps
// serving the queues until its stdin closes.
const (
	workerEnv      = "FLOW_WORKER"
	workerURLEnv   = "FLOW_URL"
	workerQueueEnv = "FLOW_QUEUE"
	workerCountEnv = "FLOW_COUNT"
	workerTaskEnv  = "FLOW_TASK"
	workerLabelEnv = "FLOW_LABEL"
	workerConnsEnv = "FLOW_MAX_CONNS" // Config.MaxConns (unset: the default)
)

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" {
		if err := worker(); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	testdb.Main(m)
}

// record is what a worker reports of one task.
type record struct {
	ID      string `json:"id"`
	Proc    string `json:"proc"`
	Index   int    `json:"index"` // the order this process enqueued it in
	Span    Span   `json:"span"`
	Started int64  `json:"started"` // database clock, Unix milliseconds
	// When the enqueue call began and returned, Unix nanoseconds: an
	// enqueue that returned before another began was enqueued first.
	EnqueueBegan    int64 `json:"enqueue_began"`
	EnqueueReturned int64 `json:"enqueue_returned"`
}

var declared = map[string]*dbos.Queue{
	Conc5.Name(): Conc5, Rate20.Name(): Rate20, Serial.Name(): Serial, Worker2.Name(): Worker2,
}

func worker() error {
	ctx := context.Background()
	maxConns, _ := strconv.Atoi(os.Getenv(workerConnsEnv))
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: os.Getenv(workerURLEnv), MaxConns: maxConns})
	if err != nil {
		return err
	}
	defer rt.Shutdown(ctx)
	q := declared[os.Getenv(workerQueueEnv)]
	count, _ := strconv.Atoi(os.Getenv(workerCountEnv))
	task, _ := time.ParseDuration(os.Getenv(workerTaskEnv))
	label := os.Getenv(workerLabelEnv)

	in := bufio.NewScanner(os.Stdin)
	fmt.Println("ready")
	if !in.Scan() || in.Text() != "go" {
		return fmt.Errorf("expected go on stdin")
	}
	handles := make([]*WorkHandle, count)
	began := make([]int64, count)
	returned := make([]int64, count)
	for i := range handles {
		began[i] = time.Now().UnixNano()
		if handles[i], err = EnqueueWork(ctx, q, fmt.Sprintf("%s-%d", label, i), task); err != nil {
			return err
		}
		returned[i] = time.Now().UnixNano()
	}
	enc := json.NewEncoder(os.Stdout)
	for i, h := range handles {
		span, err := h.GetResult(ctx)
		if err != nil {
			return err
		}
		st, err := h.Status(ctx)
		if err != nil {
			return err
		}
		if err := enc.Encode(record{ID: h.ID(), Proc: label, Index: i, Span: span, Started: st.StartedAt.UnixMilli(), EnqueueBegan: began[i], EnqueueReturned: returned[i]}); err != nil {
			return err
		}
	}
	fmt.Println("done")
	_, _ = io.Copy(io.Discard, os.Stdin) // serve until the parent says stop
	return nil
}

// runWorkers runs one worker process per count, each enqueueing that many
// tasks of length task on queue, all at once, and returns every record.
func runWorkers(t *testing.T, url, queue string, task time.Duration, counts ...int) []record {
	t.Helper()
	return runWorkersWith(t, url, queue, task, nil, counts...)
}

// runWorkersWith is runWorkers with more environment for the workers.
func runWorkersWith(t *testing.T, url, queue string, task time.Duration, env []string, counts ...int) []record {
	t.Helper()
	if testing.Short() {
		t.Skip("cross-process test: runs without -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	type proc struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Scanner
	}
	procs := make([]proc, len(counts))
	for i, n := range counts {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			workerEnv+"=1",
			workerURLEnv+"="+url,
			workerQueueEnv+"="+queue,
			workerCountEnv+"="+strconv.Itoa(n),
			workerTaskEnv+"="+task.String(),
			workerLabelEnv+"="+fmt.Sprintf("p%d", i),
			fmt.Sprintf("DBOS_EXECUTOR_ID=%s-%d-p%d", t.Name(), os.Getpid(), i),
		)
		cmd.Env = append(cmd.Env, env...)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[i] = proc{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	}
	defer func() {
		for _, p := range procs {
			p.stdin.Close()
			if err := p.cmd.Wait(); err != nil {
				t.Errorf("worker: %v", err)
			}
		}
	}()
	for _, p := range procs {
		if !p.out.Scan() || p.out.Text() != "ready" {
			t.Fatalf("worker did not get ready: %q", p.out.Text())
		}
	}
	for _, p := range procs {
		fmt.Fprintln(p.stdin, "go")
	}
	var (
		mu   sync.Mutex
		all  []record
		wg   sync.WaitGroup
		errs = make(chan error, len(procs))
	)
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p.out.Scan() {
				line := p.out.Text()
				if line == "done" {
					return
				}
				var r record
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					errs <- fmt.Errorf("worker printed %q: %w", line, err)
					return
				}
				mu.Lock()
				all = append(all, r)
				mu.Unlock()
			}
			errs <- fmt.Errorf("worker stopped before done")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := 0
	for _, n := range counts {
		want += n
	}
	if len(all) != want {
		t.Fatalf("got %d records, want %d", len(all), want)
	}
	return all
}

// engines runs a test on each engine.
func engines(t *testing.T, test func(t *testing.T, url string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, "sqlite:"+testdb.SQLitePath(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, testdb.PostgresURL(t)) })
}

// maxOverlap is the largest number of spans running at one instant.
func maxOverlap(records []record) int {
	ivs := make([]overlap.Interval, len(records))
	for i, r := range records {
		ivs[i] = overlap.Interval{Start: r.Span.Start, End: r.Span.End}
	}
	most, _ := overlap.Max(ivs, math.MaxInt)
	return most
}

func TestConcurrencyHoldsAcrossProcesses(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		records := runWorkers(t, url, Conc5.Name(), 20*time.Millisecond, 100, 100, 100)
		if got := maxOverlap(records); got != 5 {
			t.Errorf("at most %d tasks ran at once on a Concurrency(5) queue; want exactly 5 (never more, and reached)", got)
		}
		// Which processes ran the tasks is up to the claim race (on SQLite
		// the process whose task just finished often wins it); the limit
		// above held whatever the split.
		pids := map[int]int{}
		for _, r := range records {
			pids[r.Span.PID]++
		}
		t.Logf("tasks per process: %v", pids)
	})
}

func TestWorkerConcurrencyHoldsPerProcess(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		records := runWorkers(t, url, Worker2.Name(), 20*time.Millisecond, 30, 30)
		byPID := map[int][]record{}
		for _, r := range records {
			byPID[r.Span.PID] = append(byPID[r.Span.PID], r)
		}
		for pid, rs := range byPID {
			if got := maxOverlap(rs); got > 2 {
				t.Errorf("process %d ran %d tasks at once on a WorkerConcurrency(2) queue", pid, got)
			}
		}
		if len(byPID) != 2 {
			t.Errorf("tasks ran in %d processes, want both", len(byPID))
		}
	})
}

func TestRateLimitHoldsAcrossProcesses(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		records := runWorkers(t, url, Rate20.Name(), 0, 34, 33, 33)
		starts := make([]int64, len(records))
		for i, r := range records {
			starts[i] = r.Started
		}
		slices.SortFunc(starts, cmp.Compare[int64])
		for i, s := range starts {
			n := 0
			for _, u := range starts[i:] {
				if u < s+1000 {
					n++
				}
			}
			if n > 20 {
				t.Fatalf("%d starts in the second from %d; RateLimit(20, 1s) allows 20", n, s)
			}
		}
		// 100 starts at 20 a second: the last may start 4 s after the first.
		took := time.Duration(starts[len(starts)-1]-starts[0]) * time.Millisecond
		t.Logf("100 starts took %s", took)
		if ideal := 4 * time.Second; took > ideal*115/100 {
			t.Errorf("100 starts took %s; the ideal is %s (allowed: 15%% more)", took, ideal)
		}
	})
}

func TestConcurrencyOneIsStrictlyInOrderAcrossProcesses(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		records := runWorkers(t, url, Serial.Name(), time.Millisecond, 67, 67, 66)
		if got := maxOverlap(records); got != 1 {
			t.Errorf("%d tasks ran at once on a Concurrency(1) queue", got)
		}
		slices.SortFunc(records, func(a, b record) int { return cmp.Compare(a.Span.Start, b.Span.Start) })
		next := map[string]int{}
		for i, r := range records {
			if r.Index != next[r.Proc] {
				t.Fatalf("run %d was %s's task %d; that process enqueued task %d before it", i, r.Proc, r.Index, next[r.Proc])
			}
			next[r.Proc]++
		}
		// Across processes: a task whose enqueue returned before another's
		// began must run first.
		for i, later := range records {
			for _, earlier := range records[:i] {
				if later.EnqueueReturned < earlier.EnqueueBegan {
					t.Fatalf("%s ran after %s, but its enqueue returned before that one's began", later.ID, earlier.ID)
				}
			}
		}
	})
}
