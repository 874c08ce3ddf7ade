package executor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/executor"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/storetest"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// TestStrandedClaimRuns: a claim whose call failed may have committed all
// the same (its reply lost when the server died, as in a failover), leaving
// a task PENDING under this live executor, which no other process takes
// over. After the failure the executor finds such tasks of the queue and
// runs them, once: a second look starts nothing.
func TestStrandedClaimRuns(t *testing.T) {
	onEachEngine(t, func(t *testing.T, rt *dbos.Runtime, logs *testdb.Buffer) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s := executor.StoreOf(rt)
		queue := "stranded_" + executor.NewWorkflowID()[:8]
		// What a claim leaves: PENDING under this executor, attempt 1.
		w, _, err := storetest.InsertOne(ctx, s, store.InsertParams{
			ID: "stranded-" + executor.NewWorkflowID(), Name: batchSquare.Name, Signature: batchSquare.Key(),
			State: store.StatePending, Queue: queue, ExecutorID: rt.ExecutorID(), AppVersion: rt.AppVersion(),
			Input: []byte("7"),
		})
		if err != nil {
			t.Fatal(err)
		}
		executor.RecoverStranded(rt, queue)
		executor.RecoverStranded(rt, queue) // one look at a time: this one returns at once
		testdb.WaitFor(t, "the stranded task ran", func() bool {
			now, err := s.GetWorkflow(ctx, w.ID)
			if err != nil {
				t.Fatal(err)
			}
			return now.State == store.StateSuccess
		})
		if now, _ := s.GetWorkflow(ctx, w.ID); string(now.Output) != "49" || now.Attempts != 1 {
			t.Errorf("the stranded task ended with output %q after %d attempts, want 49 after 1", now.Output, now.Attempts)
		}
		testdb.WaitFor(t, "the recovery logged", func() bool {
			return strings.Contains(logs.String(), "started 1 workflow of queue \\\""+queue+"\\\" that a claim took")
		})
		// Once more: nothing is stranded now, so nothing runs again.
		if n, err := executor.StartStranded(rt, queue); n != 0 || err != nil {
			t.Errorf("a second look started %d, %v; want 0", n, err)
		}
	})
}
