// Package bench is dbosbench: the benchmark workloads of the dbos runtime,
// the parent that runs each of them in fresh child processes on fresh
// databases, and the report it prints.
//
// A child process is the same program re-executed with $DBOSBENCH_CHILD
// set; a program embedding Run must call ChildMain first when IsChild
// reports true (cmd/dbosbench's main does, and so does this package's
// TestMain).
package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Engines Run knows.
const (
	EnginePostgres = "postgres"
	EngineSQLite   = "sqlite"
)

// DefaultServerURL is the Postgres server on which Run creates its
// databases when Options.ServerURL is empty.
const DefaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Defaults of Options.
const (
	DefaultTimeout = 30 * time.Minute
	DefaultStall   = 2 * time.Minute
)

// Options configure Run.
type Options struct {
	// Engines to run on, in order: EnginePostgres and/or EngineSQLite.
	Engines []string
	// Workloads to run, by name, in order; empty: all (WorkloadNames).
	Workloads []string
	// Runs is how many times each workload runs on each engine (default 1).
	Runs int
	// Scale multiplies every workload's task count (default 1); each
	// workload keeps a small minimum.
	Scale float64
	// ServerURL is the Postgres server on which each run creates a fresh
	// database dbosbench_<random> and drops it afterwards (default
	// DefaultServerURL).
	ServerURL string
	// Exe is the program re-executed as a child; default os.Executable().
	// It must call ChildMain when IsChild reports true.
	Exe string
	// Args are the child's command-line arguments.
	Args []string
	// Timeout bounds each child process (default DefaultTimeout).
	Timeout time.Duration
	// Stall fails a drain whose tasks made no progress for this long
	// (default DefaultStall).
	Stall time.Duration
	// Log receives progress lines and the children's stderr; nil discards.
	Log io.Writer
}

// Run runs every selected workload Runs times on each engine, each run on a
// fresh database and in fresh processes, and reports the medians. A failed
// run is recorded in the report and does not stop the others; Run returns
// an error only for bad options or when ctx ends.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	rep := &Report{
		Started:   time.Now().UTC(),
		Scale:     o.Scale,
		Runs:      o.Runs,
		GoVersion: runtime.Version(),
		GOOS:      runtime.GOOS,
		GOARCH:    runtime.GOARCH,
		NumCPU:    runtime.NumCPU(),
	}
	for _, engine := range o.Engines {
		er := EngineReport{Engine: engine}
		for _, name := range o.Workloads {
			w := findWorkload(name)
			if !w.runsOn(engine) {
				o.logf("%s on %s: skipped (%s only)", w.name, engine, strings.Join(w.engines, ", "))
				continue
			}
			n := w.tasks(o.Scale)
			wr := WorkloadReport{Workload: w.name, About: w.about, Tasks: n}
			var acc accumulator
			for r := 1; r <= o.Runs; r++ {
				label := fmt.Sprintf("%s %s run %d/%d", engine, w.name, r, o.Runs)
				o.logf("%s: %d tasks...", label, n)
				start := time.Now()
				vs, err := o.runOnce(ctx, engine, w, n, label)
				if err != nil {
					o.logf("%s: FAILED after %s: %v", label, time.Since(start).Round(time.Millisecond), err)
					wr.Errors = append(wr.Errors, fmt.Sprintf("run %d: %v", r, err))
					if ctx.Err() != nil {
						return rep, ctx.Err()
					}
					continue
				}
				o.logf("%s: %s (%s)", label, vs, time.Since(start).Round(time.Millisecond))
				acc.add(vs)
			}
			wr.Metrics = acc.metrics()
			er.Workloads = append(er.Workloads, wr)
		}
		rep.Engines = append(rep.Engines, er)
	}
	rep.Took = time.Since(rep.Started).Round(time.Millisecond).String()
	return rep, nil
}

func (o *Options) fill() error {
	if len(o.Engines) == 0 {
		return errors.New("no engine selected")
	}
	for _, e := range o.Engines {
		if e != EnginePostgres && e != EngineSQLite {
			return fmt.Errorf("unknown engine %q (want %s or %s)", e, EnginePostgres, EngineSQLite)
		}
	}
	if len(o.Workloads) == 0 {
		o.Workloads = WorkloadNames()
	}
	for _, w := range o.Workloads {
		if findWorkload(w) == nil {
			return fmt.Errorf("unknown workload %q (want some of %s)", w, strings.Join(WorkloadNames(), ","))
		}
	}
	if o.Runs == 0 {
		o.Runs = 1
	}
	if o.Runs < 0 {
		return fmt.Errorf("runs %d: must be positive", o.Runs)
	}
	if o.Scale == 0 {
		o.Scale = 1
	}
	if o.Scale < 0 {
		return fmt.Errorf("scale %g: must be positive", o.Scale)
	}
	if o.ServerURL == "" {
		o.ServerURL = DefaultServerURL
	}
	if o.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this program to re-execute: %w", err)
		}
		o.Exe = exe
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Stall == 0 {
		o.Stall = DefaultStall
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	o.Log = &syncWriter{w: o.Log}
	if slices.Contains(o.Engines, EnginePostgres) {
		if err := admin(context.Background(), o.ServerURL, "SELECT 1"); err != nil {
			return fmt.Errorf("postgres server %s: %w", redact(o.ServerURL), err)
		}
	}
	return nil
}

func (o *Options) logf(format string, args ...any) {
	fmt.Fprintf(o.Log, "dbosbench: "+format+"\n", args...)
}

// runOnce runs one workload once on a fresh database: its backlog producer
// first, if it has one, then the measured process.
func (o *Options) runOnce(ctx context.Context, engine string, w *workload, n int, label string) (Values, error) {
	return o.onFreshDatabase(ctx, engine, func(dbURL string) (Values, error) {
		spec := childSpec{Workload: w.name, URL: dbURL, N: n, Timeout: o.Timeout, Stall: o.Stall}
		if w.orchestrate != nil {
			return w.orchestrate(ctx, o, engine, spec, label)
		}
		var produced Values
		if w.backlog != taskNone {
			spec.Role = "produce"
			var err error
			if produced, err = o.child(ctx, label+" produce", spec); err != nil {
				return nil, fmt.Errorf("enqueue the backlog: %w", err)
			}
		}
		spec.Role = "measure"
		vs, err := o.child(ctx, label, spec)
		if err != nil {
			return nil, err
		}
		return append(vs, produced...), nil
	})
}

// onFreshDatabase calls run with the URL of a fresh database of engine,
// and removes the database afterwards.
func (o *Options) onFreshDatabase(ctx context.Context, engine string, run func(dbURL string) (Values, error)) (vs Values, err error) {
	dbURL, drop, err := newDatabase(ctx, engine, o.ServerURL)
	if err != nil {
		return nil, err
	}
	defer func() {
		if derr := drop(); derr != nil && err == nil {
			err = fmt.Errorf("remove the database: %w", derr)
		}
	}()
	return run(dbURL)
}

// child runs one child process and returns what it reported.
func (o *Options) child(ctx context.Context, label string, spec childSpec) (Values, error) {
	p, err := o.start(ctx, label, spec, false)
	if err != nil {
		return nil, err
	}
	return p.wait()
}

// proc is a child process that start started.
type proc struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	stderr *lineWriter
	// stdin, when asked for, is the child's standard input: a worker
	// (role "work") runs until it is closed.
	stdin io.WriteCloser
	// ready is closed when the child printed readyLine: its runtime runs.
	ready   chan struct{}
	scanned chan struct{} // closed when stdout ended; rep is then set
	rep     *childReport
}

// start starts one child process; wait collects its report.
func (o *Options) start(ctx context.Context, label string, spec childSpec, withStdin bool) (*proc, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, spec.Timeout+time.Minute)
	cmd := exec.CommandContext(ctx, o.Exe, o.Args...)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		// Every child is a fresh executor.
		return strings.HasPrefix(kv, "DBOS_EXECUTOR_ID=") || strings.HasPrefix(kv, childEnv+"=")
	}), childEnv+"="+string(b))
	p := &proc{cmd: cmd, cancel: cancel, ready: make(chan struct{}), scanned: make(chan struct{}),
		stderr: &lineWriter{w: o.Log, prefix: "[" + label + "] "}}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err == nil && withStdin {
		p.stdin, err = cmd.StdinPipe()
	}
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		cancel()
		return nil, err
	}
	go func() {
		defer close(p.scanned)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if sc.Text() == readyLine {
				close(p.ready)
				continue
			}
			line, ok := strings.CutPrefix(sc.Text(), resultPrefix)
			if !ok {
				fmt.Fprintf(o.Log, "[%s] %s\n", label, sc.Text())
				continue
			}
			p.rep = new(childReport)
			if err := json.Unmarshal([]byte(line), p.rep); err != nil {
				p.rep = &childReport{Error: fmt.Sprintf("unreadable report %q: %v", line, err)}
			}
		}
	}()
	return p, nil
}

// wait waits for the child to exit and returns what it reported.
func (p *proc) wait() (Values, error) {
	defer p.cancel()
	<-p.scanned
	werr := p.cmd.Wait()
	p.stderr.flush()
	switch rep := p.rep; {
	case rep != nil && rep.Error != "":
		return nil, errors.New(rep.Error)
	case rep == nil && werr != nil:
		return nil, fmt.Errorf("%w: %w%s", errNoResult, werr, p.stderr.tail())
	case rep == nil:
		return nil, errNoResult
	case werr != nil:
		return nil, werr
	}
	return p.rep.Values, nil
}

// newDatabase makes a fresh database for one run and returns its URL and a
// function that removes it.
func newDatabase(ctx context.Context, engine, server string) (string, func() error, error) {
	switch engine {
	case EngineSQLite:
		dir, err := os.MkdirTemp("", "dbosbench-")
		if err != nil {
			return "", nil, err
		}
		return "sqlite:" + filepath.Join(dir, "bench.sqlite"), func() error { return os.RemoveAll(dir) }, nil
	case EnginePostgres:
		name := "dbosbench_" + randomHex(6)
		// A database name is an identifier, which SQL parameters cannot
		// carry: quote it with pgx. This admin SQL is the bench tool's
		// own; the runtime's queries all live in sql/.
		ident := pgx.Identifier{name}.Sanitize()
		if err := admin(ctx, server, "CREATE DATABASE "+ident); err != nil {
			return "", nil, err
		}
		drop := func() error {
			return admin(context.Background(), server, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
		}
		return withDatabase(server, name), drop, nil
	}
	return "", nil, fmt.Errorf("unknown engine %q", engine)
}

// admin runs one administrative statement on a Postgres server.
func admin(ctx context.Context, server, statement string) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, server)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	ectx, cancel2 := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel2()
	if _, err := conn.Exec(ectx, statement); err != nil {
		return fmt.Errorf("%s: %w", statement, err)
	}
	return nil
}

// withDatabase returns a server's connection string naming another database.
func withDatabase(server, name string) string {
	if u, err := url.Parse(server); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return strings.TrimSpace(server) + " dbname=" + name // key=value form: a later dbname wins
}

// redact hides a password in a connection string for messages.
func redact(server string) string {
	if u, err := url.Parse(server); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	if i := strings.Index(server, "password="); i >= 0 {
		j := strings.IndexByte(server[i:], ' ')
		if j < 0 {
			return server[:i] + "password=xxxxx"
		}
		return server[:i] + "password=xxxxx" + server[i+j:]
	}
	return server
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// syncWriter serializes writes from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// lineWriter writes each complete line to w with a prefix, and keeps the
// last few lines for error messages.
type lineWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
	last   []string
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.line(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineWriter) line(s string) {
	fmt.Fprintf(l.w, "%s%s\n", l.prefix, s)
	if l.last = append(l.last, s); len(l.last) > 5 {
		l.last = l.last[1:]
	}
}

func (l *lineWriter) flush() {
	if len(l.buf) > 0 {
		l.line(string(l.buf))
		l.buf = nil
	}
}

func (l *lineWriter) tail() string {
	if len(l.last) == 0 {
		return ""
	}
	return "; stderr: " + strings.Join(l.last, " | ")
}
