// Package store is the runtime's only door to the database: one interface
// method per operation, implemented once per engine (Postgres and SQLite)
// over sqlc-generated queries. Runtime code holds no SQL.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Workflow states as stored.
const (
	StateEnqueued  = "ENQUEUED"
	StatePending   = "PENDING"
	StateSuccess   = "SUCCESS"
	StateError     = "ERROR"
	StateCancelled = "CANCELLED"
)

// ErrNotFound is returned when a workflow does not exist.
var ErrNotFound = errors.New("workflow not found")

// DuplicateError is returned by InsertWorkflow when the deduplication ID is
// held by another ENQUEUED or PENDING workflow of the same queue.
type DuplicateError struct {
	Queue      string
	DedupID    string
	ExistingID string // the workflow holding the deduplication ID
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("deduplication ID %q is held on queue %q by workflow %q", e.DedupID, e.Queue, e.ExistingID)
}

// Workflow is one row of the workflows table.
type Workflow struct {
	Seq          int64 // insertion order; FIFO within a priority
	ID           string
	Name         string // registered function name
	State        string
	Queue        string // "" when started directly (not enqueued)
	ExecutorID   string // "" until claimed
	Input        []byte
	Output       []byte // nil until SUCCESS (or an error-only function: "null" or nil)
	Error        string // set for ERROR and CANCELLED
	Priority     int
	DedupID      string // "" when none; cleared when the workflow finishes
	PartitionKey string
	ParentID     string
	Timeout      time.Duration // 0: none
	Deadline     time.Time     // zero: none; StartedAt+Timeout, set at claim
	NotBefore    time.Time     // zero: no delay
	Attempts     int           // claims plus recoveries
	CreatedAt    time.Time
	StartedAt    time.Time // zero until claimed
	CompletedAt  time.Time // zero until terminal
}

// InsertParams describes a new workflow.
type InsertParams struct {
	ID   string
	Name string
	// State is StateEnqueued (on Queue, waiting for a claim) or StatePending
	// (started directly by ExecutorID, which runs it at once; StartedAt is
	// set to now and Attempts to 1).
	State        string
	Queue        string
	ExecutorID   string
	Input        []byte
	Priority     int
	DedupID      string
	PartitionKey string
	ParentID     string
	Delay        time.Duration // NotBefore = now + Delay when > 0
	Timeout      time.Duration
}

// Step is a checkpoint: the recorded outcome of one step of a workflow.
type Step struct {
	WorkflowID string
	StepID     int // 1, 2, ... in call order within the workflow
	Name       string
	Output     []byte
	Error      string // "" when the step succeeded
	ChildID    string // workflow enqueued, started or awaited by this step, if any
}

// ClaimParams asks for ENQUEUED workflows of one queue.
type ClaimParams struct {
	Queue      string
	ExecutorID string
	Max        int // claim at most this many (>= 1)
	// Limits; 0 means none. When any is set the claim is serialized with
	// every other claimer of the same queue (advisory or row lock) and the
	// counts below are read under that lock.
	Concurrency       int           // PENDING rows of the queue, all executors
	WorkerConcurrency int           // PENDING rows of the queue with ExecutorID
	RateLimit         int           // rows of the queue with StartedAt in (now-RatePeriod, now]
	RatePeriod        time.Duration //
	// Per-partition limits, applied to each PartitionKey separately (rows
	// without a key form the partition ""), under the same lock; 0 means
	// none. Added by the store engineer: partition limits must be decided
	// in SQL like the others, so the claim has to know them.
	PartitionConcurrency int           // PENDING rows of the queue with the row's PartitionKey
	PartitionRateLimit   int           // rows of the partition with StartedAt in (now-PartitionRatePeriod, now]
	PartitionRatePeriod  time.Duration //
}

// ClaimResult is what a claim took.
type ClaimResult struct {
	// Claimed are now PENDING, owned by the executor, StartedAt=now,
	// Attempts+1, Deadline=now+Timeout when Timeout>0; in FIFO order
	// (priority ascending, then Seq).
	Claimed []Workflow
	// RetryAt, when not zero, is the earliest moment a claim could take
	// more without any other event: when the rate window (of the queue or
	// of a partition) frees a slot, or when the next delayed workflow
	// becomes ready. Zero: wait for an event (enqueue, completion) or the
	// fallback poll. Also zero when the claim took Max: the caller is at
	// its own capacity and claims again when it has room.
	RetryAt time.Time
}

// CompleteParams records a workflow's end.
type CompleteParams struct {
	ID         string
	ExecutorID string // only the owner may complete: the row must be PENDING with this executor
	State      string // StateSuccess, StateError or StateCancelled
	Output     []byte
	Error      string
}

// Event is a notification from another process (Postgres LISTEN/NOTIFY).
type Event struct {
	// Kind is EventEnqueued or EventCompleted, or EventResync when
	// notifications may have been lost (the listener reconnected or a
	// payload overflowed): recheck everything.
	Kind       EventKind
	Queue      string // the queue enqueued to or completed from; "" if none
	WorkflowID string // for EventCompleted
}

// EventKind says what an Event reports.
type EventKind int

// The kinds of Event.
const (
	EventEnqueued EventKind = iota + 1
	EventCompleted
	EventResync
)

// Store is one database engine. Every method is safe for concurrent use.
type Store interface {
	// Engine returns "postgres" or "sqlite".
	Engine() string

	// InsertWorkflow inserts a workflow. When p.ID exists it inserts
	// nothing and returns the existing row with created=false. When p.DedupID
	// is held on p.Queue it returns a *DuplicateError.
	InsertWorkflow(ctx context.Context, p InsertParams) (w Workflow, created bool, err error)

	// GetWorkflow returns a workflow, or ErrNotFound.
	GetWorkflow(ctx context.Context, id string) (Workflow, error)

	// Claim moves ENQUEUED workflows of a queue whose NotBefore has passed
	// to PENDING for p.ExecutorID, honouring the limits.
	Claim(ctx context.Context, p ClaimParams) (ClaimResult, error)

	// Complete records a workflow's terminal state and clears its DedupID.
	// It returns false (and writes nothing) when the row is not PENDING
	// under p.ExecutorID.
	Complete(ctx context.Context, p CompleteParams) (bool, error)

	// PendingFor returns the PENDING workflows owned by an executor, oldest
	// first, incrementing each one's Attempts (used to resume at Launch).
	PendingFor(ctx context.Context, executorID string) ([]Workflow, error)

	// Steps returns a workflow's checkpoints ordered by StepID.
	Steps(ctx context.Context, workflowID string) ([]Step, error)

	// RecordStep writes a checkpoint. When (WorkflowID, StepID) is already
	// recorded it writes nothing and returns the recorded one with
	// recorded=false.
	RecordStep(ctx context.Context, s Step) (saved Step, recorded bool, err error)

	// Events returns a channel of notifications from other processes, or
	// nil when the engine has none (SQLite: the runtime polls). The channel
	// closes when the store closes.
	Events() <-chan Event

	// Close releases connections and stops the listener.
	Close() error
}
