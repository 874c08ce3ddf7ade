package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

type options struct {
	rounds    int
	workloads string
	db        string
	repo      string
	dbosbench string
	scale     float64
	dbosPoll  time.Duration
	jsonOut   string
	logFile   string
	from      string
	log       io.Writer
}

// The systems, in the table's column order.
const (
	sysOurs  = "dbosgen"
	sysRiver = "river"
	sysDBOS  = "dbos"
)

var systems = []string{sysOurs, sysRiver, sysDBOS}

// ours is one dbosbench run: a workload on an engine.
type ours struct{ engine, workload string }

// metrics is what one run measured, by dbosbench's metric names (a peer's
// result is translated to them).
type metrics map[string]float64

// comparison is one workload of the comparison: what each system runs and
// the table's lines about it.
type comparison struct {
	key   string
	about string
	ours  ours
	peers map[string]peerSpec // by system; URL left empty, filled per run
	lines []line
}

// line is one row of the table.
type line struct {
	label  string
	metric string // dbosbench's name; peers' results use the same names
	unit   string
	lower  bool   // a lower value is better (latency)
	vs     string // the system the ratio compares dbosgen with; "" for none
	goal   string
	// met judges the goal from the medians and dbosgen's runs.
	met func(med map[string]float64, oursRuns []float64) bool
}

func ratioAtLeast(vs string, x float64) func(map[string]float64, []float64) bool {
	return func(med map[string]float64, _ []float64) bool {
		return med[vs] > 0 && med[sysOurs]/med[vs] >= x
	}
}

func oursAtMost(x float64) func(map[string]float64, []float64) bool {
	return func(med map[string]float64, _ []float64) bool { return med[sysOurs] > 0 && med[sysOurs] <= x }
}

const (
	limitedLimit = 10
	limitedSleep = 5 * time.Millisecond
)

var cases = []comparison{
	{key: "e2e", about: "16 producers enqueue 10,000 no-op tasks and await them (dbosbench producers)",
		ours: ours{"postgres", "producers"},
		peers: map[string]peerSpec{
			sysRiver: {Workload: "e2e", N: 10000, Producers: 16},
			sysDBOS:  {Workload: "e2e", N: 10000, Producers: 16},
		},
		lines: []line{{label: "tasks/s", metric: "tasks/s", unit: "tasks/s", vs: sysRiver, goal: ">= 2.5x River tuned", met: ratioAtLeast(sysRiver, 2.5)}}},
	{key: "drain", about: "100,000 no-op tasks enqueued beforehand, then one worker process runs them (dbosbench drain; River: InsertMany)",
		ours: ours{"postgres", "drain"},
		peers: map[string]peerSpec{
			sysRiver: {Workload: "drain", N: 100000},
		},
		lines: []line{{label: "tasks/s", metric: "tasks/s", unit: "tasks/s", vs: sysRiver, goal: ">= 1.5x River tuned", met: ratioAtLeast(sysRiver, 1.5)}}},
	{key: "limitedprod", about: "Concurrency(10) queue, 5 ms tasks, 4 producers enqueue 2,000 while it runs (River: MaxWorkers 10, per process)",
		ours: ours{"postgres", "limitedprod"},
		peers: map[string]peerSpec{
			sysRiver: {Workload: "e2e", N: 2000, Producers: 4, Sleep: limitedSleep, Limit: limitedLimit},
			sysDBOS:  {Workload: "e2e", N: 2000, Producers: 4, Sleep: limitedSleep, Limit: limitedLimit},
		},
		lines: []line{
			{label: "tasks/s", metric: "tasks/s", unit: "tasks/s", vs: sysRiver, goal: ">= 1.5x River tuned", met: ratioAtLeast(sysRiver, 1.5)},
			{label: "peak running", metric: "peak running", unit: "tasks", goal: "<= 10 in every run (the global limit)",
				met: func(_ map[string]float64, runs []float64) bool {
					return len(runs) > 0 && slices.Max(runs) <= limitedLimit
				}},
		}},
	{key: "limited", about: "2,000 tasks of 5 ms enqueued beforehand on a Concurrency(10) queue, then run (River: InsertMany, MaxWorkers 10)",
		ours: ours{"postgres", "limited"},
		peers: map[string]peerSpec{
			sysRiver: {Workload: "drain", N: 2000, Sleep: limitedSleep, Limit: limitedLimit},
		},
		lines: []line{{label: "tasks/s", metric: "tasks/s", unit: "tasks/s", vs: sysRiver, goal: ">= 85% of ideal (1,700/s)",
			met: func(med map[string]float64, _ []float64) bool {
				return med[sysOurs] >= 0.85*limitedLimit/limitedSleep.Seconds()
			}}}},
	{key: "latency", about: "one no-op task at a time, enqueue to result, 500 times",
		ours: ours{"postgres", "latency"},
		peers: map[string]peerSpec{
			sysRiver: {Workload: "latency", N: 500},
			sysDBOS:  {Workload: "latency", N: 500},
		},
		lines: []line{
			{label: "p50", metric: "p50", unit: "ms", lower: true, vs: sysRiver, goal: "<= 2 ms", met: oursAtMost(2)},
			{label: "p99", metric: "p99", unit: "ms", lower: true, vs: sysRiver, goal: "<= 5 ms", met: oursAtMost(5)},
		}},
	{key: "sqlite", about: "SQLite: 16 producers enqueue 10,000 no-op tasks and await them (DBOS Go on SQLite)",
		ours: ours{"sqlite", "producers"},
		peers: map[string]peerSpec{
			sysDBOS: {Workload: "e2e", N: 10000, Producers: 16, URL: "sqlite"},
		},
		lines: []line{{label: "tasks/s", metric: "tasks/s", unit: "tasks/s", vs: sysDBOS, goal: ">= 5x DBOS Go on SQLite", met: ratioAtLeast(sysDBOS, 5)}}},
}

func caseNames() []string {
	names := make([]string, len(cases))
	for i, c := range cases {
		names[i] = c.key
	}
	return names
}

// run is one run's outcome, as the JSON output records it.
type run struct {
	Round    int     `json:"round"`
	Workload string  `json:"workload"`
	System   string  `json:"system"`
	Tasks    int     `json:"tasks"`
	Metrics  metrics `json:"metrics,omitempty"`
	Error    string  `json:"error,omitempty"`
	Seconds  float64 `json:"seconds"`
}

// sitting is everything one comparison measured.
type sitting struct {
	Started  time.Time `json:"started"`
	Machine  string    `json:"machine"`
	Postgres string    `json:"postgres"`
	LoadFrom string    `json:"load_before"`
	LoadTo   string    `json:"load_after"`
	Rounds   int       `json:"rounds"`
	Scale    float64   `json:"scale"`
	DBOSPoll string    `json:"dbos_poll"`
	Runs     []run     `json:"runs"`
}

func compare(ctx context.Context, o options, out io.Writer) error {
	var selected []comparison
	for _, name := range strings.Split(o.workloads, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		i := slices.IndexFunc(cases, func(c comparison) bool { return c.key == name })
		if i < 0 {
			return fmt.Errorf("unknown workload %q (want some of %s)", name, strings.Join(caseNames(), ","))
		}
		selected = append(selected, cases[i])
	}
	if o.from != "" {
		return reprint(o.from, selected, out)
	}
	o.log = os.Stderr
	if o.logFile != "" {
		f, err := os.Create(o.logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		o.log = f
	}
	tmp, err := os.MkdirTemp("", "peers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if o.dbosbench == "" {
		o.dbosbench = filepath.Join(tmp, "dbosbench")
		logf(o, "building %s/cmd/dbosbench", o.repo)
		build := exec.CommandContext(ctx, "go", "build", "-o", o.dbosbench, "./cmd/dbosbench")
		build.Dir, build.Stdout, build.Stderr = o.repo, o.log, o.log
		if err := build.Run(); err != nil {
			return fmt.Errorf("build dbosbench in %s: %w", o.repo, err)
		}
	}
	s := sitting{Started: time.Now().UTC(), Machine: machine(), LoadFrom: loadavg(), Rounds: o.rounds, Scale: o.scale, DBOSPoll: o.dbosPoll.String()}
	if s.Postgres, err = serverVersion(ctx, o.db); err != nil {
		return fmt.Errorf("postgres server: %w", err)
	}
	for r := 1; r <= o.rounds; r++ {
		for _, c := range selected {
			order := c.systems()
			k := (r - 1) % len(order) // rotate: each system goes first in turn
			order = append(order[k:], order[:k]...)
			for _, sys := range order {
				start := time.Now()
				res := run{Round: r, Workload: c.key, System: sys}
				var err error
				if sys == sysOurs {
					res.Tasks, res.Metrics, err = runOurs(ctx, o, tmp, c.ours)
				} else {
					res.Tasks, res.Metrics, err = runPeerOnce(ctx, o, tmp, c.peers[sys], sys)
				}
				res.Seconds = time.Since(start).Seconds()
				if err != nil {
					res.Error = err.Error()
					logf(o, "round %d %s %s: FAILED: %v", r, c.key, sys, err)
				} else {
					logf(o, "round %d %s %s: %v (%.1fs)", r, c.key, sys, res.Metrics, res.Seconds)
				}
				s.Runs = append(s.Runs, res)
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
	}
	s.LoadTo = loadavg()
	if o.jsonOut != "" {
		b, err := json.MarshalIndent(s, "", "  ")
		if err == nil {
			err = os.WriteFile(o.jsonOut, append(b, '\n'), 0o644)
		}
		if err != nil {
			return err
		}
	}
	writeTable(out, s, selected)
	for _, r := range s.Runs {
		if r.Error != "" {
			return errors.New("some runs failed (see the table)")
		}
	}
	return nil
}

// systems are the systems a comparison runs, in column order.
func (c comparison) systems() []string {
	var s []string
	for _, sys := range systems {
		if _, ok := c.peers[sys]; ok || sys == sysOurs {
			s = append(s, sys)
		}
	}
	return s
}

func logf(o options, format string, args ...any) {
	fmt.Fprintf(o.log, "peers: "+format+"\n", args...)
}

// dbosbenchReport is the part of dbosbench's -json report read here.
type dbosbenchReport struct {
	Engines []struct {
		Workloads []struct {
			Tasks   int      `json:"tasks"`
			Errors  []string `json:"errors"`
			Metrics []struct {
				Name   string  `json:"name"`
				Median float64 `json:"median"`
			} `json:"metrics"`
		} `json:"workloads"`
	} `json:"engines"`
}

// runOurs runs one dbosbench run and reads its -json report.
func runOurs(ctx context.Context, o options, tmp string, w ours) (int, metrics, error) {
	js := filepath.Join(tmp, "dbosbench.json")
	_ = os.Remove(js)
	cmd := exec.CommandContext(ctx, o.dbosbench, "-engine", w.engine, "-workloads", w.workload, "-runs", "1",
		"-url", o.db, "-json", js, "-scale", strconv.FormatFloat(o.scale, 'g', -1, 64))
	cmd.Stdout, cmd.Stderr = o.log, o.log
	runErr := cmd.Run()
	b, err := os.ReadFile(js)
	if err != nil {
		return 0, nil, fmt.Errorf("dbosbench: %v; %w", runErr, err)
	}
	var rep dbosbenchReport
	if err := json.Unmarshal(b, &rep); err != nil {
		return 0, nil, err
	}
	if len(rep.Engines) != 1 || len(rep.Engines[0].Workloads) != 1 {
		return 0, nil, fmt.Errorf("dbosbench reported %d engines, not one workload", len(rep.Engines))
	}
	wr := rep.Engines[0].Workloads[0]
	if len(wr.Errors) > 0 {
		return 0, nil, errors.New(strings.Join(wr.Errors, "; "))
	}
	m := metrics{}
	for _, x := range wr.Metrics {
		m[x.Name] = x.Median
	}
	return wr.Tasks, m, runErr
}

// runPeerOnce runs one peer run in a child process, on a fresh database.
func runPeerOnce(ctx context.Context, o options, tmp string, spec peerSpec, sys string) (int, metrics, error) {
	spec.System, spec.DBOSPoll = sys, o.dbosPoll
	spec.N = max(16, int(math.Round(float64(spec.N)*o.scale)))
	if spec.URL == "sqlite" {
		dir, err := os.MkdirTemp(tmp, "sqlite-")
		if err != nil {
			return 0, nil, err
		}
		defer os.RemoveAll(dir)
		spec.URL = "sqlite:" + filepath.Join(dir, "peers.sqlite")
	} else {
		name := "peers_" + randomHex(6)
		ident := pgx.Identifier{name}.Sanitize()
		if err := admin(ctx, o.db, "CREATE DATABASE "+ident); err != nil {
			return 0, nil, err
		}
		defer admin(context.Background(), o.db, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
		cfg, err := pgx.ParseConfig(o.db)
		if err != nil {
			return 0, nil, err
		}
		spec.URL = fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
	}
	b, _ := json.Marshal(spec)
	exe, err := os.Executable()
	if err != nil {
		return 0, nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), peerEnv+"="+string(b))
	cmd.Stderr = o.log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	var res *peerResult
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), peerResultTo); ok {
			res = new(peerResult)
			if err := json.Unmarshal([]byte(line), res); err != nil {
				return 0, nil, err
			}
		} else {
			fmt.Fprintln(o.log, sc.Text())
		}
	}
	werr := cmd.Wait()
	switch {
	case res == nil:
		return 0, nil, fmt.Errorf("%s exited without a result: %v", sys, werr)
	case res.Error != "":
		return 0, nil, errors.New(res.Error)
	}
	m := metrics{}
	if res.PerSec > 0 {
		m["tasks/s"] = res.PerSec
	}
	if res.P50ms > 0 {
		m["p50"], m["p99"] = res.P50ms, res.P99ms
	}
	if res.Peak > 0 {
		m["peak running"] = float64(res.Peak)
	}
	return spec.N, m, werr
}

// admin runs one administrative statement on the server.
func admin(ctx context.Context, server, statement string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, statement)
	return err
}

func serverVersion(ctx context.Context, server string) (string, error) {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var v string
	err = conn.QueryRow(ctx, "SHOW server_version").Scan(&v)
	return "PostgreSQL " + v, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// machine describes this machine: CPU model and count, OS, Go.
func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return strings.TrimSpace(fmt.Sprintf("%d CPUs %s, %s/%s, %s", runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH, runtime.Version()))
}

// loadavg is the 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// reprint prints the table of a sitting that -json recorded, for the
// selected workloads it ran.
func reprint(file string, selected []comparison, out io.Writer) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var s sitting
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	selected = slices.DeleteFunc(selected, func(c comparison) bool {
		return !slices.ContainsFunc(s.Runs, func(r run) bool { return r.Workload == c.key })
	})
	writeTable(out, s, selected)
	return nil
}
