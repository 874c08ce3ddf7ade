package scheduletest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/schedule"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// The test binary re-executes itself as a worker process when
// workerURLEnv is set.
const workerURLEnv = "DBOS_SCHEDULE_WORKER_URL"

func TestMain(m *testing.M) {
	if url := os.Getenv(workerURLEnv); url != "" {
		os.Exit(worker(url))
	}
	testdb.Main(m)
}

// worker is one process of the application: it launches (so its clocks
// create the ticks of EverySecond and EverySecondBackfill), prints
// "launched <time>", runs until its stdin closes, prints "stopping
// <time>" and shuts down, letting the ticks it started finish.
func worker(url string) int {
	ctx := context.Background()
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: url})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("launched %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	_, _ = io.Copy(io.Discard, os.Stdin)
	fmt.Printf("stopping %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	if err := rt.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// engines runs a test on each engine, in a database of its own: the
// schedules' last ticks must not leak from one test into another.
func engines(t *testing.T, test func(t *testing.T, url string)) {
	if testing.Short() {
		t.Skip("cross-process test of wall-clock ticks: runs without -short")
	}
	t.Run("sqlite", func(t *testing.T) { test(t, "sqlite:"+testdb.SQLitePath(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, testdb.NewPostgresDatabase(t)) })
}

// proc is a running worker process.
type proc struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	lines    chan string
	pid      int
	launched time.Time
	stopping time.Time
}

// startWorker starts a worker on url and waits until it has launched.
func startWorker(t *testing.T, url string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerURLEnv+"="+url, testdb.ChildEnv(url))
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
	p := &proc{cmd: cmd, stdin: stdin, lines: make(chan string, 4), pid: cmd.Process.Pid}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	p.launched = p.expect(t, "launched")
	return p
}

// expect waits for the worker's next line, "<word> <time>", and returns
// the time.
func (p *proc) expect(t *testing.T, word string) time.Time {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		at, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(line, word+" "))
		if !ok || err != nil {
			t.Fatalf("worker %d printed %q; want %q and a time", p.pid, line, word)
		}
		return at
	case <-time.After(time.Minute):
		t.Fatalf("worker %d printed no %q line in a minute", p.pid, word)
	}
	return time.Time{}
}

// stop closes the worker's stdin and waits for it to shut down.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.stdin.Close()
	p.stopping = p.expect(t, "stopping")
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("worker %d: %v", p.pid, err)
	}
}

// tickRun is the workflow of one tick, as the database has it.
type tickRun struct {
	at  time.Time
	pid int
	// late is how long after its tick the workflow was created, by the
	// database's clock: reported, not checked (timing goals live in
	// benchmarks).
	late time.Duration
}

// runs reads every workflow of the scheduled function name and checks
// each one: its ID is its tick's, its input is its tick, it succeeded,
// and a worker in pids ran it. It returns them by tick.
func runs(t *testing.T, url, name string, pids map[int]bool) map[time.Time]tickRun {
	t.Helper()
	ctx := context.Background()
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: url, ClientOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Shutdown(ctx)
	ws, err := dbos.ListWorkflows(rt.WithContext(ctx), dbos.ListFilter{Name: name, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[time.Time]tickRun{}
	for _, w := range ws {
		var in struct{ At time.Time }
		if err := json.Unmarshal(w.Input, &in); err != nil {
			t.Fatalf("workflow %s: input %s: %v", w.ID, w.Input, err)
		}
		var pid int
		if err := json.Unmarshal(w.Output, &pid); err != nil && w.State == dbos.StateSuccess {
			t.Fatalf("workflow %s: output %s: %v", w.ID, w.Output, err)
		}
		switch {
		case w.ID != schedule.ID(name, in.At):
			t.Errorf("workflow %s has input at=%v; want the ID of its tick, %s", w.ID, in.At, schedule.ID(name, in.At))
		case w.State != dbos.StateSuccess:
			t.Errorf("workflow %s is %s (%s); want SUCCESS", w.ID, w.State, w.Error)
		case !pids[pid]:
			t.Errorf("workflow %s ran in process %d, not a worker (%v)", w.ID, pid, pids)
		}
		if prev, dup := out[in.At]; dup {
			t.Errorf("tick %v ran twice: in processes %d and %d", in.At, prev.pid, pid)
		}
		out[in.At] = tickRun{at: in.At, pid: pid, late: w.CreatedAt.Sub(in.At)}
	}
	return out
}

// wantEvery checks that every whole second from the first tick after
// from to the last at or before to ran once, and reports how many.
func wantEvery(t *testing.T, got map[time.Time]tickRun, from, to time.Time) int {
	t.Helper()
	n := 0
	for at := from.Truncate(time.Second).Add(time.Second); !at.After(to); at = at.Add(time.Second) {
		if _, ok := got[at]; !ok {
			t.Errorf("tick %s did not run; want every second from %s to %s", at.Format(time.RFC3339), from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
		}
		n++
	}
	return n
}

// wantWithin checks that no tick ran outside [from, to].
func wantWithin(t *testing.T, got map[time.Time]tickRun, from, to time.Time) {
	t.Helper()
	for at := range got {
		if at.Before(from) || at.After(to) {
			t.Errorf("tick %s ran; want none before %s or after %s", at.Format(time.RFC3339), from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
		}
	}
}

// TestEveryTickOnceAcrossProcesses: three worker processes, started a
// second and a half apart, schedule EverySecond; the first stops early.
// Every tick from the first launch to the last stop ran exactly once,
// with its own time as input, in one of the workers.
func TestEveryTickOnceAcrossProcesses(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		// The property is about wall-clock ticks: the test lets time
		// pass, the workers' lifetimes overlapping.
		w1 := startWorker(t, url)
		time.Sleep(1500 * time.Millisecond)
		w2 := startWorker(t, url)
		time.Sleep(1500 * time.Millisecond)
		w3 := startWorker(t, url)
		time.Sleep(3500 * time.Millisecond)
		w1.stop(t)
		time.Sleep(3500 * time.Millisecond)
		w2.stop(t)
		w3.stop(t)

		pids := map[int]bool{w1.pid: true, w2.pid: true, w3.pid: true}
		got := runs(t, url, "scheduletest.every_second", pids)
		last := w3.stopping
		n := wantEvery(t, got, w1.launched, last)
		wantWithin(t, got, w1.launched.Add(-time.Second), w3.stopping.Add(time.Second))
		byPid := map[int]int{}
		var late time.Duration
		for _, r := range got {
			byPid[r.pid]++
			late = max(late, r.late)
		}
		t.Logf("%d ticks from %s to %s ran once each; by process: %v; created at most %v after their tick", n, w1.launched.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano), byPid, late)
	})
}

// TestBackfill: a worker runs, stops, and no process runs for three
// seconds; then another worker launches. The ticks missed meanwhile ran
// for EverySecondBackfill (backfill=true), created by the second worker
// at launch, and not for EverySecond.
func TestBackfill(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		w1 := startWorker(t, url)
		time.Sleep(2 * time.Second)
		w1.stop(t)
		time.Sleep(3 * time.Second) // no process runs: ticks are missed
		w2 := startWorker(t, url)
		time.Sleep(2 * time.Second)
		w2.stop(t)

		pids := map[int]bool{w1.pid: true, w2.pid: true}
		backfilled := runs(t, url, "scheduletest.every_second_backfill", pids)
		n := wantEvery(t, backfilled, w1.launched, w2.stopping)
		wantWithin(t, backfilled, w1.launched.Add(-time.Second), w2.stopping.Add(time.Second))
		missed := 0
		for at, r := range backfilled {
			if at.After(w1.stopping) && at.Before(w2.launched) {
				missed++
				if r.pid != w2.pid {
					t.Errorf("missed tick %s ran in process %d; want the launching one, %d", at.Format(time.RFC3339), r.pid, w2.pid)
				}
			}
		}
		if missed < 2 {
			t.Errorf("%d ticks fell between the workers; want the test to leave at least 2", missed)
		}

		skipped := runs(t, url, "scheduletest.every_second", pids)
		wantEvery(t, skipped, w1.launched, w1.stopping)
		wantEvery(t, skipped, w2.launched, w2.stopping)
		for at := range skipped {
			if at.After(w1.stopping.Add(time.Second)) && at.Before(w2.launched.Add(-time.Second)) {
				t.Errorf("tick %s of EverySecond ran, while no process ran; want it skipped (no backfill=)", at.Format(time.RFC3339))
			}
		}
		t.Logf("backfill: %d ticks ran once each, %d of them missed and backfilled; without backfill, %d ran", n, missed, len(skipped))
	})
}
