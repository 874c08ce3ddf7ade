package behaviour

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// The test binary re-executes itself as the crashing program when
// crashChildEnv is set; these variables configure it.
const (
	crashChildEnv    = "DBOS_CRASH_CHILD"
	crashURLEnv      = "DBOS_CRASH_URL"
	crashWorkflowEnv = "DBOS_CRASH_WORKFLOW"
	crashLeaseEnv    = "DBOS_CRASH_LEASE"
	crashProgramEnv  = "DBOS_CRASH_PROGRAM" // "fanout": FanOutAndBlock; else ThreeSteps
)

// crashChild is the program under test: it launches (as $DBOS_EXECUTOR_ID),
// starts ThreeSteps (or FanOutAndBlock) under a fixed ID, and prints its
// result.
func crashChild() int {
	ctx := context.Background()
	lease, _ := time.ParseDuration(os.Getenv(crashLeaseEnv)) // "": the default
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: os.Getenv(crashURLEnv), LeaseDuration: lease})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer rt.Shutdown(ctx)
	id := dbos.WithID(os.Getenv(crashWorkflowEnv))
	var result int
	if os.Getenv(crashProgramEnv) == "fanout" {
		var h *FanOutAndBlockHandle
		if h, err = StartFanOutAndBlock(ctx, fanOutFirst, fanOutSecond, id); err == nil {
			result, err = h.GetResult(ctx)
		}
	} else {
		var h *ThreeStepsHandle
		if h, err = StartThreeSteps(ctx, 7, id); err == nil {
			result, err = h.GetResult(ctx)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("result %d\n", result)
	return 0
}

// TestCrashDuringStepResumes kills a real process with SIGKILL while step 2
// of a 3-step workflow runs, starts the program again with the same executor
// ID, and checks from the side-effect log that step 1 did not run again,
// step 2 did, step 3 ran once, and the result is right.
func TestCrashDuringStepResumes(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		effects := filepath.Join(t.TempDir(), "effects.log")
		n := executorSeq.Add(1)
		env := crashEnv(url, fmt.Sprintf("crash-%d-%d", os.Getpid(), n), fmt.Sprintf("crash-executor-%d-%d", os.Getpid(), n), effects)

		firstPid := killInStep2(t, ctx, env)

		out, secondPid := runCrashProgram(t, ctx, env)
		if out != "result 7123" {
			t.Fatalf("restarted program printed %q, want %q", out, "result 7123")
		}

		checkResumedRun(t, effects, firstPid, secondPid)
	})
}

// TestLiveExecutorTakesOverAfterCrash kills a process with SIGKILL during
// step 2 and never restarts it: this test's own runtime, a live executor,
// takes the workflow over when the dead one's lease expires and finishes it
// from its checkpoints.
func TestLiveExecutorTakesOverAfterCrash(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		const lease = time.Second
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		effects := filepath.Join(t.TempDir(), "effects.log")
		t.Setenv(CrashLogEnv, effects) // step bodies run here after the takeover
		n := executorSeq.Add(1)
		id := fmt.Sprintf("takeover-%d-%d", os.Getpid(), n)

		rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: url, ExecutorID: fmt.Sprintf("survivor-%d-%d", os.Getpid(), n), LeaseDuration: lease})
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Shutdown(context.Background())

		victimPid := killInStep2(t, ctx, crashEnv(url, id, fmt.Sprintf("victim-%d-%d", os.Getpid(), n), effects,
			crashLeaseEnv+"="+lease.String()))
		killed := time.Now()

		h, err := RetrieveThreeSteps(rt.WithContext(ctx), id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := h.GetResult(rt.WithContext(ctx))
		if err != nil || got != 7123 {
			t.Fatalf("after the takeover: %d, %v; want 7123", got, err)
		}
		if took := time.Since(killed); took > lease+10*time.Second {
			t.Errorf("the takeover took %s; the lease is %s", took, lease)
		}
		checkResumedRun(t, effects, victimPid, os.Getpid())
	})
}

// crashEnv is the environment of the crash program: it runs its workflow
// under the ID workflow as executor, on url, and logs its step bodies to
// effects; extra entries (crashProgramEnv, crashLeaseEnv) follow.
func crashEnv(url, workflow, executor, effects string, extra ...string) []string {
	return append(os.Environ(), append([]string{
		crashChildEnv + "=1",
		crashURLEnv + "=" + url,
		crashWorkflowEnv + "=" + workflow,
		"DBOS_EXECUTOR_ID=" + executor,
		CrashLogEnv + "=" + effects,
	}, extra...)...)
}

// runCrashProgram runs the crash program with env to its end and returns
// what it printed, trimmed, and its pid.
func runCrashProgram(t *testing.T, ctx context.Context, env []string) (string, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("restarted program failed: %v\n%s%s", err, out, stderr.String())
	}
	return strings.TrimSpace(string(out)), cmd.Process.Pid
}

// killInStep2 runs the crash program with env, made to block in step 2,
// sends it SIGKILL once it announces step 2, and returns its pid.
func killInStep2(t *testing.T, ctx context.Context, env []string) int {
	t.Helper()
	return killAt(t, ctx, append(slices.Clone(env), CrashBlockEnv+"=1"), "step2-entered")
}

// killAt runs the crash program with env, sends it SIGKILL once it prints
// the line marker, and returns its pid.
func killAt(t *testing.T, ctx context.Context, env []string, marker string) int {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = env
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	entered := false
	for !entered && lines.Scan() {
		entered = lines.Text() == marker
	}
	if !entered {
		_ = cmd.Wait()
		t.Fatalf("the program ended before it printed %q", marker)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	return cmd.Process.Pid
}

// checkResumedRun checks from the side-effect log that step 1 ran once in
// the crashed process, step 2 ran there and again in the resuming one, and
// step 3 ran once, in the resuming one.
func checkResumedRun(t *testing.T, effects string, crashed, resumed int) {
	t.Helper()
	data, err := os.ReadFile(effects)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("step1 %d", crashed),
		fmt.Sprintf("step2 %d", crashed),
		fmt.Sprintf("step2 %d", resumed),
		fmt.Sprintf("step3 %d", resumed),
	}
	if got := strings.Split(strings.TrimSpace(string(data)), "\n"); !slices.Equal(got, want) {
		t.Errorf("step bodies ran as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
