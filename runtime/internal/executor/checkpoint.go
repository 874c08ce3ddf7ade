package executor

import (
	"context"
	"errors"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// recordStep checkpoints a step's outcome: its output, or stepErr's
// message and code (see replay.go). When another attempt recorded the
// step first, its outcome wins, so every attempt sees the same one.
func (e *Executor) recordStep(ctx context.Context, wf *workflowState, s store.Step, stepErr error) ([]byte, error) {
	s.WorkflowID = wf.id
	if s.Error != "" {
		s.Code = sentinel.Code(stepErr)
	}
	if err := e.flush(ctx, wf); err != nil {
		return nil, err
	}
	var saved store.Step
	var recorded bool
	err := e.persist(ctx, "checkpoint step", func(ctx context.Context) (err error) {
		saved, recorded, err = e.store.RecordStep(ctx, s, wf.owner)
		return err
	})
	if errors.Is(err, store.ErrFenced) {
		// Cancelled, or taken over by a newer run: this run must stop.
		return nil, fmt.Errorf("checkpoint step %d (%s) of workflow %q: %w: it was cancelled or is run elsewhere now", s.StepID, s.Name, wf.id, errStaleRun)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint step %d (%s) of workflow %q: %w", s.StepID, s.Name, wf.id, err)
	}
	if !recorded {
		return saved.Output, recordedError(saved)
	}
	return s.Output, stepErr
}
