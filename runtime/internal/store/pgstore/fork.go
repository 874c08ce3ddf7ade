package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

// ForkWorkflow implements store.Store: one transaction reads the original
// (locking its row against deletion), inserts the fork's row (under the
// queue's shared lock, as an enqueue) and copies the checkpoints.
func (s *Store) ForkWorkflow(ctx context.Context, p store.ForkParams) (store.Workflow, bool, error) {
	if err := storekit.ValidateFork(p); err != nil {
		return store.Workflow{}, false, err
	}
	var (
		w       store.Workflow
		created bool
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		src, err := q.ForkSource(ctx, p.OriginalID)
		if isNoRows(err) {
			return fmt.Errorf("read original: %w", store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read original: %w", err)
		}
		if p.FromStep > int(src.LastStep)+1 {
			return &store.StepRangeError{WorkflowID: p.OriginalID, FromStep: p.FromStep, LastStep: int(src.LastStep)}
		}
		a := insertArgs(p.Workflow)
		a.Attempts = int32(storekit.ForkAttempts(p))
		row, err := q.InsertWorkflow(ctx, a)
		if isNoRows(err) { // the ID exists
			existing, err := q.GetWorkflow(ctx, p.Workflow.ID)
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
			if _, err := q.CopySteps(ctx, pgdb.CopyStepsParams{ToWorkflowID: p.Workflow.ID, FromWorkflowID: p.OriginalID, BeforeStep: int32(p.FromStep)}); err != nil {
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
