package executor

import (
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Error messages recorded for workflows the runtime ended itself. They are
// mapped back to sentinels when results are read.
const (
	timeoutMessage = "workflow timed out"
)

// resultError is the error GetResult returns for a finished workflow.
func resultError(w store.Workflow) error {
	switch w.State {
	case store.StateError:
		return sentinel.WorkflowError(w.ID, w.Error)
	case store.StateDeadLetter:
		return fmt.Errorf("workflow %q: %w: %s", w.ID, sentinel.ErrDeadLetter, w.Error)
	case store.StateCancelled:
		if w.Error == timeoutMessage {
			return fmt.Errorf("workflow %q: %w", w.ID, sentinel.ErrTimeout)
		}
		return fmt.Errorf("workflow %q: %w", w.ID, sentinel.ErrCancelled)
	}
	return nil
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// recordedError rebuilds the error a checkpointed step returned. Error
// values cannot be stored, so replay returns one with the same message,
// matching the sentinel the step's code names (see recordStep), else a
// *dbos.WorkflowError for a step that awaited a child workflow, else a
// plain error.
func recordedError(s store.Step) error {
	if s.Error == "" {
		return nil
	}
	if err := sentinel.ForCode(s.Code); err != nil {
		return &replayError{msg: s.Error, sentinel: err}
	}
	if s.ChildID != "" {
		return sentinel.WorkflowError(s.ChildID, s.Error)
	}
	return &replayError{msg: s.Error}
}

// replayError is a recorded step error, returned again on replay.
type replayError struct {
	msg      string
	sentinel error
}

func (e *replayError) Error() string { return e.msg }
func (e *replayError) Unwrap() error { return e.sentinel }
