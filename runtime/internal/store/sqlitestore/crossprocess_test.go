package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/storetest"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// workerEnv tells a re-executed test binary to act as one worker process:
// "<index>:<path>".
const workerEnv = "DBOS_SQLITE_TEST_WORKER"

const (
	crossWorkers     = 4
	crossPerWorker   = 8
	crossQueue       = "cross"
	crossConcurrency = 2
)

func crossID(worker, i int) string { return fmt.Sprintf("w%d-%d", worker, i) }

// TestCrossProcess runs worker processes that open one new file at once
// (racing to migrate it), each enqueue their own workflows and claim from the
// shared queue with Concurrency 2 until every workflow is done. Afterwards the
// file's records must show each workflow run once and never more than 2 at
// once.
func TestCrossProcess(t *testing.T) {
	if v := os.Getenv(workerEnv); v != "" {
		crossWorker(t, v)
		return
	}
	path := testdb.SQLitePath(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmds := make([]*exec.Cmd, crossWorkers)
	outs := make([]*strings.Builder, crossWorkers)
	for i := range cmds {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrossProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d:%s", workerEnv, i, path))
		outs[i] = &strings.Builder{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatalf("start worker %d: %v", i, err)
		}
		cmds[i] = cmd
	}
	// The first failure stops the others: they would wait for its work.
	errs := make([]error, crossWorkers)
	var wg sync.WaitGroup
	for i, cmd := range cmds {
		wg.Go(func() {
			if errs[i] = cmd.Wait(); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v\n%s", i, err, outs[i])
		}
	}
	if t.Failed() {
		return
	}
	s := openStore(t, path)
	var ws []store.Workflow
	for w := range crossWorkers {
		for i := range crossPerWorker {
			wf, err := s.GetWorkflow(ctx, crossID(w, i))
			if err != nil {
				t.Fatal(err)
			}
			if wf.State != store.StateSuccess || wf.Attempts != 1 {
				t.Errorf("%s: %s after %d claims, want SUCCESS after 1", wf.ID, wf.State, wf.Attempts)
			}
			ws = append(ws, wf)
		}
	}
	if n := storetest.MaxRunning(ws); n > crossConcurrency {
		t.Errorf("%d workflows ran at once across processes with Concurrency %d", n, crossConcurrency)
	}
	executors := map[string]bool{}
	for _, w := range ws {
		executors[w.ExecutorID] = true
	}
	t.Logf("%d workflows run by %d processes, at most %d at once", len(ws), len(executors), storetest.MaxRunning(ws))
}

func crossWorker(t *testing.T, spec string) {
	index, path, ok := strings.Cut(spec, ":")
	n, err := strconv.Atoi(index)
	if !ok || err != nil {
		t.Fatalf("bad %s=%q", workerEnv, spec)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	s := openStore(t, path)
	executor := fmt.Sprintf("process-%d-%d", n, os.Getpid())
	// Every process declares the queue, as programs sharing it do.
	if _, _, err := s.DeclareQueue(ctx, store.QueueConfig{Name: crossQueue, Concurrency: crossConcurrency}, executor); err != nil {
		t.Fatal(err)
	}
	for i := range crossPerWorker {
		if _, _, err := storetest.InsertOne(ctx, s, store.InsertParams{ID: crossID(n, i), Name: "f", State: store.StateEnqueued, Queue: crossQueue}); err != nil {
			t.Fatal(err)
		}
	}
	for !allDone(t, ctx, s) {
		res, err := s.Claim(ctx, store.ClaimParams{Queue: crossQueue, ExecutorID: executor, Max: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Claimed) == 0 {
			time.Sleep(2 * time.Millisecond) // SQLite has no events: poll
			continue
		}
		time.Sleep(3 * time.Millisecond) // run
		for _, w := range res.Claimed {
			if ok, err := storetest.CompleteOne(ctx, s, store.CompleteParams{ID: w.ID, ExecutorID: executor, Attempts: w.Attempts, State: store.StateSuccess}); err != nil || !ok {
				t.Fatalf("Complete(%s) = %v, %v", w.ID, ok, err)
			}
		}
	}
}

// allDone reports whether every worker's workflows exist and finished.
func allDone(t *testing.T, ctx context.Context, s *Store) bool {
	for w := range crossWorkers {
		for i := range crossPerWorker {
			wf, err := s.GetWorkflow(ctx, crossID(w, i))
			if errors.Is(err, store.ErrNotFound) {
				return false
			}
			if err != nil {
				t.Fatal(err)
			}
			if wf.State != store.StateSuccess {
				return false
			}
		}
	}
	return true
}
