// Command failovertest is the failover chaos test: it creates a
// pg_auto_failover formation on local ports (a monitor, a primary and a
// synchronous standby, run as the postgres user), runs worker processes
// and a producer on a limited queue and an unlimited one through a
// multi-host URL, kills the primary with SIGKILL mid-run (its pg_autoctl
// and its postmaster) as many times as asked, bringing each killed node
// back as the new standby, and then checks that every enqueue that
// returned succeeded exactly once, that every step has exactly one
// checkpoint, that the limit held and that no workflow is stuck. It
// prints each failover's figures and the counts, and exits 1 when a check
// fails.
//
//	go run ./cmd/failovertest                                 # short: 1 failover in 1 minute
//	go run ./cmd/failovertest -duration 10m -failovers 3      # long
//
// It needs Debian's postgresql-15-auto-failover (pg_autoctl) and, run as
// root, a postgres user to run the formation as. Ports -port to -port+2
// must be free.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// The environment of a worker or the producer.
const (
	roleEnv    = "FAILOVERTEST_ROLE" // worker or producer
	urlEnv     = "FAILOVERTEST_URL"
	effectsEnv = "FAILOVERTEST_EFFECTS"
	runEnv     = "FAILOVERTEST_RUN"
	rateEnv    = "FAILOVERTEST_RATE"
)

func main() {
	var err error
	switch os.Getenv(roleEnv) {
	case "worker":
		err = worker()
	case "producer":
		err = producer()
	default:
		err = orchestrate()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "failovertest:", err)
		os.Exit(1)
	}
}

// ---- worker and producer ----

func childLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// worker serves both queues until stdin closes.
func worker() error {
	if err := openEffects(os.Getenv(effectsEnv)); err != nil {
		return err
	}
	ctx := context.Background()
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: os.Getenv(urlEnv), Logger: childLogger()})
	if err != nil {
		return err
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return rt.Shutdown(sctx)
}

// out serializes the producer's lines.
var out sync.Mutex

func say(format string, args ...any) {
	out.Lock()
	defer out.Unlock()
	fmt.Printf(format+"\n", args...)
}

// producer enqueues at the rate asked, alternating a Flow on the limited
// queue and a Task on the free one, each under its own ID; an enqueue that
// fails is retried with the same ID (which makes it idempotent) until it
// returns. It prints "ok ID" for each enqueue that returned, then waits for
// its result through the handle ("done ID" or "await-error ID ...").
// When stdin closes it stops enqueueing, waits for every result and
// prints "producer-done".
func producer() error {
	rate, err := strconv.ParseFloat(os.Getenv(rateEnv), 64)
	if err != nil || rate <= 0 {
		return fmt.Errorf("%s: want a positive rate", rateEnv)
	}
	run := os.Getenv(runEnv)
	ctx := context.Background()
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: os.Getenv(urlEnv), Logger: childLogger(), ClientOnly: true})
	if err != nil {
		return err
	}
	ctx = rt.WithContext(ctx)
	fmt.Println("ready")
	stop := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stop) }()
	awaitCtx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
loop:
	for i := 0; ; i++ {
		select {
		case <-stop:
			break loop
		case <-tick.C:
		}
		flow := i%2 == 0
		id := fmt.Sprintf("task-%s-%d", run, i)
		if flow {
			id = fmt.Sprintf("flow-%s-%d", run, i)
		}
		var await func() (string, error)
		for attempt := 0; ; attempt++ {
			var err error
			if flow {
				var h *FlowHandle
				if h, err = EnqueueFlow(ctx, Limited, id, dbos.WithID(id)); err == nil {
					await = func() (string, error) {
						v, err := h.GetResult(awaitCtx)
						return strconv.Itoa(v), err
					}
				}
			} else {
				var h *TaskHandle
				if h, err = EnqueueTask(ctx, Free, id, dbos.WithID(id)); err == nil {
					await = func() (string, error) { return h.GetResult(awaitCtx) }
				}
			}
			if err == nil {
				break
			}
			if attempt == 0 {
				say("enqueue-error %s %s", id, oneLine(err))
			}
			time.Sleep(100 * time.Millisecond)
		}
		say("ok %s", id)
		wg.Go(func() {
			v, err := await()
			want := strconv.Itoa(10 * FlowSteps * (FlowSteps + 1) / 2)
			if !flow {
				want = "done " + id
			}
			switch {
			case err != nil:
				say("await-error %s %s", id, oneLine(err))
			case v != want:
				say("await-error %s got %q, want %q", id, v, want)
			default:
				say("done %s", id)
			}
		})
	}
	wg.Wait()
	say("producer-done")
	sctx, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	return rt.Shutdown(sctx)
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

// ---- the orchestrator ----

type child struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan error
}

func startChild(name, role, logPath string, env []string) (*child, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(append(os.Environ(), roleEnv+"="+role), env...)
	cmd.Stderr = f
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{name: name, cmd: cmd, stdin: stdin, lines: make(chan string, 1<<16), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.done <- cmd.Wait()
	}()
	return c, nil
}

// waitReady waits for the child's "ready".
func (c *child) waitReady(limit time.Duration, logPath string) error {
	select {
	case l, ok := <-c.lines:
		if ok && l == "ready" {
			return nil
		}
		return fmt.Errorf("%s did not get ready (%q); its log:\n%s", c.name, l, tail(logPath, 20))
	case <-time.After(limit):
		return fmt.Errorf("%s did not get ready within %s; its log:\n%s", c.name, limit, tail(logPath, 20))
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

type failover struct {
	at       time.Duration // since the work began
	killed   string
	pid      int
	writable time.Duration // kill -> the new primary took a read-write session
	resumed  time.Duration // kill -> a workflow finished that had not before
	rejoined time.Duration // kill -> the killed node was a standby again
}

func orchestrate() error {
	duration := flag.Duration("duration", time.Minute, "how long the producer enqueues")
	failovers := flag.Int("failovers", 1, "primaries killed, spread over -duration")
	workers := flag.Int("workers", 3, "worker processes")
	rate := flag.Float64("rate", 40, "enqueues per second (half Flow workflows on the limited queue, half Task calls on the free one)")
	port := flag.Int("port", 15400, "the monitor's port; the nodes take the next two")
	bin := flag.String("pgbin", "/usr/lib/postgresql/15/bin", "the Postgres binaries pg_autoctl runs")
	keep := flag.Bool("keep", false, "keep the run directory even when the checks pass")
	flag.Parse()
	if _, err := exec.LookPath("pg_autoctl"); err != nil {
		return fmt.Errorf("pg_autoctl not found: install Debian's postgresql-15-auto-failover (apt-get install -y postgresql-15-auto-failover)")
	}
	dir, err := os.MkdirTemp("", "dbos-failover-*")
	if err != nil {
		return err
	}
	run := strconv.FormatInt(time.Now().Unix()%100000, 36)
	logf := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	logf("failovertest: run %s in %s: %d workers, a producer at %.0f enqueues/s for %s, %d failover(s)", run, dir, *workers, *rate, *duration, *failovers)

	c, err := newCluster(dir, *bin, *port, logf)
	if err != nil {
		return err
	}
	defer c.Stop()
	ctx := context.Background()
	began := time.Now()
	if err := c.Create(ctx); err != nil {
		return fmt.Errorf("create the formation: %w", err)
	}
	syncNames, _ := queryString(ctx, c.nodeURL(c.nodes[0], DatabaseName), "SHOW synchronous_standby_names")
	logf("formation ready in %s: monitor :%d, %s :%d primary, %s :%d standby (synchronous_standby_names = %q)",
		time.Since(began).Round(100*time.Millisecond), c.basePort, c.nodes[0].name, c.nodes[0].port, c.nodes[1].name, c.nodes[1].port, syncNames)
	url := c.URL()
	logf("workers' URL: %s", url)

	effects := filepath.Join(dir, "effects.log")
	env := []string{urlEnv + "=" + url, effectsEnv + "=" + effects, runEnv + "=" + run, rateEnv + "=" + strconv.FormatFloat(*rate, 'f', -1, 64)}
	var ws []*child
	for i := range *workers {
		logPath := filepath.Join(dir, fmt.Sprintf("worker-%d.log", i))
		w, err := startChild(fmt.Sprintf("worker %d", i), "worker", logPath, env)
		if err != nil {
			return err
		}
		if err := w.waitReady(time.Minute, logPath); err != nil {
			return err
		}
		ws = append(ws, w)
	}
	prodLog := filepath.Join(dir, "producer.log")
	p, err := startChild("producer", "producer", prodLog, env)
	if err != nil {
		return err
	}
	if err := p.waitReady(time.Minute, prodLog); err != nil {
		return err
	}

	// The producer's lines, counted as they come.
	var mu sync.Mutex
	ok, done := map[string]bool{}, map[string]bool{}
	var enqueueErrors, awaitErrors []string
	producerDone := make(chan struct{})
	go func() {
		for l := range p.lines {
			kind, rest, _ := strings.Cut(l, " ")
			id, _, _ := strings.Cut(rest, " ")
			mu.Lock()
			switch kind {
			case "ok":
				ok[id] = true
			case "done":
				done[id] = true
			case "enqueue-error":
				enqueueErrors = append(enqueueErrors, rest)
			case "await-error":
				awaitErrors = append(awaitErrors, rest)
			case "producer-done":
				close(producerDone)
			}
			mu.Unlock()
		}
	}()

	start := time.Now()
	var fos []failover
	for k := range *failovers {
		at := start.Add(time.Duration(k+1) * *duration / time.Duration(*failovers+1))
		time.Sleep(time.Until(at))
		f, err := doFailover(ctx, c, url, start)
		if err != nil {
			return fmt.Errorf("failover %d: %w", k+1, err)
		}
		fos = append(fos, f)
		mu.Lock()
		n := len(ok)
		mu.Unlock()
		logf("failover %d at %s: SIGKILLed %s (the primary; its pg_autoctl and postmaster %d); the standby took writes after %s; work resumed after %s; %s back as the standby after %s (%d enqueues returned so far)",
			k+1, f.at.Round(time.Second), f.killed, f.pid, f.writable.Round(10*time.Millisecond), f.resumed.Round(10*time.Millisecond), f.killed, f.rejoined.Round(100*time.Millisecond), n)
	}
	time.Sleep(time.Until(start.Add(*duration)))
	logf("enqueueing stopped after %s; draining", time.Since(start).Round(time.Second))
	p.stdin.Close()
	drainStart := time.Now()
	select {
	case <-producerDone:
	case <-time.After(5 * time.Minute):
		mu.Lock()
		logf("the producer's results did not all come within 5 minutes: %d of %d", len(done), len(ok))
		mu.Unlock()
	}
	logf("drained in %s", time.Since(drainStart).Round(100*time.Millisecond))
	if err := <-p.done; err != nil {
		logf("producer exited: %v; its log:\n%s", err, tail(prodLog, 20))
	}
	for _, w := range ws {
		w.stdin.Close()
	}
	for i, w := range ws {
		for range w.lines {
		}
		if err := <-w.done; err != nil {
			logf("worker %d exited: %v", i, err)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	rep, err := check(ctx, url, effects, ok)
	if err != nil {
		return err
	}
	flows := 0
	for id := range ok {
		if strings.HasPrefix(id, "flow-") {
			flows++
		}
	}
	logf("")
	logf("failovers: %d", len(fos))
	for i, f := range fos {
		logf("  %d. at %-6s killed %s: failover (kill -> writes accepted) %s, work resumed after %s, old primary back as standby after %s",
			i+1, f.at.Round(time.Second), f.killed, f.writable.Round(10*time.Millisecond), f.resumed.Round(10*time.Millisecond), f.rejoined.Round(100*time.Millisecond))
	}
	logf("enqueues returned: %d (%d Flow workflows on the limited queue, %d Task calls on the free one); enqueue calls that failed and were retried under the same ID: %d",
		len(ok), flows, len(ok)-flows, len(enqueueErrors))
	logf("results through the handles: %d done, %d await errors", len(done), len(awaitErrors))
	logf("step bodies run again (at least once, allowed): %d; workflow attempts: %d for %d Flow workflows", rep.rerunSteps, rep.flowAttempts, flows)
	logf("outage warnings in the workers' and producer's logs: %d begin, %d end; worker 0's log:", countIn(dir, "waits and retries"), countIn(dir, "answers again"))
	logf("%s", indent(tail(filepath.Join(dir, "worker-0.log"), 12)))
	logf("max Flow workflows running at once: %d (limit %d)", rep.maxRunning, LimitedConcurrency)
	logf("lost %d, duplicated %d, limit violations %d, checkpoint mismatches %d, stuck %d",
		len(rep.lost), len(rep.duplicated), rep.violations, len(rep.checkpoints), len(rep.stuck))
	var fails []string
	add := func(what string, items []string) {
		if len(items) > 0 {
			sort.Strings(items)
			fails = append(fails, fmt.Sprintf("%s (%d): %s", what, len(items), strings.Join(first(items, 10), "; ")))
		}
	}
	add("lost", rep.lost)
	add("duplicated", rep.duplicated)
	add("checkpoint mismatches", rep.checkpoints)
	add("stuck", rep.stuck)
	add("await errors", awaitErrors)
	if rep.violations > 0 {
		fails = append(fails, fmt.Sprintf("limit violations: %d", rep.violations))
	}
	if len(fails) > 0 {
		logf("FAIL (run directory kept: %s)", dir)
		for _, f := range fails {
			logf("  %s", f)
		}
		c.Stop()
		os.Exit(1)
	}
	logf("PASS")
	c.Stop()
	if !*keep {
		_ = os.RemoveAll(dir)
	} else {
		logf("run directory kept: %s", dir)
	}
	return nil
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... %d more", len(s)-n))
	}
	return s
}

// countIn counts the lines containing s in the run's *.log files of the
// workers and the producer.
func countIn(dir, s string) int {
	n := 0
	paths, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, p := range paths {
		base := filepath.Base(p)
		if !strings.HasPrefix(base, "worker-") && base != "producer.log" {
			continue
		}
		b, _ := os.ReadFile(p)
		n += strings.Count(string(b), s)
	}
	return n
}

// doFailover kills the primary and measures the failover: when the
// standby took a read-write session, when work resumed (a workflow
// succeeded after that first session), and when the killed node was a
// standby again.
func doFailover(ctx context.Context, c *cluster, url string, start time.Time) (failover, error) {
	primary, err := c.Primary(ctx)
	if err != nil {
		return failover{}, err
	}
	pid, err := postmasterPID(primary.pgdat)
	if err != nil {
		return failover{}, err
	}
	t0 := time.Now()
	if err := c.Kill(primary); err != nil {
		return failover{}, err
	}
	f := failover{at: t0.Sub(start), killed: primary.name, pid: pid}
	deadline := t0.Add(3 * time.Minute)
	var before int64 // the successes at the first read-write session after the kill
	for f.resumed == 0 {
		if time.Now().After(deadline) {
			return f, errors.New("no read-write primary with progress within 3 minutes of the kill")
		}
		n, err := successes(ctx, url)
		if err == nil {
			if f.writable == 0 {
				f.writable, before = time.Since(t0), n
			} else if n > before {
				f.resumed = time.Since(t0)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := c.Restart(primary); err != nil {
		return f, err
	}
	if err := c.waitState(ctx, 3*time.Minute, primary.name, "secondary"); err != nil {
		return f, fmt.Errorf("%w; see %s", err, primary.log)
	}
	if err := c.waitState(ctx, time.Minute, c.Other(primary).name, "primary"); err != nil {
		return f, err
	}
	f.rejoined = time.Since(t0)
	return f, nil
}

// successes counts the workflows that succeeded, on a read-write session.
func successes(ctx context.Context, url string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(url + "&target_session_attrs=read-write")
	if err != nil {
		return 0, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var n int64
	err = conn.QueryRow(ctx, "SELECT count(*) FROM dbos.workflows WHERE state = 'SUCCESS'").Scan(&n)
	return n, err
}

func queryString(ctx context.Context, url, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var s string
	err = conn.QueryRow(ctx, sql).Scan(&s)
	return s, err
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
