package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// roleEnv, set in a child process of this test binary, makes it run the
// program in that role (see TestMain) instead of the tests.
const roleEnv = "INORDER_TEST_ROLE"

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		if err := run("", role); err != nil {
			fmt.Fprintln(os.Stderr, "inorder:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestWebAndWorkerProcesses runs the web role in this process (client-only:
// it serves HTTP and enqueues) and the worker role in another process on
// the same database: every event is processed by the worker, none here,
// one at a time in arrival order (from the start and completion times the
// database recorded).
func TestWebAndWorkerProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	processed.Lock()
	before := len(processed.events) // another test's
	processed.Unlock()
	url := "sqlite:" + filepath.Join(t.TempDir(), "inorder.sqlite")
	workerID := fmt.Sprintf("inorder-worker-%d", os.Getpid())

	worker := exec.Command(os.Args[0], "-test.run=^$")
	worker.Env = append(os.Environ(), roleEnv+"=worker", "DBOS_DATABASE_URL="+url, "DBOS_EXECUTOR_ID="+workerID)
	var logs strings.Builder
	worker.Stderr = &logs
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = worker.Process.Signal(os.Interrupt)
		_ = worker.Wait()
		if t.Failed() {
			t.Logf("the worker's logs:\n%s", logs.String())
		}
	}()

	cfg, serve, err := configFor("web")
	if err != nil || !serve || !cfg.ClientOnly {
		t.Fatalf("configFor(web) = %+v, %v, %v", cfg, serve, err)
	}
	cfg.DatabaseURL = url
	web, err := dbos.Launch(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer web.Shutdown(ctx)
	srv := httptest.NewServer(newHandler())
	defer srv.Close()

	var posted, ids []string
	for i := range 25 {
		event := fmt.Sprintf("event-%02d", i)
		resp, err := http.Post(srv.URL+"/events/"+event, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST %s: %s: %s", event, resp.Status, body)
		}
		posted = append(posted, event)
		ids = append(ids, strings.TrimSpace(string(body)))
	}
	var sts []dbos.Status
	for _, id := range ids {
		h, err := RetrieveProcessEvent(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := h.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.ExecutorID != workerID {
			t.Errorf("%s was processed by %q, want the worker %s", id, st.ExecutorID, workerID)
		}
		sts = append(sts, st)
	}
	processed.Lock()
	if len(processed.events) != before {
		t.Errorf("the web process processed %v", processed.events[before:])
	}
	processed.Unlock()

	order := make([]int, len(sts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return sts[order[a]].StartedAt.Before(sts[order[b]].StartedAt) })
	for k, i := range order {
		if i != k {
			t.Fatalf("events started in the order %v, want the arrival order", order)
		}
		if k > 0 && sts[i].StartedAt.Before(sts[order[k-1]].CompletedAt) {
			t.Errorf("%s started at %v, before %s completed at %v", posted[i], sts[i].StartedAt, posted[order[k-1]], sts[order[k-1]].CompletedAt)
		}
	}
}
