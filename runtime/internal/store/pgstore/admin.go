package pgstore

import (
	"context"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

// CancelWorkflow implements store.Store.
func (s *Store) CancelWorkflow(ctx context.Context, id string) (store.Workflow, bool, error) {
	row, err := s.q.CancelWorkflow(ctx, id)
	if err == nil {
		return workflow(row), true, nil
	}
	if !isNoRows(err) {
		return store.Workflow{}, false, fmt.Errorf("cancel workflow %q: %w", id, err)
	}
	w, err := s.GetWorkflow(ctx, id)
	return w, false, err
}

// ResumeWorkflow implements store.Store.
func (s *Store) ResumeWorkflow(ctx context.Context, id, executorID string) (store.Workflow, bool, error) {
	row, err := s.q.ResumeWorkflow(ctx, pgdb.ResumeWorkflowParams{WorkflowID: id, ExecutorID: executorID})
	if err == nil {
		return workflow(row), true, nil
	}
	if !isNoRows(err) {
		return store.Workflow{}, false, fmt.Errorf("resume workflow %q: %w", id, err)
	}
	w, err := s.GetWorkflow(ctx, id)
	return w, false, err
}

// ListWorkflows implements store.Store.
func (s *Store) ListWorkflows(ctx context.Context, f store.ListFilter) ([]store.Workflow, error) {
	if err := storekit.ValidateList(f); err != nil {
		return nil, err
	}
	rows, err := s.q.ListWorkflows(ctx, pgdb.ListWorkflowsParams{
		State:             optional(f.State),
		QueueName:         optional(f.Queue),
		Name:              optional(f.Name),
		CompletedBeforeMs: storekit.CompletedBeforeMs(f.CompletedBefore),
		CreatedAfterMs:    storekit.CreatedAfterMs(f.CreatedAfter),
		SkipRows:          int64(f.Offset),
		MaxRows:           int64(max(f.Limit, 1)),
	})
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	return workflows(rows), nil
}

// optional maps "" to NULL.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
