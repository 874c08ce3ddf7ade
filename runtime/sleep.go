package dbos

import (
	"context"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/executor"
)

// Sleep pauses the calling workflow for d, durably: its wake-up time is
// checkpointed (by the clock of the process that first ran the call) as a
// step of the workflow, so a workflow recovered after a crash wakes at the
// original time, not d after the restart; if that time has passed, Sleep
// returns at once. A cancelled workflow stops sleeping at once, and Sleep
// returns an error wrapping ErrCancelled (or the workflow's timeout, or
// the interruption of Shutdown).
//
// Only a workflow's own code may call it, with the ctx it was given:
// elsewhere (in main, in a step's body) it returns ErrOutsideWorkflow. Use
// WithDelay to start a workflow later instead.
func Sleep(ctx context.Context, d time.Duration) error {
	e, err := executor.From(ctx)
	if err != nil {
		return err
	}
	return e.Sleep(ctx, d)
}
