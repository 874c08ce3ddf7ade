package oteltest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dbos-oteltest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	defer os.RemoveAll(dir)
	testdb.Main(m)
}

// launch starts a runtime with cfg on url and shuts it down when the test
// ends (unless the test did).
func launch(t *testing.T, url string, cfg dbos.Config) *dbos.Runtime {
	t.Helper()
	cfg.DatabaseURL = url
	if cfg.ExecutorID == "" {
		cfg.ExecutorID = unique("oteltest")
	}
	rt, err := dbos.Launch(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	return rt
}

// testCtx is a context bound to rt that ends with the test.
func testCtx(t *testing.T, rt *dbos.Runtime) context.Context {
	ctx, cancel := context.WithTimeout(rt.WithContext(context.Background()), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// unique returns prefix and a random suffix.
func unique(prefix string) string { return prefix + "-" + testdb.RandomHex(4) }

// waitFinished waits until workflow id is finished.
func waitFinished(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	testdb.WaitFor(t, "workflow "+id+" to finish", func() bool {
		st, err := dbos.WorkflowStatus(ctx, id)
		return err == nil && st.State.Terminal()
	})
}

// receive waits for a value on ch.
func receive(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("timed out waiting for %s", what)
	}
}
