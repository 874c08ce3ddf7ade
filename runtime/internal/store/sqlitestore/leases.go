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
func (s *Store) RenewLease(ctx context.Context, e store.Executor, lease time.Duration) error {
	functions, queues := storekit.ExecutorColumns(e)
	err := s.write(func() error {
		return s.q.RenewLease(ctx, sqlitedb.RenewLeaseParams{
			ExecutorID: e.ID,
			LeaseMs:    storekit.Millis(lease),
			AppVersion: e.AppVersion,
			Functions:  functions,
			Queues:     queues,
		})
	})
	if err != nil {
		return fmt.Errorf("renew lease of executor %q: %w", e.ID, err)
	}
	return nil
}

// TakeOverExpired implements store.Store: in one IMMEDIATE transaction, it
// reaps the expired executors, finds the owners of the orphaned PENDING
// workflows it would move, moves each one's, and forgets executors reaped
// long ago (see the Postgres store).
func (s *Store) TakeOverExpired(ctx context.Context, executorID string, runs *store.Runs) (store.TakeOver, error) {
	if err := storekit.ValidateRuns(runs); err != nil {
		return store.TakeOver{}, err
	}
	r := s.runsOf(runs)
	var to store.TakeOver
	err := s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) error {
		var err error
		if to.Dead, err = q.ReapExecutors(ctx, executorID); err != nil {
			return fmt.Errorf("find expired executors: %w", err)
		}
		owners, err := q.OrphanOwners(ctx, sqlitedb.OrphanOwnersParams{
			ExecutorID:    executorID,
			RunsAny:       r.any,
			RunVersion:    r.version,
			RunNames:      r.names,
			RunSignatures: r.signatures,
		})
		if err != nil {
			return fmt.Errorf("find orphaned workflows: %w", err)
		}
		for _, owner := range owners {
			rows, err := q.TakeOverWorkflows(ctx, sqlitedb.TakeOverWorkflowsParams{
				ExecutorID:    executorID,
				Owner:         owner,
				RunsAny:       r.any,
				RunVersion:    r.version,
				RunNames:      r.names,
				RunSignatures: r.signatures,
			})
			if err != nil {
				return fmt.Errorf("take over the workflows of executor %q: %w", owner, err)
			}
			for _, row := range rows {
				to.Moved = append(to.Moved, workflow(row))
				to.From = append(to.From, owner)
			}
		}
		if err := q.ForgetExecutors(ctx); err != nil {
			return fmt.Errorf("forget executors reaped long ago: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.TakeOver{}, err
	}
	return to, nil
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

// LiveExecutors implements store.Store.
func (s *Store) LiveExecutors(ctx context.Context) ([]store.Executor, error) {
	rows, err := s.q.LiveExecutors(ctx)
	if err != nil {
		return nil, fmt.Errorf("list live executors: %w", err)
	}
	out := make([]store.Executor, len(rows))
	for i, r := range rows {
		out[i] = storekit.ExecutorOf(r.ExecutorID, r.AppVersion, r.Functions, r.Queues, r.ExpiresMs)
	}
	return out, nil
}

// WaitingWork implements store.Store.
func (s *Store) WaitingWork(ctx context.Context) ([]store.WaitingGroup, error) {
	rows, err := s.q.WaitingWork(ctx, store.WaitingPerQueue)
	if err != nil {
		return nil, fmt.Errorf("count waiting work: %w", err)
	}
	out := make([]store.WaitingGroup, len(rows))
	for i, r := range rows {
		out[i] = store.WaitingGroup{Name: r.Name, Signature: r.Signature, AppVersion: r.AppVersion, Queue: r.QueueName, State: r.State, Count: int(r.N)}
	}
	return out, nil
}
