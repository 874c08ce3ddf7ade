package storekit

import (
	"errors"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// ValidateFork checks ForkParams before they reach the database.
func ValidateFork(p store.ForkParams) error {
	switch {
	case p.OriginalID == "":
		return errors.New("fork workflow: empty original workflow ID")
	case p.FromStep < 1:
		return fmt.Errorf("fork workflow %q: fromStep %d is out of range; it must be at least 1", p.OriginalID, p.FromStep)
	case p.Workflow.ID == p.OriginalID:
		return fmt.Errorf("fork workflow %q: the fork needs an ID of its own", p.OriginalID)
	case p.Workflow.DedupID != "":
		return fmt.Errorf("fork workflow %q: a fork takes no deduplication ID", p.OriginalID)
	}
	// A PENDING fork may have no executor: one that runs it takes it
	// over (see store.ForkParams).
	return validateRow(p.Workflow, true)
}

// ForkAttempts is the Attempts a fork's row starts with (see
// store.ForkParams): what an insert sets, plus 1 when checkpoints are
// copied.
func ForkAttempts(p store.ForkParams) int {
	n := InsertAttempts(p.Workflow)
	if p.FromStep > 1 {
		n++
	}
	return n
}

// InsertAttempts is the Attempts a new workflow's row starts with: 1 for a
// PENDING row (its start), 0 for an ENQUEUED one (its claim counts it).
func InsertAttempts(p store.InsertParams) int {
	if p.State == store.StatePending {
		return 1
	}
	return 0
}
