package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

// recordInTx records st for owner through q (in a transaction, or not: see
// RecordStep); see store.RecordStep.
func recordInTx(ctx context.Context, q *pgdb.Queries, st store.Step, owner store.Owner) (store.Step, bool, error) {
	row, err := q.InsertStep(ctx, pgdb.InsertStepParams{
		WorkflowID: st.WorkflowID,
		StepID:     int32(st.StepID),
		Name:       st.Name,
		Output:     st.Output,
		Error:      st.Error,
		ChildID:    st.ChildID,
		Code:       st.Code,
		StartedMs:  storekit.MsPtr(st.StartedAt),
		ExecutorID: owner.ExecutorID,
		Attempts:   int32(owner.Attempts),
	})
	if err == nil {
		return step(row), true, nil
	}
	if !isNoRows(err) {
		return store.Step{}, false, err
	}
	// Not inserted: a stale run, or the step is recorded already.
	if err := checkOwner(ctx, q, st.WorkflowID, owner); err != nil {
		return store.Step{}, false, err
	}
	row, err = q.GetStep(ctx, pgdb.GetStepParams{WorkflowID: st.WorkflowID, StepID: int32(st.StepID)})
	if err != nil {
		return store.Step{}, false, fmt.Errorf("read recorded step: %w", err)
	}
	return step(row), false, nil
}

// SendMessage implements store.Store: one statement, or, for a workflow's
// send, one transaction with its checkpoint.
func (s *Store) SendMessage(ctx context.Context, m store.Message, st *store.Step, owner store.Owner) (saved store.Step, recorded bool, err error) {
	if len(m.Payload) == 0 {
		return store.Step{}, false, fmt.Errorf("send message on topic %q to workflow %q: empty payload", m.Topic, m.DestinationID)
	}
	insert := func(q *pgdb.Queries) error {
		_, err := q.InsertMessage(ctx, pgdb.InsertMessageParams{DestinationID: m.DestinationID, Topic: m.Topic, Payload: m.Payload})
		if isNoRows(err) {
			return store.ErrNotFound
		}
		return err
	}
	if st == nil {
		err = insert(s.q)
	} else {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			q := s.q.WithTx(tx)
			var err error
			if saved, recorded, err = recordInTx(ctx, q, *st, owner); err != nil || !recorded {
				return err
			}
			return insert(q)
		})
	}
	if err != nil {
		return store.Step{}, false, fmt.Errorf("send message on topic %q to workflow %q: %w", m.Topic, m.DestinationID, err)
	}
	return saved, recorded, nil
}

// ReceiveMessage implements store.Store: when a message waits (a read),
// the oldest is deleted (locked FOR UPDATE) and checkpointed in one
// transaction.
func (s *Store) ReceiveMessage(ctx context.Context, topic string, st store.Step, also []store.Step, owner store.Owner) (saved store.Step, received bool, err error) {
	// A waiting receiver polls: one read, not a transaction, when none
	// waits.
	_, err = s.q.PeekMessage(ctx, pgdb.PeekMessageParams{DestinationID: st.WorkflowID, Topic: topic})
	if isNoRows(err) {
		return store.Step{}, false, nil
	}
	if err != nil {
		return store.Step{}, false, fmt.Errorf("receive message on topic %q for workflow %q: %w", topic, st.WorkflowID, err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var err error
		saved, received, err = storekit.ReceiveInTx(func() ([]byte, bool, error) {
			payload, err := q.TakeMessage(ctx, pgdb.TakeMessageParams{DestinationID: st.WorkflowID, Topic: topic})
			if isNoRows(err) {
				return nil, false, nil // none waits
			}
			return payload, err == nil, err
		}, func(a store.Step) (store.Step, bool, error) { return recordInTx(ctx, q, a, owner) }, st, also)
		return err
	})
	if errors.Is(err, storekit.ErrStepExists) {
		return saved, true, nil
	}
	if err != nil {
		return store.Step{}, false, fmt.Errorf("receive message on topic %q for workflow %q: %w", topic, st.WorkflowID, err)
	}
	return saved, received, nil
}

// SetEvent implements store.Store.
func (s *Store) SetEvent(ctx context.Context, key string, value []byte, st store.Step, owner store.Owner) (saved store.Step, recorded bool, err error) {
	if len(value) == 0 {
		return store.Step{}, false, fmt.Errorf("set event %q of workflow %q: empty value", key, st.WorkflowID)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var err error
		if saved, recorded, err = recordInTx(ctx, q, st, owner); err != nil || !recorded {
			return err
		}
		return q.UpsertEvent(ctx, pgdb.UpsertEventParams{WorkflowID: st.WorkflowID, Key: key, Value: value})
	})
	if err != nil {
		return store.Step{}, false, fmt.Errorf("set event %q of workflow %q: %w", key, st.WorkflowID, err)
	}
	return saved, recorded, nil
}

// GetEvent implements store.Store.
func (s *Store) GetEvent(ctx context.Context, workflowID, key string) ([]byte, bool, error) {
	v, err := s.q.GetEvent(ctx, pgdb.GetEventParams{WorkflowID: workflowID, Key: key})
	if isNoRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get event %q of workflow %q: %w", key, workflowID, err)
	}
	return v, true, nil
}
