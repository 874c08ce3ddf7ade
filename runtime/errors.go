package dbos

import "errors"

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrNotLaunched is returned by every durable call made when no runtime
	// is bound to the context and dbos.Launch has not made a process default.
	ErrNotLaunched = errors.New("dbos: runtime not launched (call dbos.Launch first or bind one with rt.WithContext)")

	// ErrNotFound is returned when a workflow ID does not exist.
	ErrNotFound = errors.New("dbos: workflow not found")

	// ErrDuplicate is returned by an enqueue whose deduplication ID is held by
	// a task that is still enqueued or running on the same queue.
	ErrDuplicate = errors.New("dbos: duplicate deduplication ID")

	// ErrConflictingID is returned when a workflow ID is reused for a
	// different function than the one it was first started with.
	ErrConflictingID = errors.New("dbos: workflow ID already used by another function")

	// ErrEncode is returned when an input or output value cannot be encoded.
	ErrEncode = errors.New("dbos: cannot encode value")

	// ErrDecode is returned when a stored input or output cannot be decoded
	// into the function's types (for example after a type changed).
	ErrDecode = errors.New("dbos: cannot decode value")

	// ErrUnregistered is returned when a workflow's function is not
	// registered in this process.
	ErrUnregistered = errors.New("dbos: function not registered")

	// ErrTimeout is returned by GetResult for a task that ran longer than the
	// timeout given with WithTimeout.
	ErrTimeout = errors.New("dbos: workflow timed out")

	// ErrCancelled is returned by GetResult for a cancelled task.
	ErrCancelled = errors.New("dbos: workflow cancelled")

	// ErrDeadLetter is returned by GetResult for a workflow that was
	// recovered more times than its max_recovery allows.
	ErrDeadLetter = errors.New("dbos: workflow dead-lettered after too many recoveries")

	// ErrShutdown is returned by calls made after Shutdown began.
	ErrShutdown = errors.New("dbos: runtime is shutting down")
)

// WorkflowError is the error GetResult returns for a task that finished with
// an error. Its message is the task's original error message.
type WorkflowError struct {
	// WorkflowID is the ID of the task that failed.
	WorkflowID string
	// Message is the failed task's original error message.
	Message string
}

// Error returns the task's original error message.
func (e *WorkflowError) Error() string { return e.Message }
