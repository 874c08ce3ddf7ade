package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore/sqlitedb"
)

// ForkWorkflow implements store.Store in one IMMEDIATE transaction: read
// the original, insert the fork's row, copy the checkpoints.
func (s *Store) ForkWorkflow(ctx context.Context, p store.ForkParams) (store.Workflow, bool, error) {
	if err := storekit.ValidateFork(p); err != nil {
		return store.Workflow{}, false, err
	}
	var (
		w       store.Workflow
		created bool
	)
	err := s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) error {
		src, err := q.ForkSource(ctx, p.OriginalID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read original: %w", store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read original: %w", err)
		}
		if p.FromStep > int(src.LastStep)+1 {
			return &store.StepRangeError{WorkflowID: p.OriginalID, FromStep: p.FromStep, LastStep: int(src.LastStep)}
		}
		f := p.Workflow
		row, err := q.InsertWorkflow(ctx, insertArgs(f, storekit.ForkAttempts(p)))
		if errors.Is(err, sql.ErrNoRows) { // the ID exists
			existing, err := q.GetWorkflow(ctx, f.ID)
			if err != nil {
				return fmt.Errorf("read existing: %w", err)
			}
			w = workflow(existing)
			return nil
		}
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		if p.FromStep > 1 {
			if _, err := q.CopySteps(ctx, sqlitedb.CopyStepsParams{ToWorkflowID: f.ID, FromWorkflowID: p.OriginalID, BeforeStep: int64(p.FromStep)}); err != nil {
				return fmt.Errorf("copy checkpoints: %w", err)
			}
		}
		w, created = workflow(row), true
		return nil
	})
	if err != nil {
		return store.Workflow{}, false, fmt.Errorf("fork workflow %q as %q: %w", p.OriginalID, p.Workflow.ID, err)
	}
	return w, created, nil
}
