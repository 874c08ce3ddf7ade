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
)

// crashChild is the program under test: it launches (as $DBOS_EXECUTOR_ID),
// starts ThreeSteps under a fixed ID, and prints its result.
func crashChild() int {
	ctx := context.Background()
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: os.Getenv(crashURLEnv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer rt.Shutdown(ctx)
	h, err := StartThreeSteps(ctx, 7, dbos.WithID(os.Getenv(crashWorkflowEnv)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	result, err := h.GetResult(ctx)
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
		env := append(os.Environ(),
			crashChildEnv+"=1",
			crashURLEnv+"="+url,
			crashWorkflowEnv+"="+fmt.Sprintf("crash-%d-%d", os.Getpid(), n),
			"DBOS_EXECUTOR_ID="+fmt.Sprintf("crash-executor-%d-%d", os.Getpid(), n),
			CrashLogEnv+"="+effects,
		)

		first := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		first.Env = append(slices.Clone(env), CrashBlockEnv+"=1")
		first.Stderr = os.Stderr
		stdout, err := first.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := first.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		entered := false
		for !entered && lines.Scan() {
			entered = lines.Text() == "step2-entered"
		}
		if !entered {
			_ = first.Wait()
			t.Fatal("the first run ended before it reached step 2")
		}
		if err := first.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		_ = first.Wait()
		firstPid := first.Process.Pid

		second := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		second.Env = env
		out, err := second.Output()
		if err != nil {
			t.Fatalf("restarted program failed: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != "result 7123" {
			t.Fatalf("restarted program printed %q, want %q", got, "result 7123")
		}
		secondPid := second.Process.Pid

		data, err := os.ReadFile(effects)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSpace(string(data)), "\n")
		want := []string{
			fmt.Sprintf("step1 %d", firstPid),
			fmt.Sprintf("step2 %d", firstPid),
			fmt.Sprintf("step2 %d", secondPid),
			fmt.Sprintf("step3 %d", secondPid),
		}
		if !slices.Equal(got, want) {
			t.Errorf("step bodies ran as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
