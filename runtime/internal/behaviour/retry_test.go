package behaviour

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

func TestStepRetriesFromTheDirective(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		key := fmt.Sprintf("%s-%d", t.Name(), taskIDs.Add(1))
		// Two failures, then success on the third of four allowed attempts:
		// inside a workflow and enqueued on its own.
		if got, err := RunUseFlaky(ctx, key+"-wf", 2); err != nil || got != 3 {
			t.Errorf("in a workflow: %d, %v; want success on attempt 3", got, err)
		}
		h, err := EnqueueFlaky(ctx, TaskQueue, key+"-q", 2)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := h.GetResult(ctx); err != nil || got != 3 {
			t.Errorf("enqueued: %d, %v; want success on attempt 3", got, err)
		}
		// Always failing: four attempts, then the last error with the count.
		_, err = RunUseFlaky(ctx, key+"-never", 100)
		var werr *dbos.WorkflowError
		if !errors.As(err, &werr) || !strings.Contains(werr.Message, "failed after 4 attempts: flaky failure 4") {
			t.Errorf("always failing: err = %v, want the 4th failure with the attempt count", err)
		}
		if n := CallCount("Flaky/" + key + "-never"); n != 4 {
			t.Errorf("always failing step ran %d times, want 4 (retries=3)", n)
		}
	})
}
