package dbos

import (
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// State is a workflow's place in its life.
type State string

// The states a workflow passes through.
const (
	// StateEnqueued: waiting on its queue to be claimed.
	StateEnqueued State = "ENQUEUED"
	// StatePending: claimed by an executor and running (or waiting to be
	// resumed after its executor stopped).
	StatePending State = "PENDING"
	// StateSuccess: finished and returned a result.
	StateSuccess State = "SUCCESS"
	// StateError: finished with an error.
	StateError State = "ERROR"
	// StateCancelled: cancelled before it finished (or timed out).
	StateCancelled State = "CANCELLED"
	// StateDeadLetter: recovered after a crash more times than its
	// function's max_recovery allows, so set aside instead of looping
	// forever. Resume puts it back to work.
	StateDeadLetter State = "DEAD_LETTER"
)

// States returns every workflow state, in the order of a workflow's life
// (for tools that list or validate them).
func States() []State {
	return []State{StateEnqueued, StatePending, StateSuccess, StateError, StateCancelled, StateDeadLetter}
}

// Terminal reports whether a workflow in state s has finished.
func (s State) Terminal() bool { return store.Terminal(string(s)) }

// Status describes a workflow as the database records it.
type Status struct {
	// ID is the workflow ID.
	ID string
	// Name is the registered function name.
	Name string
	// State is where the workflow is in its life.
	State State
	// Queue is the queue it was enqueued on; "" when started directly.
	Queue string
	// ExecutorID is the executor that claimed it last; "" before a claim.
	ExecutorID string
	// Attempts counts the times it was started: claims plus recoveries.
	Attempts int
	// Error is the error message of a failed or cancelled workflow.
	Error string
	// Priority is its queue priority.
	Priority int
	// Input is the call's arguments as stored: a JSON object with a field
	// per parameter after the context, named as the parameter.
	Input []byte
	// Output is its result, encoded as JSON, once it succeeded; nil
	// before, and for a function without a result.
	Output []byte
	// ParentID is the ID of the workflow that enqueued or started it.
	ParentID string
	// CreatedAt is when it was enqueued or started.
	CreatedAt time.Time
	// StartedAt is when it was last claimed; zero before.
	StartedAt time.Time
	// CompletedAt is when it finished; zero before.
	CompletedAt time.Time
	// AppVersion is the application version it started under; "" before
	// it started (see Config.AppVersion).
	AppVersion string
	// Waiting says why an enqueued or pending workflow waits when no live
	// process can run it, read when the status is: for example "no live
	// executor registers example.com/app.F with this signature (...)", or
	// "no live executor of version 3f1c0a9e2b7d registers
	// example.com/app.F (it started under version 3f1c0a9e2b7d)". "" when
	// it is finished, running, or some live process can run it. Such a
	// workflow waits, never fails: start a process that runs it (its
	// version, its function's signature, its queue), or cancel it.
	Waiting string
}

// statusOf is the status of a workflow's row.
func statusOf(w store.Workflow) Status {
	return Status{
		ID:          w.ID,
		Name:        w.Name,
		State:       State(w.State),
		Queue:       w.Queue,
		ExecutorID:  w.ExecutorID,
		Attempts:    w.Attempts,
		Error:       w.Error,
		Priority:    w.Priority,
		Input:       w.Input,
		Output:      w.Output,
		ParentID:    w.ParentID,
		CreatedAt:   w.CreatedAt,
		StartedAt:   w.StartedAt,
		CompletedAt: w.CompletedAt,
		AppVersion:  w.AppVersion,
	}
}
