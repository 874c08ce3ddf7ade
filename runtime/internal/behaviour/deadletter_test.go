package behaviour

import (
	"context"
	"errors"
	"fmt"
	"testing"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

func TestTooManyRecoveriesDeadLetter(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		executor := fmt.Sprintf("fragile-%d", executorSeq.Add(1))
		id := fmt.Sprintf("fragile-%d", taskIDs.Add(1))
		stopNow, cancel := context.WithCancel(context.Background())
		cancel()
		// Run 1 and recovery 1 are both interrupted while Blocker waits.
		for run := range 2 {
			rt, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: url, ExecutorID: executor})
			if err != nil {
				t.Fatal(err)
			}
			if run == 0 {
				if _, err := StartFragile(testCtx(t, rt), "f", dbos.WithID(id)); err != nil {
					t.Fatal(err)
				}
			}
			<-Gate.Entered
			_ = rt.Shutdown(stopNow)
		}
		// Recovery 2 is one more than max_recovery=1 allows.
		rt := launch(t, url, executor)
		ctx := testCtx(t, rt)
		h, err := RetrieveFragile(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.GetResult(ctx); !errors.Is(err, dbos.ErrDeadLetter) {
			t.Fatalf("GetResult = %v, want ErrDeadLetter", err)
		}
		if st, _ := h.Status(ctx); st.State != dbos.StateDeadLetter {
			t.Errorf("state %s, want DEAD_LETTER", st.State)
		}
		// Resume gives it a fresh count, and it finishes.
		if err := dbos.Resume(ctx, id); err != nil {
			t.Fatal(err)
		}
		<-Gate.Entered
		Gate.Release <- struct{}{}
		if got, err := h.GetResult(ctx); err != nil || got != "f:3" {
			t.Errorf("resumed Fragile = %q, %v; want f:3", got, err)
		}
	})
}
