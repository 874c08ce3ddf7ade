package store

import "fmt"

// ForkParams describes a fork: a new workflow that starts with a copy of
// the first checkpoints of an existing one (the original), so that its run
// replays them and runs the steps after them again.
type ForkParams struct {
	// OriginalID is the workflow forked.
	OriginalID string
	// FromStep is the first step the fork runs again: the original's
	// checkpoints with StepID < FromStep are copied (1 copies none). At
	// least 1, and at most the original's last recorded StepID + 1.
	FromStep int
	// Workflow is the new row, as InsertWorkflows takes it: ENQUEUED on a
	// queue, or PENDING under an executor or under none (ExecutorID "":
	// an executor that runs it takes it over), without a DedupID. The caller
	// sets its Name and Input (the original's). Its Attempts are what
	// InsertWorkflows would set (0 ENQUEUED, 1 PENDING) plus 1 when
	// FromStep > 1: the claim or the start then makes them at least 2,
	// and Attempts > 1 tells the runtime to load checkpoints.
	Workflow InsertParams
}

// StepRangeError is ForkWorkflow's report of a FromStep past the
// original's last recorded step + 1.
type StepRangeError struct {
	WorkflowID string
	FromStep   int
	LastStep   int // the original's last recorded StepID; 0 when none
}

func (e *StepRangeError) Error() string {
	recorded := "no steps"
	if e.LastStep > 0 {
		recorded = fmt.Sprintf("steps up to %d", e.LastStep)
	}
	return fmt.Sprintf("fromStep %d is out of range: workflow %q has recorded %s, so fromStep must be from 1 to %d", e.FromStep, e.WorkflowID, recorded, e.LastStep+1)
}
