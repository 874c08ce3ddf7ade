package dbos

import "github.com/dbosgen/dbosgen/runtime/internal/sentinel"

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrNotLaunched is returned by every durable call made when no runtime
	// is bound to the context and dbos.Launch has not made a process default.
	ErrNotLaunched = sentinel.ErrNotLaunched

	// ErrNotFound is returned when a workflow ID does not exist.
	ErrNotFound = sentinel.ErrNotFound

	// ErrDuplicate is returned by an enqueue whose deduplication ID is held by
	// a task that is still enqueued or running on the same queue.
	ErrDuplicate = sentinel.ErrDuplicate

	// ErrConflictingID is returned when a workflow ID is reused for a
	// different function than the one it was first started with.
	ErrConflictingID = sentinel.ErrConflictingID

	// ErrEncode is returned when an input or output value cannot be encoded.
	ErrEncode = sentinel.ErrEncode

	// ErrDecode is returned when a stored input or output cannot be decoded
	// into the function's types (for example after a type changed).
	ErrDecode = sentinel.ErrDecode

	// ErrUnregistered was returned for a workflow whose function the
	// process did not register. A process now never runs, and so never
	// fails, such a workflow: it waits for a process that registers the
	// function (see Status.Waiting).
	//
	// Deprecated: the runtime no longer returns it; it stays so that
	// programs that test for it still build.
	ErrUnregistered = sentinel.ErrUnregistered

	// ErrTimeout is returned by GetResult for a task that ran longer than the
	// timeout given with WithTimeout.
	ErrTimeout = sentinel.ErrTimeout

	// ErrCancelled is returned by GetResult for a cancelled task.
	ErrCancelled = sentinel.ErrCancelled

	// ErrDeadLetter is returned by GetResult for a workflow that was
	// recovered more times than its max_recovery allows.
	ErrDeadLetter = sentinel.ErrDeadLetter

	// ErrShutdown is returned by calls made after Shutdown began.
	ErrShutdown = sentinel.ErrShutdown

	// ErrClientOnly is returned by StartF and RunF (outside a workflow)
	// in a process launched with Config.ClientOnly, which runs nothing:
	// enqueue the call on a queue that a worker process runs instead.
	ErrClientOnly = sentinel.ErrClientOnly

	// ErrSchema is returned by Launch with Config.NoMigrate when the
	// database's schema is missing or older than this program's: migrate
	// it first (dbosctl migrate, or a Launch without NoMigrate).
	ErrSchema = sentinel.ErrSchema

	// ErrOutsideWorkflow is returned by Sleep, Topic.Recv and Event.Set
	// when they are called outside a workflow's own code (in main, in a
	// handler, or in a step's body): call them from a //dbos:workflow
	// function, with its ctx.
	ErrOutsideWorkflow = sentinel.ErrOutsideWorkflow

	// ErrOtherDatabase is returned by EnqueueFTx when its transaction is
	// on another database than the runtime's (another Postgres database
	// or cluster, another SQLite file, or another engine). Nothing was
	// written.
	ErrOtherDatabase = sentinel.ErrOtherDatabase
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
