// Package deploytest tests deploys on mixed fleets with real processes:
// programs built from testdata (a worker program running package crash,
// and another program that runs none of it) share a database with a
// client-only runtime in the test process, are killed with SIGKILL,
// restarted under new executor IDs or other versions, and the tests check
// who runs what, from the database and from side-effect logs.
package deploytest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/gen"
	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/deploytest/testdata/crash"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// binDir holds the programs the tests build; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dbos-deploytest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run() // the tests' databases drop themselves (testdb.NewPostgresDatabase)
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// pipelineName is crash.Pipeline's registered name.
const pipelineName = "github.com/dbosgen/dbosgen/runtime/internal/deploytest/testdata/crash.Pipeline"

// engines runs a test on each engine, each time on a database of its own.
func engines(t *testing.T, test func(t *testing.T, url string)) {
	if testing.Short() {
		t.Skip("cross-process test: runs without -short")
	}
	t.Run("sqlite", func(t *testing.T) { test(t, "sqlite:"+testdb.SQLitePath(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, testdb.NewPostgresDatabase(t)) })
}

// programs are the built test programs.
type programs struct{ worker, other string }

var (
	buildOnce sync.Once
	built     programs
	buildErr  error
)

// build builds the worker and the other program, once per test process.
func build(t *testing.T) programs {
	t.Helper()
	buildOnce.Do(func() {
		dir := binDir
		cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./testdata/worker", "./testdata/other")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built = programs{worker: filepath.Join(dir, "worker"), other: filepath.Join(dir, "other")}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

// process is a running test program.
type process struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	lines  chan string    // its stdout, line by line
	logs   *testdb.Buffer // its stderr: the runtime's logs
	exited chan struct{}
}

// start runs program bin as executor execID (app version version, "" for
// the derived one) on url, with extra environment entries and args; it is
// killed when the test ends, and its logs are shown when the test failed.
func start(t *testing.T, name, bin, url, execID, version string, extra []string, args ...string) *process {
	t.Helper()
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DBOS_") && !strings.HasPrefix(kv, "DEPLOY_") {
			env = append(env, kv)
		}
	}
	env = append(env, "DBOS_DATABASE_URL="+url, "DBOS_EXECUTOR_ID="+execID)
	if version != "" {
		env = append(env, "DBOS_APP_VERSION="+version)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(env, extra...)
	p := &process{t: t, name: name, cmd: cmd, lines: make(chan string, 100), logs: &testdb.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(p.lines)
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("logs of %s (pid %d):\n%s", p.name, p.pid(), p.logs)
		}
	})
	return p
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// waitFor waits for a line of the program's stdout that starts with prefix
// and returns it.
func (p *process) waitFor(prefix string) string {
	p.t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("%s ended before it printed %q; its logs:\n%s", p.name, prefix, p.logs)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-timeout:
			p.t.Fatalf("%s did not print %q within a minute", p.name, prefix)
		}
	}
}

// kill sends SIGKILL and waits for the process to end.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// stop asks the program to shut down (SIGTERM) and waits for it, killing
// it after a while.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.kill()
	}
}

// waitLog waits until the program has logged text.
func (p *process) waitLog(text string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.logs.String(), text) {
		if time.Now().After(deadline) {
			p.t.Fatalf("%s did not log %q; its logs:\n%s", p.name, text, p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// client launches the test process's runtime: client-only, so that it
// runs nothing of package crash, which this test binary registers too.
func client(t *testing.T, url string) context.Context {
	t.Helper()
	rt, err := dbos.Launch(context.Background(), dbos.Config{
		DatabaseURL:   url,
		ExecutorID:    unique("client"),
		ClientOnly:    true,
		LeaseDuration: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(rt.WithContext(context.Background()), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// unique returns prefix and a random suffix.
func unique(prefix string) string { return prefix + "-" + testdb.RandomHex(4) }

// waitStatus polls the status of workflow id until ok holds, failing the
// test when the workflow is ever finished meanwhile, or when ok does not
// hold within 20 seconds.
func waitStatus(t *testing.T, ctx context.Context, id string, ok func(dbos.Status) bool) dbos.Status {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := dbos.WorkflowStatus(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if st.State.Terminal() {
			t.Fatalf("workflow %s finished: %+v", id, st)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("workflow %s: status %+v", id, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkEffects checks from the side-effect log that step 1 ran once, in
// the killed process, step 2 there and again in the finishing one, and
// step 3 once, in the finishing one.
func checkEffects(t *testing.T, effects string, killed, finished int) {
	t.Helper()
	data, err := os.ReadFile(effects)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("step1 %d", killed),
		fmt.Sprintf("step2 %d", killed),
		fmt.Sprintf("step2 %d", finished),
		fmt.Sprintf("step3 %d", finished),
	}
	if got := strings.Split(strings.TrimSpace(string(data)), "\n"); !slices.Equal(got, want) {
		t.Errorf("step bodies ran as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// killedInStep2 runs the worker program as execID (version version) to
// start Pipeline(7) under id, and kills it with SIGKILL in step 2.
func killedInStep2(t *testing.T, progs programs, url, execID, version, id, effects string) *process {
	t.Helper()
	p := start(t, "the killed worker", progs.worker, url, execID, version,
		[]string{crash.EffectsEnv + "=" + effects, crash.BlockEnv + "=1"}, "-start", id)
	p.waitFor("step2-entered")
	p.kill()
	return p
}

// TestProgramsGenerated: the committed dbos_gen.go of the test programs'
// packages is dbosgen's current output (go generate ./... leaves testdata
// out).
func TestProgramsGenerated(t *testing.T) {
	var stderr strings.Builder
	err := gen.Run(t.Context(), gen.Options{Check: true, Patterns: []string{"./testdata/crash", "./testdata/other/ping"}, Stderr: &stderr})
	if err != nil {
		t.Fatalf("%v\n%s\nregenerate from the repository root: go run ./cmd/dbosgen ./runtime/internal/deploytest/testdata/crash ./runtime/internal/deploytest/testdata/other/ping", err, stderr.String())
	}
}

// TestUnregisteredWorkflowWaitsForItsProgram: a worker program is killed
// in step 2 of Pipeline while a different program (which does not
// register Pipeline) lives on the same database. Once the worker's lease
// expires, the other program does not take the workflow over, and nothing
// fails it: it stays PENDING, its status says why, and the other program
// warns about it. A fresh process of the worker program, with a new
// executor ID, takes it over and finishes it: step 1 ran once, step 2
// twice, step 3 once.
func TestUnregisteredWorkflowWaitsForItsProgram(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		progs := build(t)
		effects := filepath.Join(t.TempDir(), "effects.log")
		id := unique("pipeline")
		other := start(t, "the other program", progs.other, url, unique("other"), "", nil)
		other.waitFor("ready")
		ctx := client(t, url)

		victimID := unique("victim")
		victim := killedInStep2(t, progs, url, victimID, "", id, effects)

		want := "no live executor registers " + pipelineName
		waitStatus(t, ctx, id, func(st dbos.Status) bool { return st.Waiting == want })
		other.waitLog("dbos: 1 workflow of " + pipelineName + " waits: " + want)
		st := waitStatus(t, ctx, id, func(dbos.Status) bool { return true })
		if st.State != dbos.StatePending || st.ExecutorID != victimID {
			t.Errorf("status while it waits: %+v; want PENDING under %s", st, victimID)
		}
		if logs := other.logs.String(); strings.Contains(logs, "not registered") || strings.Contains(logs, "level=ERROR") {
			t.Errorf("the other program failed the workflow or logged an error:\n%s", logs)
		}

		fresh := start(t, "the fresh worker", progs.worker, url, unique("fresh"), "", []string{crash.EffectsEnv + "=" + effects})
		fresh.waitFor("ready")
		h, err := crash.RetrievePipeline(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := h.GetResult(ctx); err != nil || got != 7123 {
			t.Fatalf("after the takeover: %d, %v; want 7123", got, err)
		}
		fresh.waitLog(fmt.Sprintf("dbos: took over 1 workflow of executor %s, whose lease expired: 1 run here, 0 back on their queues", victimID))
		checkEffects(t, effects, victim.pid(), fresh.pid())
		fresh.stop()
		other.stop()
	})
}

// TestVersionsResumeOnlyTheirOwn: a workflow started under version v1 and
// killed is not resumed by a process of version v2, even one with the same
// executor ID (it leaves it, and says so), while calls enqueued but not
// started run there; a process of version v1 finishes it.
func TestVersionsResumeOnlyTheirOwn(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		progs := build(t)
		effects := filepath.Join(t.TempDir(), "effects.log")
		id := unique("pipeline")
		execID := unique("worker")
		v1 := killedInStep2(t, progs, url, execID, "v1", id, effects)

		// Calls enqueued while no worker runs: not started.
		ctx := client(t, url)
		var calls []crash.WorkArgs
		for i := range 5 {
			calls = append(calls, crash.WorkArgs{I: i})
		}
		hs, err := crash.EnqueueWorkBatch(ctx, crash.Tasks, calls)
		if err != nil {
			t.Fatal(err)
		}

		v2 := start(t, "the v2 worker", progs.worker, url, execID, "v2", []string{crash.EffectsEnv + "=" + effects})
		if line := v2.waitFor("ready"); line != "ready "+execID+" v2" {
			t.Fatalf("the v2 worker printed %q", line)
		}
		for i, h := range hs {
			if got, err := h.GetResult(ctx); err != nil || got != i {
				t.Fatalf("call %d: %d, %v", i, got, err)
			}
			if st, _ := h.Status(ctx); st.AppVersion != "v2" || st.ExecutorID != execID {
				t.Errorf("call %d ran under version %q by %q; want v2 by %s", i, st.AppVersion, st.ExecutorID, execID)
			}
		}
		v2.waitLog(fmt.Sprintf("dbos: executor %s left 1 workflow it cannot run", execID))
		want := "no live executor of version v1 registers " + pipelineName + " (it started under version v1)"
		st := waitStatus(t, ctx, id, func(st dbos.Status) bool { return st.Waiting == want })
		if st.State != dbos.StatePending || st.AppVersion != "v1" || st.ExecutorID != "" {
			t.Errorf("status under v2: %+v; want PENDING, version v1, under no executor", st)
		}
		time.Sleep(1500 * time.Millisecond) // several heartbeats of v2
		if data, _ := os.ReadFile(effects); strings.Count(string(data), "\n") != 2 {
			t.Errorf("v2 ran steps of a v1 workflow:\n%s", data)
		}

		v1b := start(t, "a v1 worker", progs.worker, url, unique("worker-b"), "v1", []string{crash.EffectsEnv + "=" + effects})
		v1b.waitFor("ready")
		h, err := crash.RetrievePipeline(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := h.GetResult(ctx); err != nil || got != 7123 {
			t.Fatalf("finished by v1: %d, %v; want 7123", got, err)
		}
		checkEffects(t, effects, v1.pid(), v1b.pid())
		if st, _ := h.Status(ctx); st.AppVersion != "v1" {
			t.Errorf("finished under version %q, want v1", st.AppVersion)
		}
		v1b.stop()
		v2.stop()
	})
}

// TestClientEnqueuesWorkersRun: a client-only process enqueues 100 calls
// on a Concurrency(5) queue that two worker processes run: every call runs
// in a worker, none in the client, and no more than 5 ever run at once
// (from the start and completion times the database recorded). (Which
// worker runs how many is not checked: on SQLite, without notifications,
// the worker whose tasks finish refills the slots before the other one's
// next poll.)
func TestClientEnqueuesWorkersRun(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		progs := build(t)
		workers := map[string]bool{}
		for i := range 2 {
			execID := unique(fmt.Sprintf("worker%d", i))
			w := start(t, execID, progs.worker, url, execID, "", nil, "-listen", crash.Limited.Name())
			w.waitFor("ready")
			workers[execID] = true
		}
		ctx := client(t, url)
		calls := make([]crash.WorkArgs, 100)
		for i := range calls {
			calls[i] = crash.WorkArgs{I: i}
		}
		hs, err := crash.EnqueueWorkBatch(ctx, crash.Limited, calls)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hs {
			if got, err := h.GetResult(ctx); err != nil || got != i {
				t.Fatalf("call %d: %d, %v", i, got, err)
			}
		}
		sts, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Queue: crash.Limited.Name(), Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(sts) != 100 {
			t.Fatalf("%d workflows on the queue, want 100", len(sts))
		}
		ran := map[string]int{}
		type event struct {
			at    time.Time
			delta int
		}
		var events []event
		for _, st := range sts {
			if st.State != dbos.StateSuccess || !workers[st.ExecutorID] {
				t.Errorf("%s: %s by %q; want SUCCESS by a worker", st.ID, st.State, st.ExecutorID)
			}
			ran[st.ExecutorID]++
			events = append(events, event{st.StartedAt, 1}, event{st.CompletedAt, -1})
		}
		// Ends before starts at the same millisecond: [start, end).
		sort.Slice(events, func(i, j int) bool {
			if !events[i].at.Equal(events[j].at) {
				return events[i].at.Before(events[j].at)
			}
			return events[i].delta < events[j].delta
		})
		running, most := 0, 0
		for _, e := range events {
			running += e.delta
			most = max(most, running)
		}
		if most > 5 {
			t.Errorf("%d calls ran at once on a Concurrency(5) queue", most)
		}
		t.Logf("calls per worker %v; at most %d at once", ran, most)
	})
}
