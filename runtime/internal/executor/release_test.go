package executor_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/executor"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/storetest"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// TestUnrunnableWorkflowIsReleased: should an executor ever be given a
// workflow it cannot run (claims, recovery and takeover never give it one:
// a bug), it does not fail the workflow: it logs an error and releases it,
// queued back to its queue, or PENDING under no executor, for an executor
// that can run it.
func TestUnrunnableWorkflowIsReleased(t *testing.T) {
	onEachEngine(t, func(t *testing.T, rt *dbos.Runtime, logs *testdb.Buffer) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s := executor.StoreOf(rt)
		for _, c := range []struct {
			what string
			p    store.InsertParams
		}{
			{"an unregistered function", store.InsertParams{Name: "test.notRegistered"}},
			{"another signature", store.InsertParams{Name: batchSquare.Name, Signature: "another"}},
			{"another version", store.InsertParams{Name: batchSquare.Name, Signature: batchSquare.Key(), AppVersion: "other"}},
		} {
			logs.Reset() // this case's lines alone
			p := c.p
			p.ID, p.State, p.ExecutorID = "unrunnable-"+executor.NewWorkflowID(), store.StatePending, rt.ExecutorID()
			if p.AppVersion == "" {
				p.AppVersion = rt.AppVersion()
			}
			w, _, err := storetest.InsertOne(ctx, s, p)
			if err != nil {
				t.Fatal(err)
			}
			executor.Execute(rt, w)
			testdb.WaitFor(t, c.what+" released", func() bool {
				now, err := s.GetWorkflow(ctx, w.ID)
				if err != nil {
					t.Fatal(err)
				}
				if now.State != store.StatePending {
					t.Fatalf("%s: the workflow became %s: %s", c.what, now.State, now.Error)
				}
				return now.ExecutorID == ""
			})
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), w.ID) {
				t.Errorf("%s: no error logged naming %s:\n%s", c.what, w.ID, logs)
			}
		}
	})
}

// onEachEngine runs f in a subtest per engine, with a runtime launched on a
// fresh database whose log goes to logs.
func onEachEngine(t *testing.T, f func(t *testing.T, rt *dbos.Runtime, logs *testdb.Buffer)) {
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + testdb.SQLitePath(t) },
		"postgres": func(t *testing.T) string { return testdb.NewPostgresDatabase(t) },
	} {
		t.Run(name, func(t *testing.T) {
			logs := &testdb.Buffer{}
			rt, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: url(t), Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if err != nil {
				t.Fatalf("Launch: %v", err)
			}
			t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
			f(t, rt, logs)
		})
	}
}
