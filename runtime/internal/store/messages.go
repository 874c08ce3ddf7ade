package store

import "context"

// Message is a message sent to a workflow on a topic (dbos.Topic), kept
// until the workflow receives it.
type Message struct {
	DestinationID string // the receiving workflow
	Topic         string
	Payload       []byte // the encoded value; never empty
}

// Messenger is the part of Store that carries messages between workflows
// and workflows' events (dbos.Topic, dbos.Event): tables of their own, off
// the paths of enqueues, claims and completions.
type Messenger interface {
	// SendMessage queues m for its destination workflow, after the
	// messages sent to it on m.Topic before. ErrNotFound, and nothing
	// written, when the destination does not exist. With step not nil (a
	// send made by a workflow), step is recorded for owner in the same
	// transaction, as RecordStep would: when it is recorded already the
	// message is not sent again and the recorded step is returned with
	// recorded=false; ErrFenced, nothing written, when owner's run no
	// longer owns step's workflow.
	SendMessage(ctx context.Context, m Message, step *Step, owner Owner) (saved Step, recorded bool, err error)

	// ReceiveMessage, in one transaction, deletes the oldest message
	// queued for step.WorkflowID on topic and records step for owner with
	// the message's payload as its Output, together with the steps of
	// also (checkpoints the receive decided before it, recorded as
	// RecordSteps would), and returns the recorded step with
	// received=true. With no message waiting it writes nothing and returns
	// received=false, after one read and no transaction (a waiting
	// receiver polls with it). When step is recorded already it takes no message
	// and returns the recorded one with received=true; ErrFenced, nothing
	// written, when owner's run no longer owns the workflow.
	ReceiveMessage(ctx context.Context, topic string, step Step, also []Step, owner Owner) (saved Step, received bool, err error)

	// SetEvent records step for owner and sets the value of event key of
	// step.WorkflowID, in one transaction: the latest value set wins. When
	// step is recorded already it sets nothing and returns the recorded
	// one with recorded=false; ErrFenced, nothing written, when owner's
	// run no longer owns the workflow.
	SetEvent(ctx context.Context, key string, value []byte, step Step, owner Owner) (saved Step, recorded bool, err error)

	// GetEvent returns the value of workflow workflowID's event key, with
	// found=false when it is not set (or the workflow does not exist).
	GetEvent(ctx context.Context, workflowID, key string) (value []byte, found bool, err error)
}
