package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/overlap"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// The chaos test runs in one of two modes:
//
//   - short (the default, under go test ./... and CI): K=3 workers run 30
//     workflows of 5 steps; 3 kills and, on Postgres with
//     DBOS_CHAOS_RESTART_PG=1, one server restart happen at random moments
//     while the work progresses; well under a minute per engine.
//
//   - long, with -chaos.duration: workflows keep being enqueued in batches
//     and workers keep being killed (and the server restarted) for that
//     long, then everything is drained and checked:
//
//     DBOS_CHAOS_RESTART_PG=1 go test ./runtime/internal/chaos -run Chaos/postgres -chaos.duration=10m -timeout=20m -v
//
// Restarting the Postgres server breaks every other test using it at the
// time, so it only happens when DBOS_CHAOS_RESTART_PG=1 (run this package
// alone), and even then waits until no other client is connected to
// another database of the server (DBOS_CHAOS_RESTART_PG=force skips that
// wait). DBOS_CHAOS_PG_RESTART_CMD replaces the restart command (default:
// pg_ctlcluster --skip-systemctl-redirect VERSION main restart, or with
// -chaos.outage, main stop, then main start after the outage).
var (
	flagDuration  = flag.Duration("chaos.duration", 0, "long mode: keep the chaos going this long (e.g. 10m; raise -timeout); 0: short mode")
	flagWorkers   = flag.Int("chaos.workers", 3, "worker processes")
	flagWorkflows = flag.Int("chaos.workflows", 0, "short mode: workflows of the run (default 30); long mode: workflows per enqueued batch (default 50)")
	flagSteps     = flag.Int("chaos.steps", 5, "steps per workflow")
	flagKills     = flag.Int("chaos.kills", 3, "short mode: workers killed")
	flagRestarts  = flag.Int("chaos.restarts", -1, "Postgres server restarts when DBOS_CHAOS_RESTART_PG is set (default: 1 in short mode, one per 2 minutes in long mode)")
	flagReplace   = flag.String("chaos.replace", "same", "how a killed worker is replaced: same (its executor ID: it resumes its work at launch), fresh (a new ID: the living take the dead one's work over when its lease expires), or mixed (either, at random)")
	flagPoll      = flag.Duration("chaos.poll", 0, "workers' Config.PollInterval (0: the runtime's default)")
	flagLease     = flag.Duration("chaos.lease", 0, "workers' Config.LeaseDuration (0: the runtime's default)")
	flagStall     = flag.Duration("chaos.stall", 90*time.Second, "fail the run when no workflow ends (and nothing else progresses) for this long")
	flagOutage    = flag.Duration("chaos.outage", 0, "make each server restart a stop, this long an outage, and a start (e.g. 8s: longer than the lease)")
	flagSeed      = flag.Uint64("chaos.seed", 0, "seed of the chaos (0: random; printed)")
	flagKeep      = flag.Bool("chaos.keep", false, "keep the run directory (side-effect log, worker logs) even when the test passes")
)

// Environment variables of the server restart.
const (
	restartEnv    = "DBOS_CHAOS_RESTART_PG"
	restartCmdEnv = "DBOS_CHAOS_PG_RESTART_CMD"
)

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" {
		if err := worker(); err != nil {
			fmt.Fprintln(os.Stderr, "chaos worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	testdb.Main(m)
}

// Replacement says how a killed worker is replaced.
type Replacement int

const (
	// SameID restarts the worker with the killed one's executor ID, as a
	// supervisor would: it resumes the PENDING work it left at Launch.
	SameID Replacement = iota
	// FreshID starts a worker with a new executor ID: the killed one's
	// PENDING work must be taken over by the living executors once its
	// lease expires.
	FreshID
	// Mixed picks SameID or FreshID at random for each replacement.
	Mixed
)

func (r Replacement) String() string {
	switch r {
	case FreshID:
		return "fresh"
	case Mixed:
		return "mixed"
	default:
		return "same"
	}
}

func parseReplacement(s string) (Replacement, error) {
	for _, r := range []Replacement{SameID, FreshID, Mixed} {
		if s == r.String() {
			return r, nil
		}
	}
	return 0, fmt.Errorf("-chaos.replace=%q: want same, fresh or mixed", s)
}

// config is one chaos run's plan.
type config struct {
	long       bool
	duration   time.Duration // long mode: how long the chaos goes on
	workers    int
	workflows  int // short: all of them; long: per batch
	steps      int
	stepMin    time.Duration
	stepMax    time.Duration
	kills      int           // short mode
	killGapMin time.Duration // long mode: between kills
	killGapMax time.Duration
	restarts   int // server restarts (Postgres, when allowed)
	replace    Replacement
	poll       time.Duration
	lease      time.Duration
	seed       uint64

	budget time.Duration // the whole run must end within it
	stall  time.Duration // no progress for this long fails the run
}

func configFromFlags() (config, error) {
	c := config{
		long:     *flagDuration > 0,
		duration: *flagDuration,
		workers:  max(1, *flagWorkers),
		steps:    max(1, *flagSteps),
		stepMin:  40 * time.Millisecond,
		stepMax:  120 * time.Millisecond,
		kills:    max(0, *flagKills),
		restarts: *flagRestarts,
		poll:     *flagPoll,
		lease:    *flagLease,
		seed:     *flagSeed,
		stall:    *flagStall,
	}
	var err error
	if c.replace, err = parseReplacement(*flagReplace); err != nil {
		return c, err
	}
	if c.long {
		c.workflows = 50
		c.stepMin, c.stepMax = 5*time.Millisecond, 100*time.Millisecond
		c.killGapMin, c.killGapMax = 300*time.Millisecond, 4*time.Second
		if c.restarts < 0 {
			c.restarts = max(1, int(c.duration/(2*time.Minute)))
		}
		c.budget = c.duration + c.duration/10 + 3*time.Minute // the drain and the check after the chaos
	} else {
		c.workflows = 30
		if c.restarts < 0 {
			c.restarts = 1
		}
		c.budget = 3 * time.Minute
	}
	if *flagWorkflows > 0 {
		c.workflows = *flagWorkflows
	}
	if c.seed == 0 {
		c.seed = mrand.Uint64()
	}
	return c, nil
}

// TestChaos kills worker processes with SIGKILL at random moments (and, on
// Postgres, restarts the server) while they run workflows on a limited
// queue, then checks that nothing was lost, that step bodies ran again only
// where their process died, that every step has exactly one checkpoint,
// and that the queue's limit held.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-process chaos test: runs without -short")
	}
	cfg, err := configFromFlags()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("sqlite", func(t *testing.T) {
		dir := runDir(t)
		runChaos(t, cfg, "sqlite", "sqlite:"+filepath.Join(dir, "dbos.sqlite"), dir)
	})
	t.Run("postgres", func(t *testing.T) {
		u := testdb.PostgresURL(t)
		runChaos(t, cfg, "postgres", u, runDir(t))
	})
}

// runDir makes the directory of a run's files: removed when the test
// passes (unless -chaos.keep), kept for inspection when it fails.
func runDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "dbos-chaos-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || *flagKeep {
			t.Logf("run directory kept: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

// proc is one worker process: an incarnation of a worker slot.
type proc struct {
	slot, inc  int
	executorID string
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	pid        int
	logPath    string
	ready      bool
	killed     bool // the test sent it SIGKILL
	exited     bool
	exitAt     time.Time
	busy       *command        // the command it is carrying out
	running    map[string]bool // workflows it announced and did not finish
}

func (p *proc) String() string {
	return fmt.Sprintf("worker %d.%d (pid %d, executor %s)", p.slot, p.inc, p.pid, p.executorID)
}

// command is a line sent to a worker, resent to another one if its worker
// dies before answering.
type command struct {
	verb     string // "enqueue" or "await"
	from, to int
	owner    *proc
	answered bool
}

func (c *command) line() string { return fmt.Sprintf("%s %d %d", c.verb, c.from, c.to) }

// msg is what the controller hears: a worker's line, its exit, or the end
// of a server restart.
type msg struct {
	p       *proc
	line    string
	exit    bool
	err     error
	restart *restartResult
	at      time.Time // when the reader saw it
}

type restartResult struct {
	done   bool // false: skipped
	took   time.Duration
	reason string
	err    error
}

// harness runs one chaos run: the controller owns all of its state, and
// only its loop touches it.
type harness struct {
	t           *testing.T
	cfg         config
	engine, url string
	dir         string
	effects     string
	run         string
	rng         *mrand.Rand
	ctx         context.Context
	began       time.Time

	msgs  chan msg
	slots []*proc // the current incarnation of each slot
	procs []*proc // every process started

	commands []*command
	issued   int             // workflows [0, issued) are requested
	ended    map[string]bool // workflows with a finished attempt
	awaited  bool
	awaitErr []string

	// Chaos.
	chaosOn       bool
	due           bool   // an action is due
	nextAction    string // "kill" or "restart"
	plan          []planned
	timer         *time.Timer
	restarting    bool
	deferred      []int // slots whose replacement waits for the restart to end
	kills         int
	restarts      int
	restartsSkip  []string
	restartTook   []time.Duration
	restartsLeft  int
	nextRestartAt time.Time // long mode
	chaosEnd      time.Time // long mode

	failures []string // the run's own failures (unexpected exits, protocol)
}

// planned is a short-mode action, due when that many workflows ended.
type planned struct {
	action string
	after  int
}

func runChaos(t *testing.T, cfg config, engine, dbURL, dir string) {
	if d, ok := t.Deadline(); ok && time.Until(d) < cfg.budget {
		t.Fatalf("the chaos run may take up to %s but the test's deadline is in %s: raise -timeout (e.g. -timeout=%s)",
			cfg.budget, time.Until(d).Round(time.Second), (cfg.budget + 5*time.Minute).Round(time.Minute))
	}
	restartMode := os.Getenv(restartEnv)
	if engine != "postgres" || (restartMode != "1" && restartMode != "force") {
		if engine == "postgres" && cfg.restarts > 0 {
			t.Logf("no server restart: set %s=1 to restart Postgres mid-run (breaks other tests using the server: run this package alone)", restartEnv)
		}
		cfg.restarts = 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.budget)
	defer cancel()
	h := &harness{
		t: t, cfg: cfg, engine: engine, url: dbURL, dir: dir,
		effects: filepath.Join(dir, "effects.log"),
		run:     testdb.RandomHex(4),
		rng:     mrand.New(mrand.NewPCG(cfg.seed, uint64(len(engine)))),
		ctx:     ctx,
		began:   time.Now(),
		msgs:    make(chan msg, 1<<14),
		ended:   map[string]bool{},
	}
	t.Logf("chaos %s: run %s, seed %d, %s mode, %d workers, replacement %s, dir %s",
		engine, h.run, cfg.seed, map[bool]string{false: "short", true: "long"}[cfg.long], cfg.workers, cfg.replace, dir)

	runErr := h.drive()
	if runErr != nil {
		h.killAll()
	}
	h.check(runErr)
}

// drive runs the workers, the work and the chaos until every workflow has
// finished and the workers have stopped, or returns why it could not.
func (h *harness) drive() error {
	h.timer = time.NewTimer(time.Hour)
	h.timer.Stop()
	h.slots = make([]*proc, h.cfg.workers)
	for i := range h.slots {
		if err := h.start(i); err != nil {
			return err
		}
	}
	// Wait until every worker is ready, then request the work.
	if err := h.loop(func() bool { return h.allReady() }, "the workers to launch"); err != nil {
		return err
	}
	h.planChaos()
	if h.cfg.long {
		h.issueBatch()
		h.issueBatch()
	} else {
		h.issue(0, h.cfg.workflows, "enqueue")
	}
	h.chaosOn = true
	h.scheduleNext()
	if err := h.loop(func() bool { return !h.chaosOn }, "the chaos to end"); err != nil {
		return err
	}
	// Drain: every worker back, every enqueue answered, then wait for all.
	if err := h.loop(func() bool { return h.allReady() && !h.restarting && h.unanswered("enqueue") == 0 }, "the workers to come back and the enqueues to finish"); err != nil {
		return err
	}
	h.issue(0, h.issued, "await")
	if err := h.loop(func() bool { return h.awaited }, fmt.Sprintf("all %d workflows to finish", h.issued)); err != nil {
		return err
	}
	// Stop: close every worker's stdin; each shuts down and exits 0.
	for _, p := range h.slots {
		p.stdin.Close()
	}
	return h.loop(func() bool { return h.allExited() }, "the workers to shut down")
}

// loop handles messages until cond holds, failing on the run's deadline
// and when nothing progresses for cfg.stall.
func (h *harness) loop(cond func() bool, what string) error {
	stall := time.NewTimer(h.cfg.stall)
	defer stall.Stop()
	for !cond() {
		select {
		case m := <-h.msgs:
			if h.handle(m) {
				stall.Reset(h.cfg.stall)
			}
		case <-h.timer.C:
			h.due = true
		case <-stall.C:
			return fmt.Errorf("stalled: nothing progressed for %s while waiting for %s (%d of %d workflows ended)", h.cfg.stall, what, len(h.ended), h.issued)
		case <-h.ctx.Done():
			return fmt.Errorf("the run took longer than its budget %s while waiting for %s (%d of %d workflows ended)", h.cfg.budget, what, len(h.ended), h.issued)
		}
		if err := h.act(); err != nil {
			return err
		}
	}
	return nil
}

// start starts the next incarnation of a worker slot.
func (h *harness) start(slot int) error {
	inc := 0
	if old := h.slots[slot]; old != nil {
		inc = old.inc + 1
	}
	executorID := fmt.Sprintf("chaos-%s-w%d", h.run, slot)
	if old := h.slots[slot]; old != nil {
		executorID = old.executorID // SameID
		if h.cfg.replace == FreshID || h.cfg.replace == Mixed && h.rng.IntN(2) == 0 {
			executorID = fmt.Sprintf("chaos-%s-w%d.%d", h.run, slot, inc)
		}
	}
	p := &proc{slot: slot, inc: inc, executorID: executorID, running: map[string]bool{}, logPath: filepath.Join(h.dir, fmt.Sprintf("worker-%d.%d.log", slot, inc))}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.CommandContext(h.ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		workerEnv+"=1",
		workerURLEnv+"="+h.url,
		workerEffectsEnv+"="+h.effects,
		workerRunEnv+"="+h.run,
		workerStepsEnv+"="+strconv.Itoa(h.cfg.steps),
		workerStepMinEnv+"="+h.cfg.stepMin.String(),
		workerStepMaxEnv+"="+h.cfg.stepMax.String(),
		workerPollEnv+"="+h.cfg.poll.String(),
		workerLeaseEnv+"="+h.cfg.lease.String(),
		"DBOS_EXECUTOR_ID="+executorID,
	)
	cmd.Stderr = logFile
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start worker %d: %w", slot, err)
	}
	p.cmd, p.stdin, p.pid = cmd, stdin, cmd.Process.Pid
	h.slots[slot] = p
	h.procs = append(h.procs, p)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			h.msgs <- msg{p: p, line: sc.Text()}
		}
		err := cmd.Wait()
		h.msgs <- msg{p: p, exit: true, err: err, at: time.Now()}
	}()
	return nil
}

// handle applies one message; it reports whether the run progressed: a
// workflow ended for the first time, a worker became ready, a command was
// answered, or (when stopping) a worker exited.
func (h *harness) handle(m msg) bool {
	switch {
	case m.restart != nil:
		h.restartEnded(*m.restart)
		return true
	case m.exit:
		p := m.p
		p.exited, p.exitAt, p.ready = true, m.at, false
		if c := p.busy; c != nil && !c.answered {
			c.owner = nil // resent to another worker
		}
		p.busy = nil
		if !p.killed && (m.err != nil || !h.stopping()) {
			h.failures = append(h.failures, fmt.Sprintf("%s exited on its own (%v); its log:\n%s", p, m.err, tail(p.logPath, 30)))
		}
		if h.slots[p.slot] == p && !h.stopping() {
			if h.restarting {
				h.deferred = append(h.deferred, p.slot)
			} else if err := h.start(p.slot); err != nil {
				h.failures = append(h.failures, err.Error())
			}
		}
		h.dispatch()
		return h.stopping()
	}
	p, fields := m.p, strings.Fields(m.line)
	if len(fields) == 0 {
		return false
	}
	switch fields[0] {
	case "ready":
		p.ready = true
		h.dispatch()
	case "start":
		if len(fields) == 2 {
			p.running[fields[1]] = true
		}
		return false
	case "end":
		if len(fields) == 2 {
			delete(p.running, fields[1])
		}
		if len(fields) != 2 || h.ended[fields[1]] {
			return false
		}
		h.ended[fields[1]] = true
		h.progressed()
	case "enqueued", "awaited":
		if c := p.busy; c != nil && c.line() == strings.Replace(m.line, fields[0], c.verb, 1) {
			c.answered, p.busy = true, nil
			if c.verb == "await" {
				h.awaited = true
			}
		} else {
			h.failures = append(h.failures, fmt.Sprintf("%s answered %q to no command of its own", p, m.line))
		}
		if h.cfg.long && h.chaosOn {
			h.issueMore()
		}
		h.dispatch()
	case "await-error":
		h.awaitErr = append(h.awaitErr, m.line)
		return false
	default:
		h.failures = append(h.failures, fmt.Sprintf("%s printed %q", p, m.line))
	}
	return true
}

// stopping reports whether the workers are being shut down.
func (h *harness) stopping() bool { return h.awaited }

func (h *harness) allReady() bool {
	for _, p := range h.slots {
		if p == nil || !p.ready {
			return false
		}
	}
	return true
}

func (h *harness) allExited() bool {
	for _, p := range h.procs {
		if !p.exited {
			return false
		}
	}
	return true
}

// issue requests a command and sends it when a worker is free.
func (h *harness) issue(from, to int, verb string) {
	h.commands = append(h.commands, &command{verb: verb, from: from, to: to})
	if verb == "enqueue" {
		h.issued = max(h.issued, to)
	}
	h.dispatch()
}

func (h *harness) unanswered(verb string) int {
	n := 0
	for _, c := range h.commands {
		if c.verb == verb && !c.answered {
			n++
		}
	}
	return n
}

// dispatch sends each unsent command to a ready worker without one.
func (h *harness) dispatch() {
	for _, c := range h.commands {
		if c.answered || c.owner != nil {
			continue
		}
		for _, p := range h.slots {
			if p.ready && !p.exited && p.busy == nil {
				if _, err := io.WriteString(p.stdin, c.line()+"\n"); err != nil {
					continue // dying: its exit will come
				}
				c.owner, p.busy = p, c
				break
			}
		}
	}
}

// issueBatch enqueues the next batch of the long mode.
func (h *harness) issueBatch() { h.issue(h.issued, h.issued+h.cfg.workflows, "enqueue") }

// issueMore keeps at least one batch's worth of work waiting in long mode.
func (h *harness) issueMore() {
	if h.issued-len(h.ended) < h.cfg.workflows && h.unanswered("enqueue") == 0 {
		h.issueBatch()
	}
}

// progressed is called when another workflow ended.
func (h *harness) progressed() {
	if h.cfg.long {
		if h.chaosOn {
			h.issueMore()
		}
		return
	}
	if h.chaosOn && !h.due && h.nextAction == "" && len(h.plan) > 0 && len(h.ended) >= h.plan[0].after {
		// A random moment soon after the threshold: not tied to the end
		// of a workflow.
		h.nextAction = h.plan[0].action
		h.plan = h.plan[1:]
		h.timer.Reset(time.Duration(h.rng.Int64N(int64(300 * time.Millisecond))))
	}
}

// planChaos draws the moments of the chaos.
func (h *harness) planChaos() {
	h.restartsLeft = h.cfg.restarts
	if h.cfg.long {
		h.chaosEnd = time.Now().Add(h.cfg.duration)
		h.planRestart()
		return
	}
	var actions []string
	for range h.cfg.kills {
		actions = append(actions, "kill")
	}
	for range h.cfg.restarts {
		actions = append(actions, "restart")
	}
	h.rng.Shuffle(len(actions), func(i, j int) { actions[i], actions[j] = actions[j], actions[i] })
	for _, a := range actions {
		// Kills when 10% to 85% of the workflows ended; a restart
		// (which lasts seconds) when 10% to 50% did.
		span := h.cfg.workflows * 3 / 4
		if a == "restart" {
			span = h.cfg.workflows * 2 / 5
		}
		h.plan = append(h.plan, planned{action: a, after: h.cfg.workflows/10 + h.rng.IntN(max(1, span))})
	}
	slices.SortStableFunc(h.plan, func(a, b planned) int { return a.after - b.after })
}

// planRestart draws the moment of the next server restart in long mode:
// the remaining restarts are spread over the remaining time.
func (h *harness) planRestart() {
	if h.restartsLeft <= 0 {
		h.nextRestartAt = time.Time{}
		return
	}
	slice := time.Until(h.chaosEnd) / time.Duration(h.restartsLeft)
	h.nextRestartAt = time.Now().Add(slice/4 + time.Duration(h.rng.Int64N(int64(slice/2)+1)))
}

// scheduleNext arms the timer for the next action, or ends the chaos.
func (h *harness) scheduleNext() {
	h.due, h.nextAction = false, ""
	if h.cfg.long {
		if !time.Now().Before(h.chaosEnd) {
			h.chaosOn = false
			return
		}
		gap := h.cfg.killGapMin + time.Duration(h.rng.Int64N(int64(h.cfg.killGapMax-h.cfg.killGapMin)+1))
		h.nextAction = "kill"
		if !h.nextRestartAt.IsZero() && time.Now().Add(gap).After(h.nextRestartAt) {
			h.nextAction, gap = "restart", time.Until(h.nextRestartAt)
		}
		if end := time.Until(h.chaosEnd); gap > end {
			h.nextAction, gap = "end", end
		}
		h.timer.Reset(max(gap, 0))
		return
	}
	if len(h.plan) == 0 {
		h.chaosOn = false
		return
	}
	h.progressed() // the next threshold may be passed already
}

// act performs the due action when it can.
func (h *harness) act() error {
	if !h.due || !h.chaosOn {
		return nil
	}
	switch h.nextAction {
	case "end":
		h.chaosOn = false
		h.due = false
		return nil
	case "kill":
		// The victim: most often a worker running workflows (killing an
		// idle one tests little), else any, even one still launching.
		var alive, busy []*proc
		for _, p := range h.slots {
			if !p.exited && !p.killed {
				alive = append(alive, p)
				if len(p.running) > 0 {
					busy = append(busy, p)
				}
			}
		}
		if len(alive) == 0 {
			return nil // wait for a replacement
		}
		if len(busy) > 0 && h.rng.IntN(5) > 0 {
			alive = busy
		}
		p := alive[h.rng.IntN(len(alive))]
		p.killed = true
		if err := p.cmd.Process.Kill(); errors.Is(err, os.ErrProcessDone) {
			p.killed = false // it died on its own: its exit is reported
			return nil
		} else if err != nil { // SIGKILL
			return fmt.Errorf("kill %s: %w", p, err)
		}
		h.kills++
		h.t.Logf("%6.2fs kill %s (ready: %v, running %d workflows; %d ended)", time.Since(h.began).Seconds(), p, p.ready, len(p.running), len(h.ended))
		h.scheduleNext()
	case "restart":
		if h.restarting || !h.allReady() {
			// When every worker is up: a Launch would fail during the
			// restart. (Kills go on meanwhile; their replacements wait.)
			return nil
		}
		h.restarting, h.nextRestartAt = true, time.Time{}
		h.t.Logf("%6.2fs restart the Postgres server (%d workflows ended)", time.Since(h.began).Seconds(), len(h.ended))
		go func() { h.msgs <- msg{restart: restartServer(h.ctx, h.url, *flagOutage)} }()
		h.scheduleNext()
	}
	return nil
}

func (h *harness) restartEnded(r restartResult) {
	h.restarting = false
	h.restartsLeft--
	switch {
	case r.err != nil:
		h.failures = append(h.failures, fmt.Sprintf("server restart: %v", r.err))
	case !r.done:
		h.restartsSkip = append(h.restartsSkip, r.reason)
		h.t.Logf("%6.2fs server restart skipped: %s", time.Since(h.began).Seconds(), r.reason)
	default:
		h.restarts++
		h.restartTook = append(h.restartTook, r.took)
		h.t.Logf("%6.2fs server restarted (took %s)", time.Since(h.began).Seconds(), r.took.Round(time.Millisecond))
	}
	for _, slot := range h.deferred {
		if err := h.start(slot); err != nil {
			h.failures = append(h.failures, err.Error())
		}
	}
	h.deferred = nil
	if h.cfg.long {
		h.planRestart()
	}
}

// killAll ends every worker still running after the run failed.
func (h *harness) killAll() {
	for _, p := range h.procs {
		if !p.exited {
			p.killed = true
			_ = p.cmd.Process.Kill()
		}
	}
	deadline := time.After(30 * time.Second)
	for !h.allExited() {
		select {
		case m := <-h.msgs:
			if m.exit {
				m.p.exited, m.p.exitAt = true, m.at
			}
		case <-deadline:
			h.t.Errorf("workers did not exit after SIGKILL")
			return
		}
	}
}

// restartServer restarts the Postgres server (stopped for outage, if not
// 0), once no other client uses another database of it (unless
// DBOS_CHAOS_RESTART_PG=force), and waits until it answers again.
func restartServer(ctx context.Context, dbURL string, outage time.Duration) *restartResult {
	r := &restartResult{}
	if os.Getenv(restartEnv) != "force" {
		busy, err := waitServerIdle(ctx, dbURL, 30*time.Second)
		if err != nil {
			r.err = err
			return r
		}
		if busy != "" {
			r.reason = "other clients use the server: " + busy
			return r
		}
	}
	command := os.Getenv(restartCmdEnv)
	if command == "" {
		versions, _ := filepath.Glob("/etc/postgresql/*")
		if len(versions) != 1 {
			r.err = fmt.Errorf("cannot tell the Postgres cluster to restart (found %v under /etc/postgresql); set %s", versions, restartCmdEnv)
			return r
		}
		ctl := "pg_ctlcluster --skip-systemctl-redirect " + filepath.Base(versions[0]) + " main "
		command = ctl + "restart"
		if outage > 0 {
			command = fmt.Sprintf("%sstop && sleep %g && %sstart", ctl, outage.Seconds(), ctl)
		}
	}
	began := time.Now()
	cctx, cancel := context.WithTimeout(ctx, time.Minute+outage)
	defer cancel()
	if out, err := exec.CommandContext(cctx, "sh", "-c", command).CombinedOutput(); err != nil {
		r.err = fmt.Errorf("%s: %v\n%s", command, err, out)
		return r
	}
	// Wait until it answers (pg_ctlcluster waits for the start already).
	for {
		c, err := pgx.Connect(cctx, dbURL)
		if err == nil {
			c.Close(cctx)
			break
		}
		if cctx.Err() != nil {
			r.err = fmt.Errorf("the server did not answer within a minute of %q: %w", command, err)
			return r
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-cctx.Done():
		}
	}
	r.done, r.took = true, time.Since(began)
	return r
}

// waitServerIdle waits up to patience until no client is connected to a
// database of the server other than ours. It returns a description of the
// other clients when they stayed.
func waitServerIdle(ctx context.Context, dbURL string, patience time.Duration) (busy string, err error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", err
	}
	ours := strings.TrimPrefix(u.Path, "/")
	deadline := time.Now().Add(patience)
	for {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return "", fmt.Errorf("before the restart: %w", err)
		}
		var others []string
		rows, err := conn.Query(ctx, `SELECT coalesce(datname, '') || ' (' || coalesce(application_name, '') || ')'
			FROM pg_stat_activity
			WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname IS DISTINCT FROM $1`, ours)
		if err == nil {
			others, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		conn.Close(ctx)
		if err != nil {
			return "", fmt.Errorf("before the restart: list the server's clients: %w", err)
		}
		if len(others) == 0 {
			return "", nil
		}
		if time.Now().After(deadline) {
			return strings.Join(others, ", "), nil
		}
		// Other clients come and go on their own: look again shortly.
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// check verifies the run from the database (through a runtime of the test's
// own) and the side-effect log, and prints the figures.
func (h *harness) check(runErr error) {
	t := h.t
	n := h.issued
	ids := make([]string, n)
	for i := range ids {
		ids[i] = WorkflowID(h.run, i)
	}

	// The checker's runtime would claim any workflow still ENQUEUED: Inert
	// makes such a workflow wait instead of running (and it is reported).
	Inert.Store(true)
	defer Inert.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: h.url, ExecutorID: "chaos-" + h.run + "-checker"})
	if err != nil {
		t.Fatalf("launch the checker: %v (run: %v)", err, runErr)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), time.Second)
		defer scancel()
		_ = rt.Shutdown(sctx)
	}()
	ctx = rt.WithContext(ctx)

	var (
		lost          []string
		badCheckpoint []string
		succeeded     = map[string]bool{}
		dbSpans       []overlap.Interval
		attempts      int
	)
	for i, id := range ids {
		job := Job{Run: h.run, Index: i, Steps: h.cfg.steps, StepMin: h.cfg.stepMin, StepMax: h.cfg.stepMax}
		want, values := Expected(job)
		hd, err := RetrieveChaos(ctx, id)
		if err != nil {
			lost = append(lost, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		st, err := hd.Status(ctx)
		if err != nil {
			lost = append(lost, fmt.Sprintf("%s: status: %v", id, err))
			continue
		}
		attempts += st.Attempts
		if st.State != dbos.StateSuccess {
			lost = append(lost, fmt.Sprintf("%s: %s (executor %s, attempts %d, error %q)", id, st.State, st.ExecutorID, st.Attempts, st.Error))
			continue
		}
		got, err := hd.GetResult(ctx)
		if err != nil || got != want {
			lost = append(lost, fmt.Sprintf("%s: SUCCESS with output %d (err %v), want %d", id, got, err, want))
			continue
		}
		succeeded[id] = true
		dbSpans = append(dbSpans, overlap.Interval{Start: st.StartedAt.UnixNano(), End: st.CompletedAt.UnixNano()})
		// Exactly one checkpoint per step, holding the step's value.
		steps, err := dbos.Steps(ctx, id)
		if err != nil {
			badCheckpoint = append(badCheckpoint, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		if len(steps) != h.cfg.steps {
			badCheckpoint = append(badCheckpoint, fmt.Sprintf("%s: %d checkpoints, want %d", id, len(steps), h.cfg.steps))
		}
		for k, s := range steps {
			var v int64
			if s.StepID != k+1 || s.Name != dbosFnStep.Name || s.Error != "" || json.Unmarshal(s.Output, &v) != nil || k >= len(values) || v != values[k] {
				badCheckpoint = append(badCheckpoint, fmt.Sprintf("%s: checkpoint %d is %+v", id, k+1, s))
			}
		}
	}
	// No other workflow appeared on the queue (the listing is newest first
	// and includes earlier runs of this process on the same database).
	listed, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Queue: Queue.Name(), Limit: 1 << 20})
	if err != nil {
		t.Errorf("list workflows: %v", err)
	}
	var strangers []string
	for _, s := range listed {
		if strings.HasPrefix(s.ID, "chaos-"+h.run+"-") {
			if i, err := strconv.Atoi(strings.TrimPrefix(s.ID, "chaos-"+h.run+"-")); err != nil || i >= n {
				strangers = append(strangers, s.ID)
			}
		}
	}

	lines, err := readEffects(h.effects)
	if err != nil {
		t.Errorf("side-effect log: %v", err)
	}
	died, killed := map[int]int64{}, map[int]bool{}
	for _, p := range h.procs {
		if p.exited {
			died[p.pid] = p.exitAt.UnixNano()
		}
		killed[p.pid] = p.killed
	}
	r := analyzeEffects(lines, ids, succeeded, h.cfg.steps, died, killed, Limit, WorkerLimit)
	dbMax, dbViolations := overlap.Max(dbSpans, Limit)
	logs := countLogs(h.procs)

	restartNote := ""
	if len(h.restartTook) > 0 {
		restartNote = fmt.Sprintf(" (took %v)", roundAll(h.restartTook))
	}
	if len(h.restartsSkip) > 0 {
		restartNote += fmt.Sprintf(" (%d skipped)", len(h.restartsSkip))
	}
	figures := fmt.Sprintf("chaos %s run %s (seed %d, %s): runs=%d workflows x %d steps, kills=%d, restarts=%d%s, lost=%d, duplicated checkpoints=%d, unexpected re-runs=%d, limit violations=%d (most running: %d by the log, %d by the database clock, limit %d; in one process: %d, limit %d) | re-runs after a kill=%d, step bodies=%d, attempts=%d (database: %d), workers started=%d, resumed at launch=%d, taken over=%d, database call retries=%d, listener reconnects=%d, took %s",
		h.engine, h.run, h.cfg.seed, h.cfg.replace, n, h.cfg.steps, h.kills, h.restarts, restartNote,
		len(lost), len(badCheckpoint), len(r.unexpected)+len(r.sameProcess)+len(r.overlapping), r.violations+dbViolations+r.workerViolations,
		r.maxRunning, dbMax, Limit, r.maxInProcess, WorkerLimit, r.excused, r.bodies, r.attemptsCount, attempts, len(h.procs), logs.resumed, logs.takenOver, logs.retries, logs.reconnects,
		time.Since(h.began).Round(100*time.Millisecond))
	if testing.Verbose() {
		t.Log(figures)
	} else {
		fmt.Println(figures) // shown by go test when it tests this package alone
	}
	if len(logs.warnings) > 0 {
		var ws []string
		for w, n := range logs.warnings {
			ws = append(ws, fmt.Sprintf("%5d %s", n, w))
		}
		slices.Sort(ws)
		t.Logf("warnings and errors in the workers' logs:\n%s", strings.Join(ws, "\n"))
	}

	report := func(what string, items []string) {
		if len(items) == 0 {
			return
		}
		const most = 20
		shown := items
		if len(shown) > most {
			shown = shown[:most]
		}
		t.Errorf("%s: %d\n  %s%s", what, len(items), strings.Join(shown, "\n  "), map[bool]string{true: fmt.Sprintf("\n  ... and %d more", len(items)-most)}[len(items) > most])
	}
	if runErr != nil {
		t.Errorf("the run failed: %v", runErr)
	}
	report("failures of the run", h.failures)
	report("lost workflows (not SUCCESS with the right output)", lost)
	report("await errors", h.awaitErr)
	report("bad checkpoints (not exactly one per step with the step's value)", badCheckpoint)
	report("step bodies that ran again without their process dying during them", r.unexpected)
	report("workflows run twice by one process", r.sameProcess)
	report("workflow attempts that overlapped in two processes", r.overlapping)
	report("step bodies that never ran though their workflow succeeded", r.missing)
	report("unexpected workflows on the queue", strangers)
	if r.violations > 0 || dbViolations > 0 {
		t.Errorf("the queue's Concurrency(%d) was exceeded: %d workflows running at once by the side-effect log (%d starts over the limit), %d by the database's start and completion times (%d)",
			Limit, r.maxRunning, r.violations, dbMax, dbViolations)
	}
	if r.workerViolations > 0 {
		t.Errorf("the queue's WorkerConcurrency(%d) was exceeded: %d workflows running at once in one process by the side-effect log (%d starts over the limit)",
			WorkerLimit, r.maxInProcess, r.workerViolations)
	}
	if n == 0 {
		t.Errorf("no workflow was enqueued")
	}
}

// logCounts is what the workers' logs tell.
type logCounts struct {
	retries    int            // database calls of running work retried
	reconnects int            // reconnections of the notification listener
	resumed    int            // workflows resumed at launch
	takenOver  int            // workflows taken over from expired executors
	warnings   map[string]int // "LEVEL message" -> count, for WARN and ERROR
}

var (
	takenOverRE = regexp.MustCompile(`dbos: took over (\d+) workflows? `)
	warningRE   = regexp.MustCompile(`(?m)level=(WARN|ERROR) msg=("(?:[^"\\]|\\.)*"|\S+)`)
)

func countLogs(procs []*proc) logCounts {
	c := logCounts{warnings: map[string]int{}}
	for _, p := range procs {
		data, err := os.ReadFile(p.logPath)
		if err != nil {
			continue
		}
		s := string(data)
		c.retries += strings.Count(s, "database call failed; retrying")
		c.reconnects += strings.Count(s, "listener reconnected")
		c.resumed += strings.Count(s, "dbos: resuming workflow")
		for _, m := range takenOverRE.FindAllStringSubmatch(s, -1) {
			n, _ := strconv.Atoi(m[1])
			c.takenOver += n
		}
		for _, m := range warningRE.FindAllStringSubmatch(s, -1) {
			c.warnings[m[1]+" "+m[2]]++
		}
	}
	return c
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(100 * time.Millisecond)
	}
	return out
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}
