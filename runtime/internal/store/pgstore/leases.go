package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

// RenewLease implements store.Store.
func (s *Store) RenewLease(ctx context.Context, executorID string, lease time.Duration) error {
	if err := s.q.RenewLease(ctx, pgdb.RenewLeaseParams{ExecutorID: executorID, LeaseMs: storekit.Millis(lease)}); err != nil {
		return fmt.Errorf("renew lease of executor %q: %w", executorID, err)
	}
	return nil
}

// TakeOverExpired implements store.Store.
func (s *Store) TakeOverExpired(ctx context.Context, executorID string) ([]string, []store.Workflow, error) {
	var (
		dead  []string
		moved []store.Workflow
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var err error
		if dead, err = q.ReapExecutors(ctx, executorID); err != nil {
			return fmt.Errorf("find expired executors: %w", err)
		}
		for _, id := range dead {
			rows, err := q.TakeOverWorkflows(ctx, pgdb.TakeOverWorkflowsParams{ExecutorID: executorID, DeadID: id})
			if err != nil {
				return fmt.Errorf("take over the workflows of executor %q: %w", id, err)
			}
			moved = append(moved, workflows(rows)...)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return dead, moved, nil
}

// OwnedWorkflows implements store.Store.
func (s *Store) OwnedWorkflows(ctx context.Context, executorID string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	owned, err := s.q.OwnedWorkflows(ctx, pgdb.OwnedWorkflowsParams{Ids: ids, ExecutorID: executorID})
	if err != nil {
		return nil, fmt.Errorf("check the workflows executor %q runs: %w", executorID, err)
	}
	return owned, nil
}
