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

// recordInTx records st for owner in q's transaction; see store.RecordStep.
func recordInTx(ctx context.Context, q *sqlitedb.Queries, st store.Step, owner store.Owner) (store.Step, bool, error) {
	row, err := q.InsertStep(ctx, insertStepParams(st, owner))
	if err == nil {
		return step(row), true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.Step{}, false, err
	}
	// Not inserted: a stale run, or the step is recorded already.
	if err := checkOwner(ctx, q, st.WorkflowID, owner); err != nil {
		return store.Step{}, false, err
	}
	row, err = q.GetStep(ctx, sqlitedb.GetStepParams{WorkflowID: st.WorkflowID, StepID: int64(st.StepID)})
	if err != nil {
		return store.Step{}, false, fmt.Errorf("read recorded step: %w", err)
	}
	return step(row), false, nil
}

// SendMessage implements store.Store.
func (s *Store) SendMessage(ctx context.Context, m store.Message, st *store.Step, owner store.Owner) (saved store.Step, recorded bool, err error) {
	if len(m.Payload) == 0 {
		return store.Step{}, false, fmt.Errorf("send message on topic %q to workflow %q: empty payload", m.Topic, m.DestinationID)
	}
	err = s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) error {
		if st != nil {
			var err error
			if saved, recorded, err = recordInTx(ctx, q, *st, owner); err != nil || !recorded {
				return err
			}
		}
		_, err := q.InsertMessage(ctx, sqlitedb.InsertMessageParams{DestinationID: m.DestinationID, Topic: m.Topic, Payload: m.Payload})
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.Step{}, false, fmt.Errorf("send message on topic %q to workflow %q: %w", m.Topic, m.DestinationID, err)
	}
	return saved, recorded, nil
}

// ReceiveMessage implements store.Store.
func (s *Store) ReceiveMessage(ctx context.Context, topic string, st store.Step, also []store.Step, owner store.Owner) (saved store.Step, received bool, err error) {
	// A waiting receiver polls: look before taking the write lock.
	_, err = s.q.PeekMessage(ctx, sqlitedb.PeekMessageParams{DestinationID: st.WorkflowID, Topic: topic})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Step{}, false, nil
	}
	if err != nil {
		return store.Step{}, false, fmt.Errorf("receive message on topic %q for workflow %q: %w", topic, st.WorkflowID, err)
	}
	err = s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) error {
		var err error
		saved, received, err = storekit.ReceiveInTx(func() ([]byte, bool, error) {
			payload, err := q.TakeMessage(ctx, sqlitedb.TakeMessageParams{DestinationID: st.WorkflowID, Topic: topic})
			if errors.Is(err, sql.ErrNoRows) {
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
	err = s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) error {
		var err error
		if saved, recorded, err = recordInTx(ctx, q, st, owner); err != nil || !recorded {
			return err
		}
		return q.UpsertEvent(ctx, sqlitedb.UpsertEventParams{WorkflowID: st.WorkflowID, Key: key, Value: value})
	})
	if err != nil {
		return store.Step{}, false, fmt.Errorf("set event %q of workflow %q: %w", key, st.WorkflowID, err)
	}
	return saved, recorded, nil
}

// GetEvent implements store.Store.
func (s *Store) GetEvent(ctx context.Context, workflowID, key string) ([]byte, bool, error) {
	v, err := s.q.GetEvent(ctx, sqlitedb.GetEventParams{WorkflowID: workflowID, Key: key})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get event %q of workflow %q: %w", key, workflowID, err)
	}
	return v, true, nil
}
