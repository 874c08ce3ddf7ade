package dbos

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/executor"
	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
)

// Event is a typed value a workflow publishes under a key, for any code to
// read by the workflow's ID: a progress report, a result known before the
// workflow ends, a link to pass on. Each workflow has its own value of
// each key, and the latest value set wins. Declare events at package
// level:
//
//	var paymentURL = dbos.NewEvent[string]("payment_url")
//
// Values travel as JSON (encoding/json). A workflow's events are deleted
// with it (DeleteWorkflows, Config.Retention).
type Event[T any] struct {
	key string
}

// NewEvent declares the event key for values of type T. Two declarations
// with one key are one event: the processes that share a database must
// agree on T.
func NewEvent[T any](key string) *Event[T] {
	if key == "" {
		panic("dbos.NewEvent: empty key")
	}
	return &Event[T]{key: key}
}

// Key returns the event's key.
func (ev *Event[T]) Key() string { return ev.key }

// Set sets the calling workflow's value of the event to v, replacing the
// one set before. It is a checkpointed step: a replay does not set it
// again. Waiting readers (Get) wake at once. A value that cannot be
// encoded is an error wrapping ErrEncode, and nothing is set. Only a
// workflow's own code may call it: elsewhere it returns
// ErrOutsideWorkflow.
func (ev *Event[T]) Set(ctx context.Context, v T) error {
	value, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("set event %q: %w: %w", ev.key, sentinel.ErrEncode, err)
	}
	e, err := executor.From(ctx)
	if err != nil {
		return err
	}
	return e.SetEvent(ctx, ev.key, value)
}

// Get returns workflow workflowID's value of the event, waiting up to
// timeout for the workflow to set it (a timeout of 0 or less only looks);
// ok is false when it was not set in time. A workflow that does not exist
// (yet) is waited for like an unset value: its ID may be about to be
// started. From any code: inside a workflow it is a checkpointed step (a
// replay returns the same value, and waits only what was left of the
// timeout). A value that cannot be decoded into T is an error wrapping
// ErrDecode that names the key.
//
// A Set in this process wakes it at once, as does one in another process
// on Postgres (LISTEN/NOTIFY); on SQLite another process's Set is seen
// within Config.PollInterval (at least 100ms).
func (ev *Event[T]) Get(ctx context.Context, workflowID string, timeout time.Duration) (v T, ok bool, err error) {
	e, err := executor.From(ctx)
	if err != nil {
		return v, false, err
	}
	value, ok, err := e.GetEvent(ctx, workflowID, ev.key, timeout)
	if err != nil || !ok {
		return v, false, err
	}
	if err := json.Unmarshal(value, &v); err != nil {
		var zero T
		return zero, false, fmt.Errorf("get event %q of workflow %q: %w into %T: %w", ev.key, workflowID, sentinel.ErrDecode, zero, err)
	}
	return v, true, nil
}
