package executor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/registry"
)

// callStep runs a step's body, retrying a failure as the directive's
// retries=, backoff= and max_backoff= say. The wait before retry k is
// min(Backoff·2^(k-1), MaxBackoff), jittered to between half and all of it.
// Waits end early when ctx is done. The final error names the attempts;
// when every retry failed, that is logged as a warning.
//
// The attempts show on ctx's span (the step's, or the run's of a step
// enqueued on its own): a telemetry.RetryEvent per failed attempt that
// another follows, and their number (dbos.step.attempts).
func (e *Executor) callStep(ctx context.Context, fn *registry.Function, input []byte) ([]byte, error) {
	out, err := fn.Call(ctx, input)
	if err == nil || fn.Retries == 0 {
		e.tel.Attempts(ctx, 1)
		return out, err
	}
	wait := fn.Backoff
	for attempt := 2; attempt <= fn.Retries+1; attempt++ {
		if ctx.Err() != nil {
			e.tel.Attempts(ctx, attempt-1)
			return nil, fmt.Errorf("%s failed after %d attempts: %w", fn.Name, attempt-1, err)
		}
		e.tel.Retry(ctx, attempt-1, err)
		jittered := wait/2 + rand.N(wait/2+1)
		t := time.NewTimer(jittered)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			e.tel.Attempts(ctx, attempt-1)
			return nil, fmt.Errorf("%s failed after %d attempts: %w", fn.Name, attempt-1, err)
		}
		if out, err = fn.Call(ctx, input); err == nil {
			e.tel.Attempts(ctx, attempt)
			return out, nil
		}
		wait = min(2*wait, fn.MaxBackoff)
	}
	e.tel.Attempts(ctx, fn.Retries+1)
	err = fmt.Errorf("%s failed after %d attempts: %w", fn.Name, fn.Retries+1, err)
	e.log.Warn("dbos: step gave up after its retries", "step", fn.Name, "attempts", fn.Retries+1, "err", err)
	return nil, err
}
