package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore/sqlitedb"
)

// RenewLease implements store.Store.
func (s *Store) RenewLease(ctx context.Context, executorID string, lease time.Duration) error {
	err := s.write(func() error {
		return s.q.RenewLease(ctx, sqlitedb.RenewLeaseParams{ExecutorID: executorID, LeaseMs: storekit.Millis(lease)})
	})
	if err != nil {
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
	err := s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) error {
		var err error
		if dead, err = q.ReapExecutors(ctx, executorID); err != nil {
			return fmt.Errorf("find expired executors: %w", err)
		}
		for _, id := range dead {
			rows, err := q.TakeOverWorkflows(ctx, sqlitedb.TakeOverWorkflowsParams{ExecutorID: executorID, DeadID: id})
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
	owned, err := s.q.OwnedWorkflows(ctx, sqlitedb.OwnedWorkflowsParams{Ids: ids, ExecutorID: executorID})
	if err != nil {
		return nil, fmt.Errorf("check the workflows executor %q runs: %w", executorID, err)
	}
	return owned, nil
}
