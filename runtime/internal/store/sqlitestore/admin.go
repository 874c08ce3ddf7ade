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

// CancelWorkflow implements store.Store.
func (s *Store) CancelWorkflow(ctx context.Context, id string) (store.Workflow, bool, error) {
	var row sqlitedb.Workflow
	err := s.write(func() (err error) {
		row, err = s.q.CancelWorkflow(ctx, id)
		return err
	})
	if err == nil {
		return workflow(row), true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.Workflow{}, false, fmt.Errorf("cancel workflow %q: %w", id, err)
	}
	w, err := s.GetWorkflow(ctx, id)
	return w, false, err
}

// ResumeWorkflow implements store.Store.
func (s *Store) ResumeWorkflow(ctx context.Context, id, executorID string) (store.Workflow, bool, error) {
	var row sqlitedb.Workflow
	err := s.write(func() (err error) {
		row, err = s.q.ResumeWorkflow(ctx, sqlitedb.ResumeWorkflowParams{WorkflowID: id, ExecutorID: executorID})
		return err
	})
	if err == nil {
		return workflow(row), true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
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
	rows, err := s.q.ListWorkflows(ctx, sqlitedb.ListWorkflowsParams{
		State:             optional(f.State),
		QueueName:         optional(f.Queue),
		Name:              optional(f.Name),
		CompletedBeforeMs: optionalMs(storekit.CompletedBeforeMs(f.CompletedBefore)),
		CreatedAfterMs:    optionalMs(storekit.CreatedAfterMs(f.CreatedAfter)),
		SkipRows:          int64(f.Offset),
		MaxRows:           int64(max(f.Limit, 1)),
	})
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	return workflows(rows), nil
}

// optional maps "" to NULL.
func optional(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// optionalMs maps nil to NULL.
func optionalMs(ms *int64) any {
	if ms == nil {
		return nil
	}
	return *ms
}
