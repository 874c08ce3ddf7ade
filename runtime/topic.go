package dbos

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/executor"
	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
)

// Topic is a typed channel of messages to workflows: any code sends a
// workflow a message on it by the workflow's ID, and the workflow receives
// its messages of the topic one by one, in the order they were sent. A
// message sent before the workflow waits for it is kept until it does.
// Declare topics at package level, like queues:
//
//	var approvals = dbos.NewTopic[Approval]("approvals")
//
// Values travel as JSON (encoding/json).
type Topic[T any] struct {
	name string
}

// NewTopic declares the topic name for values of type T. Two declarations
// with one name are one topic: the processes that share a database must
// agree on T.
func NewTopic[T any](name string) *Topic[T] {
	if name == "" {
		panic("dbos.NewTopic: empty topic name")
	}
	return &Topic[T]{name: name}
}

// Name returns the topic's name.
func (t *Topic[T]) Name() string { return t.name }

// Send sends v to workflow workflowID on the topic. From any code: inside
// a workflow it is a checkpointed step, so a replay does not send it
// again. It fails with ErrNotFound when no workflow has that ID (start or
// enqueue the workflow first: WithID chooses its ID), and with ErrEncode,
// sending nothing, when v cannot be encoded.
func (t *Topic[T]) Send(ctx context.Context, workflowID string, v T) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("send on topic %q: %w: %w", t.name, sentinel.ErrEncode, err)
	}
	e, err := executor.From(ctx)
	if err != nil {
		return err
	}
	return e.Send(ctx, workflowID, t.name, payload)
}

// Recv receives the calling workflow's next message on the topic, the
// oldest not yet received, waiting up to timeout for one to arrive (a
// timeout of 0 or less only looks); ok is false when none came in time.
// It is a checkpointed step: each message is received once, and a
// workflow recovered after a crash receives the same messages in the same
// calls, waiting only what was left of a timeout. A message that cannot be
// decoded into T is an error wrapping ErrDecode that names the topic (the
// message is consumed, and a replay of the call returns the same error).
//
// Only a workflow's own code may call it: elsewhere it returns
// ErrOutsideWorkflow. A send from this process wakes it at once, as does
// one from another process on Postgres (LISTEN/NOTIFY); on SQLite another
// process's send is seen within Config.PollInterval (at least 100ms).
func (t *Topic[T]) Recv(ctx context.Context, timeout time.Duration) (v T, ok bool, err error) {
	e, err := executor.From(ctx)
	if err != nil {
		return v, false, err
	}
	payload, ok, err := e.Recv(ctx, t.name, timeout)
	if err != nil || !ok {
		return v, false, err
	}
	if err := json.Unmarshal(payload, &v); err != nil {
		var zero T
		return zero, false, fmt.Errorf("receive on topic %q: %w into %T: %w", t.name, sentinel.ErrDecode, zero, err)
	}
	return v, true, nil
}
