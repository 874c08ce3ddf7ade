// Package store is the runtime's only door to the database: one interface
// method per operation, implemented once per engine (Postgres and SQLite)
// over sqlc-generated queries. Runtime code holds no SQL.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Workflow states as stored.
const (
	StateEnqueued  = "ENQUEUED"
	StatePending   = "PENDING"
	StateSuccess   = "SUCCESS"
	StateError     = "ERROR"
	StateCancelled = "CANCELLED"
	// StateDeadLetter: recovered more times than the function's
	// max_recovery allows; terminal until resumed.
	StateDeadLetter = "DEAD_LETTER"
)

// Terminal reports whether a workflow in state has finished.
func Terminal(state string) bool {
	return state == StateSuccess || state == StateError || state == StateCancelled || state == StateDeadLetter
}

// ErrNotFound is returned when a workflow does not exist.
var ErrNotFound = errors.New("workflow not found")

// ErrFenced is returned by a write from a run that no longer owns its
// workflow: the workflow was cancelled or finished, or another run of it
// (after a recovery or a takeover) holds a newer fencing token.
var ErrFenced = errors.New("workflow is no longer owned by this run")

// Owner is a run's fencing token: the executor that claimed the workflow
// and the workflow's Attempts at that claim. Every claim, recovery and
// takeover increments Attempts, so a stale run's token never matches again.
type Owner struct {
	ExecutorID string
	Attempts   int
}

// DuplicateError is InsertWorkflows' report (InsertResult.Err) on a workflow
// whose deduplication ID is held by another ENQUEUED or PENDING workflow of
// the same queue.
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
	// AppVersion is the application version the workflow started under,
	// "" until it starts (set by the claim, or by the insert of a workflow
	// started directly): only an executor of that version runs it again.
	AppVersion string
	// Signature is the fingerprint of the function's name and signature in
	// the process that enqueued or started it (registry.Function.Key): its
	// Input was encoded for those parameters. Only an executor registering
	// the function with the same fingerprint runs it. "" for a workflow
	// recorded before fingerprints were: any executor registering Name
	// runs it.
	Signature string
	// TraceContext is the trace context of the span that enqueued or
	// started the workflow (see InsertParams.TraceContext), "" when none.
	TraceContext string
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
	// Signature is the enqueuer's fingerprint of the function (see
	// Workflow.Signature).
	Signature string
	// AppVersion is the starter's application version, recorded for a
	// StatePending insert (which starts the workflow); ignored for
	// StateEnqueued, whose claim records the claimer's.
	AppVersion string
	// TraceContext is the W3C trace context of the enqueuer's span, as the
	// runs of the workflow restore it (the parent of their spans): the
	// traceparent header's value, then, when the span carries a
	// tracestate, a space and its value. The store keeps it opaque. ""
	// (the enqueuer was not tracing) is stored as NULL.
	TraceContext string
}

// InsertResult is InsertWorkflows' report on one workflow.
type InsertResult struct {
	Workflow Workflow // the inserted row, or the existing one
	Created  bool
	Err      error // a *DuplicateError, or another error of this workflow alone
}

// Step is a checkpoint: the recorded outcome of one step of a workflow.
type Step struct {
	WorkflowID string
	StepID     int // 1, 2, ... in call order within the workflow
	Name       string
	Output     []byte
	Error      string // "" when the step succeeded
	ChildID    string // workflow enqueued, started or awaited by this step, if any
	// Code classifies Error for replay: the runtime's name for the
	// sentinel error it wraps, or ""; the store only keeps it.
	Code string
	// StartedAt is when the step's call began, by the executor's clock;
	// zero when it began as it was recorded (it is then stored as NULL).
	StartedAt time.Time
	// RecordedAt is when the checkpoint was written, by the database's
	// clock; set by the store on the steps it returns.
	RecordedAt time.Time
}

// QueueConfig is a queue's declaration: its limits, 0 meaning none. The
// database keeps one per queue name, the newest (see Store.DeclareQueue),
// and every claim of every process reads its limits from there.
type QueueConfig struct {
	Name string
	// Concurrency caps the queue's PENDING rows, all executors.
	Concurrency int
	// WorkerConcurrency caps the queue's PENDING rows of the claiming
	// executor.
	WorkerConcurrency int
	// RateLimit caps the rows of the queue with StartedAt in
	// (now-RatePeriod, now]; RatePeriod must be positive when it is set.
	RateLimit  int
	RatePeriod time.Duration
	// Per-partition limits, applied to each PartitionKey separately (rows
	// without a key form the partition "").
	PartitionConcurrency int           // PENDING rows of the queue with the row's PartitionKey
	PartitionRateLimit   int           // rows of the partition with StartedAt in (now-PartitionRatePeriod, now]
	PartitionRatePeriod  time.Duration //
}

// QueueInfo is a queue as operators see it: its stored declaration (zero
// limits when it has none) and pause flag, and counts of its workflows by
// the database clock at one read.
type QueueInfo struct {
	QueueConfig
	Paused bool
	// DeclaredBy is the executor whose declaration is stored, "" when none
	// is (the queue was only enqueued to or paused); DeclaredAt, when.
	DeclaredBy string
	DeclaredAt time.Time
	// Enqueued and Running count its ENQUEUED and PENDING workflows.
	Enqueued, Running int
	// StartedLastMinute counts its workflows started in the last minute,
	// StartedInRatePeriod those started in the last RatePeriod (0 without
	// a rate limit): the rate limit's use.
	StartedLastMinute, StartedInRatePeriod int
}

// Normalized returns c as the database stores it: periods rounded up to
// whole milliseconds, and a period without its rate limit dropped. Compare
// normalized configurations to tell whether a declaration changes a stored
// one.
func (c QueueConfig) Normalized() QueueConfig {
	c.RatePeriod = ceilMillis(c.RatePeriod)
	if c.RateLimit == 0 {
		c.RatePeriod = 0
	}
	c.PartitionRatePeriod = ceilMillis(c.PartitionRatePeriod)
	if c.PartitionRateLimit == 0 {
		c.PartitionRatePeriod = 0
	}
	return c
}

func ceilMillis(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}

// String describes c's limits the way the runtime's options spell them, for
// logs: "Concurrency(1) RateLimit(20, 1s)", or "no limits".
func (c QueueConfig) String() string {
	var parts []string
	if c.Concurrency > 0 {
		parts = append(parts, fmt.Sprintf("Concurrency(%d)", c.Concurrency))
	}
	if c.WorkerConcurrency > 0 {
		parts = append(parts, fmt.Sprintf("WorkerConcurrency(%d)", c.WorkerConcurrency))
	}
	if c.RateLimit > 0 {
		parts = append(parts, fmt.Sprintf("RateLimit(%d, %s)", c.RateLimit, c.RatePeriod))
	}
	if c.PartitionConcurrency > 0 {
		parts = append(parts, fmt.Sprintf("PartitionConcurrency(%d)", c.PartitionConcurrency))
	}
	if c.PartitionRateLimit > 0 {
		parts = append(parts, fmt.Sprintf("PartitionRateLimit(%d, %s)", c.PartitionRateLimit, c.PartitionRatePeriod))
	}
	if len(parts) == 0 {
		return "no limits"
	}
	return strings.Join(parts, " ")
}

// Runs is what an executor runs: the functions it registers, by name with
// their fingerprints (Names[i] has Signatures[i], see Workflow.Signature),
// and its application version. Claims, recovery and takeover move only
// the workflows it runs (Runs.Can). A nil *Runs runs anything: for tests
// and tools.
type Runs struct {
	AppVersion string
	Names      []string
	Signatures []string
}

// Can reports whether an executor that runs r can run w: it registers w's
// function with w's fingerprint (or, for a workflow recorded without one,
// under w's name), and w has not started or started under r's version.
func (r *Runs) Can(w Workflow) bool {
	if r == nil {
		return true
	}
	if w.AppVersion != "" && w.AppVersion != r.AppVersion {
		return false
	}
	for i, name := range r.Names {
		if name == w.Name && (w.Signature == "" || w.Signature == r.Signatures[i]) {
			return true
		}
	}
	return false
}

// Executor is what an executor records about itself with its lease
// (RenewLease), and what LiveExecutors reports: enough to tell why work
// waits when no live executor can run it.
type Executor struct {
	ID         string
	AppVersion string
	// Functions are the functions it registers: name -> fingerprint (see
	// Workflow.Signature). None for an executor that runs nothing.
	Functions map[string]string
	// Queues are the queues it runs.
	Queues []string
	// ExpiresAt is when its lease expires (LiveExecutors only).
	ExpiresAt time.Time
}

// ClaimParams asks for ENQUEUED workflows of one queue. The limits are not
// the caller's: the claim reads them from the queue's stored declaration
// (none when the queue has none) and reports them in ClaimResult.Config.
type ClaimParams struct {
	Queue      string
	ExecutorID string
	Max        int // claim at most this many (>= 1)
	// Runs is what the claimer runs: the claim takes only the workflows
	// it can run (Runs.Can), skipping the others in their place, and
	// records Runs.AppVersion on each one that has no AppVersion yet.
	// nil: any.
	Runs *Runs
	// Complete, when not empty, are outcomes the claimer records first,
	// as CompleteMany would (distinct IDs): a worker finishing tasks
	// claims their successors in the same call, with one commit when the
	// engine can. The claim reads after them, so the slots they free are
	// claimed at once. ClaimResult.Completed reports each one.
	Complete []CompleteParams
	// Drained, for InsertAndClaim only, is the caller's belief that the
	// queue has nothing ready (a hint, which may be stale). When every row
	// it inserts starts at once (the queue was free after all) the engine
	// may then skip the claim, which would find nothing; the result is
	// the same either way.
	Drained bool
	// Polite makes a claim of a queue without limits give way: when
	// another polite claim of the queue is in flight (in any process), it
	// claims nothing and sets ClaimResult.GaveWay. For claims woken by
	// another process's enqueue, which wakes every worker at once: one of
	// them claims, instead of all of them with all but one finding
	// nothing. Engines without notifications ignore it.
	Polite bool
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
	// Config is the declaration whose limits the claim applied, as stored
	// when the claim read it (Name is the queue's; all limits 0 when the
	// queue has no declaration). When any limit is set the claim was
	// serialized with every other claimer of the queue (advisory or file
	// lock) and read the declaration and the counts under that lock.
	Config QueueConfig
	// Completed[i] is what CompleteMany would report for
	// ClaimParams.Complete[i]: whether that outcome was recorded.
	Completed []bool
	// Paused reports that the queue is paused (see SetQueuePaused): the
	// claim took nothing, and RetryAt is zero (its resume is an event).
	Paused bool
	// GaveWay reports that a polite claim (ClaimParams.Polite) took
	// nothing because another polite claim of the queue was in flight:
	// the queue may still hold ready workflows.
	GaveWay bool
}

// CompleteParams records a workflow's end.
type CompleteParams struct {
	ID         string
	ExecutorID string // only the owner may complete: the row must be PENDING with this executor
	Attempts   int    // and at this attempt: the run's fencing token (see Owner)
	State      string // StateSuccess, StateError, StateCancelled or StateDeadLetter
	Output     []byte
	Error      string
}

// Event is a notification between processes sharing a database (Postgres
// LISTEN/NOTIFY): sent with Store.Notify, received from Store.Events.
type Event struct {
	// Kind is EventEnqueued, EventCompleted, EventHungry, EventMessage or
	// EventSet, or EventResync when notifications may have been lost (the
	// listener reconnected or a payload overflowed): recheck everything.
	Kind       EventKind
	Queue      string // the queue enqueued to, completed from or wanted; "" if none
	WorkflowID string // for EventCompleted, EventMessage and EventSet
	// End, for an EventCompleted, is the workflow's recorded end when the
	// notification carried it: its waiters need not read it. Nil: read it.
	End *End
}

// End is a workflow's recorded end: its terminal state, output and error.
type End struct {
	State  string
	Output []byte
	Error  string
}

// EventKind says what an Event reports.
type EventKind int

// The kinds of Event.
const (
	EventEnqueued  EventKind = iota + 1 // ENQUEUED rows appeared on Queue
	EventCompleted                      // WorkflowID (of Queue) reached a terminal state
	EventResync                         // events may have been lost
	// EventHungry: a process wants tasks of Queue that the queue's shared
	// concurrency limit keeps it from claiming. Processes holding the
	// queue's slots should let the slots their tasks free go to whoever
	// claims first, rather than take them back in their completions'
	// transactions.
	EventHungry
	// EventMessage: a message was sent to WorkflowID (SendMessage
	// committed); its waiting receivers should look.
	EventMessage
	// EventSet: WorkflowID set an event (SetEvent committed); whoever
	// waits for one of its events should look.
	EventSet
)

// Store is one database engine. Every method is safe for concurrent use.
type Store interface {
	// TxInserter: InsertTx, the insert in the caller's own transaction
	// (EnqueueFTx; tx.go).
	TxInserter

	// Engine returns "postgres" or "sqlite".
	Engine() string

	Messenger

	// InsertWorkflows inserts workflows, in one statement and one commit
	// where the engine can. res[i] reports ps[i], as if they were inserted
	// one after another: when its ID exists it inserts nothing and reports
	// the existing row with Created=false; when its DedupID is held on its
	// Queue its Err is a *DuplicateError (of two with one ID, or one
	// deduplication ID on one queue, the later finds the earlier). An
	// error means nothing was inserted; an error of one workflow alone is
	// its InsertResult.Err.
	InsertWorkflows(ctx context.Context, ps []InsertParams) (res []InsertResult, err error)

	// InsertAndClaim is InsertWorkflows, then Claim(c) (with no outcomes
	// to record) of the queue the rows went to: an enqueuing process with
	// room for the queue's tasks takes them, the oldest ready ones first,
	// in the insert's own transaction where the engine can (one round trip
	// and one commit on Postgres for a queue without limits). An error
	// means nothing was inserted. When the claim alone failed (after the
	// insert committed) it reports nothing claimed and RetryAt set to now.
	InsertAndClaim(ctx context.Context, ps []InsertParams, c ClaimParams) ([]InsertResult, ClaimResult, error)

	// GetWorkflow returns a workflow, or ErrNotFound.
	GetWorkflow(ctx context.Context, id string) (Workflow, error)

	// DeclareQueue records c as the declaration of queue c.Name, declared
	// by executorID, replacing the stored one: the newest declaration
	// wins, for every process, from the next claim on. It returns the
	// declaration it replaced, with existed=false when there was none.
	// Periods are stored in whole milliseconds (see
	// QueueConfig.Normalized).
	DeclareQueue(ctx context.Context, c QueueConfig, executorID string) (previous QueueConfig, existed bool, err error)

	// Claim moves ENQUEUED workflows of a queue whose NotBefore has passed
	// to PENDING for p.ExecutorID, honouring the limits of the queue's
	// stored declaration, after recording the outcomes of p.Complete. An
	// error means that none of those was recorded; when they were but
	// the claim then failed (a fallback claim after the first commit),
	// Claim reports them with nothing claimed and RetryAt set to now.
	Claim(ctx context.Context, p ClaimParams) (ClaimResult, error)

	// CompleteMany records the terminal states of workflows (distinct IDs)
	// and clears their DedupIDs, in one statement and one commit: ok[i]
	// reports ps[i], false (nothing written for it) when its row is not
	// PENDING under its ExecutorID at its Attempts: a stale run cannot
	// complete. On error nothing was recorded.
	CompleteMany(ctx context.Context, ps []CompleteParams) (ok []bool, err error)

	// PendingFor takes back the PENDING workflows owned by an executor
	// (used to resume them at its Launch): those it runs (runs.Can) are
	// returned as resumed, oldest first, each one's Attempts incremented
	// (and runs.AppVersion recorded on those without an AppVersion); the
	// others (another version's, or of functions it does not register,
	// as after a restart with new code under the same executor ID) are
	// released for an executor that can run them: queued ones back to
	// ENQUEUED on their queue, the others PENDING under no executor (for
	// TakeOverExpired), and returned as released.
	PendingFor(ctx context.Context, executorID string, runs *Runs) (resumed, released []Workflow, err error)

	// Steps returns a workflow's checkpoints ordered by StepID.
	Steps(ctx context.Context, workflowID string) ([]Step, error)

	// RecordStep writes a checkpoint for the run that owner names. When the
	// workflow is not PENDING under owner (it was cancelled, or taken over:
	// the run is stale) it writes nothing and returns ErrFenced. When
	// (WorkflowID, StepID) is already recorded it writes nothing and
	// returns the recorded one with recorded=false.
	RecordStep(ctx context.Context, s Step, owner Owner) (saved Step, recorded bool, err error)

	// RecordSteps is RecordStep for many checkpoints of one workflow (each
	// Step's WorkflowID is workflowID), in one statement and one commit
	// where the engine can. The steps already recorded are skipped, their
	// recorded outcomes standing; when the workflow is not PENDING under
	// owner it writes nothing and returns ErrFenced.
	RecordSteps(ctx context.Context, workflowID string, steps []Step, owner Owner) error

	// Events returns a channel of the notifications every process sharing
	// the database sends with Notify (this one's included, except its
	// EventCompleted: the sender acted on its own completions already, and
	// reading them back would cost it as much again), or nil when the
	// engine has none (SQLite: the runtime polls). The channel closes when
	// the store closes.
	Events() <-chan Event

	// Notify sends evs to the Events of every process sharing the
	// database, in one round trip and one transaction however many there
	// are. The store's writes notify nobody themselves: whoever commits an
	// enqueue (a row becoming ENQUEUED) or a completion (a row becoming
	// terminal), a message (SendMessage) or an event (SetEvent) sends
	// EventEnqueued, EventCompleted, EventMessage or EventSet afterwards,
	// so that the commits of the writes never wait for one another (Postgres
	// serializes the commits of notifying transactions). Receivers may get
	// one EventEnqueued (or EventHungry) for several of a queue, or an
	// EventResync instead of any events. A no-op when the engine has no
	// notifications (Events returns nil).
	Notify(ctx context.Context, evs []Event) error

	// Close releases connections and stops the listener.
	Close() error

	// CancelWorkflow moves an ENQUEUED or PENDING workflow to
	// StateCancelled (Error "cancelled", DedupID cleared, CompletedAt now)
	// and returns it with changed=true. A finished workflow is returned
	// unchanged with changed=false. ErrNotFound when it does not exist.
	CancelWorkflow(ctx context.Context, id string) (w Workflow, changed bool, err error)

	// ResumeWorkflow puts a CANCELLED or DEAD_LETTER workflow back to
	// work, keeping its checkpoints: ENQUEUED on its queue with Attempts 1
	// (the claim makes it 2), or, without a queue, PENDING under executorID
	// with Attempts 2 and StartedAt now (the caller runs it): attempts
	// count afresh from a resume, and Attempts > 1 tells the runtime to
	// load checkpoints. With executorID "" a workflow without a queue is
	// released instead: PENDING under no executor with Attempts 1, for
	// TakeOverExpired of an executor that can run it (which makes it 2).
	// Any other state is returned unchanged with changed=false.
	// ErrNotFound when it does not exist.
	ResumeWorkflow(ctx context.Context, id, executorID string) (w Workflow, changed bool, err error)

	// ListWorkflows returns the workflows matching every non-empty field
	// of f, newest first, after skipping f.Offset of them, at most f.Limit
	// of them.
	ListWorkflows(ctx context.Context, f ListFilter) ([]Workflow, error)

	// RenewLease records that executor e.ID is alive for lease from now
	// (the database clock), and what it runs (e's AppVersion, Functions
	// and Queues; ExpiresAt is ignored).
	RenewLease(ctx context.Context, e Executor, lease time.Duration) error

	// TakeOverExpired marks as reaped (TakeOver.Dead, once each) the
	// executors, other than executorID, whose lease expired, and in the
	// same transaction takes over the orphaned PENDING workflows: those
	// whose executor's lease expired (reaped by this call or an earlier
	// one: a dead executor's record stays while it owns PENDING workflows,
	// and is forgotten an hour after its reap once it owns none) and those
	// that no executor owns (released). Queued ones go back to ENQUEUED on
	// their queue, whoever can run them; those without a queue that runs
	// can run (Runs.Can) become PENDING under executorID with Attempts+1
	// (the caller runs them); the others stay as they are, for an executor
	// that can run them. An executor that renews its lease is no longer
	// dead. (An executor renews its lease before it owns any workflow, so
	// every owner of a PENDING workflow has a record.)
	TakeOverExpired(ctx context.Context, executorID string, runs *Runs) (TakeOver, error)

	// LiveExecutors returns the executors whose lease has not expired, as
	// they recorded themselves with RenewLease.
	LiveExecutors(ctx context.Context) ([]Executor, error)

	// WaitingWork counts the workflows that wait for an executor, grouped
	// by what decides who can run them: ENQUEUED ones (of each declared
	// queue, the first WaitingPerQueue in claim order: work nobody can run
	// stays at the head of its queue while the rest is claimed past it),
	// and PENDING ones whose executor holds no live lease or that no
	// executor owns. Not for hot paths: the heartbeat reads it now and
	// then.
	WaitingWork(ctx context.Context) ([]WaitingGroup, error)

	// ReleaseWorkflow gives up a workflow that owner's run cannot run (its
	// function is not registered there, or not with the row's fingerprint
	// or version): queued, back to ENQUEUED on its queue; started without
	// a queue, PENDING under no executor, for TakeOverExpired of an
	// executor that can run it. Fenced like CompleteMany: when the row is
	// not PENDING under owner it changes nothing and returns released=false.
	ReleaseWorkflow(ctx context.Context, id string, owner Owner) (w Workflow, released bool, err error)

	// OwnedWorkflows returns those of ids that are still PENDING under
	// executorID; the others were cancelled, finished or taken over.
	OwnedWorkflows(ctx context.Context, executorID string, ids []string) ([]string, error)

	// ForkWorkflow inserts p.Workflow, a new workflow made from
	// p.OriginalID, and copies the original's checkpoints with StepID <
	// p.FromStep to it, in one transaction; see ForkParams. It returns
	// the new row with created=true. Checked in this order, nothing
	// written otherwise: ErrNotFound when the original does not exist; a
	// *StepRangeError when p.FromStep is past the original's last
	// recorded StepID + 1; when p.Workflow.ID exists, the existing row
	// with created=false.
	ForkWorkflow(ctx context.Context, p ForkParams) (w Workflow, created bool, err error)

	// RecordTick notes that the workflow of the scheduled function name at
	// the tick at was created, unless a later tick is noted already.
	RecordTick(ctx context.Context, name string, at time.Time) error

	// LastTick returns the latest tick RecordTick noted for name (to the
	// millisecond, in UTC); found is false when none was.
	LastTick(ctx context.Context, name string) (at time.Time, found bool, err error)

	// ListQueues returns every queue that has a stored row (a declaration
	// or a pause) or unfinished workflows, by name, with what its
	// workflows do now; see QueueInfo. It takes no lock.
	ListQueues(ctx context.Context) ([]QueueInfo, error)

	// SetQueuePaused pauses (paused=true) or resumes a queue, for every
	// process sharing the database: while it is paused every claim of it
	// (Claim, InsertAndClaim; limited or not) takes nothing and reports
	// ClaimResult.Paused; its ENQUEUED workflows wait. Pausing a queue
	// that has no stored declaration stores one without limits, which a
	// later DeclareQueue replaces as if there had been none (existed=false)
	// while keeping the flag; DeclareQueue never changes the flag.
	// Resuming a queue without a stored declaration does nothing. It
	// returns the flag as it was, and whether a declaration was stored.
	SetQueuePaused(ctx context.Context, name string, paused bool) (was, declared bool, err error)

	// DeleteWorkflows deletes, with their steps, messages (those sent to
	// them and not received) and events, the workflows among those
	// ListWorkflows(f) returns (every match when f.Limit is 0) that may be
	// deleted, in transactions of at most batch workflows
	// (DefaultDeleteBatch when batch is 0), and returns how many it
	// deleted. A workflow may be deleted when it is in a terminal state
	// and its parent (ParentID), if it still exists, is in a terminal
	// state too: a running parent may still read its children's results.
	// ENQUEUED and PENDING workflows are never deleted. A row another
	// transaction holds locked is skipped. On error, the batches committed
	// before it stay deleted.
	DeleteWorkflows(ctx context.Context, f ListFilter, batch int) (deleted int, err error)

	// DeleteExpired deletes, with their steps, messages and events, the
	// workflows that may be
	// deleted (see DeleteWorkflows) and finished more than p.Retention
	// ago by the database clock, in transactions of at most p.Batch
	// workflows (taking no queue's lock: claims never wait for it), unless
	// another process is doing so: it elects one sweeper at a time among
	// the processes sharing the database, and returns swept=false at once
	// when it is not the one. Cancelling ctx stops it between batches (or
	// rolls back the current one); the batches committed stay deleted.
	DeleteExpired(ctx context.Context, p ExpireParams) (deleted int, swept bool, err error)
}

// DefaultDeleteBatch is the most workflows one transaction of
// DeleteWorkflows or DeleteExpired deletes by default.
const DefaultDeleteBatch = 1000

// ExpireParams asks DeleteExpired to delete what finished before now minus
// Retention.
type ExpireParams struct {
	Retention  time.Duration // > 0
	ExecutorID string        // the sweeper, for the election
	Batch      int           // at most this many per transaction; 0: DefaultDeleteBatch
}

// TakeOver is what TakeOverExpired did.
type TakeOver struct {
	// Dead are the executors it found dead (their lease expired) that no
	// earlier call reported.
	Dead []string
	// Moved are the workflows it moved: back to ENQUEUED on their queue,
	// or PENDING under the taker.
	Moved []Workflow
	// From[i] is the executor Moved[i] was PENDING under; "" when none.
	From []string
}

// WaitingPerQueue is how many ENQUEUED workflows of each queue, the first
// in claim order, WaitingWork counts.
const WaitingPerQueue = 1000

// WaitingGroup counts workflows that wait alike (see WaitingWork).
type WaitingGroup struct {
	Name       string
	Signature  string
	AppVersion string
	Queue      string // "" when started without one
	State      string // StateEnqueued, or StatePending (orphaned)
	Count      int
}

// Workflow returns a workflow standing for the group's, for Runs.Can and
// the reasons that work waits.
func (g WaitingGroup) Workflow() Workflow {
	return Workflow{Name: g.Name, Signature: g.Signature, AppVersion: g.AppVersion, Queue: g.Queue, State: g.State}
}

// ListFilter selects workflows for ListWorkflows; empty fields match all.
type ListFilter struct {
	State string
	Queue string
	Name  string
	// CompletedBefore keeps the workflows with CompletedAt before it (so
	// only finished ones); CreatedAfter, those with CreatedAt after it.
	CompletedBefore time.Time
	CreatedAfter    time.Time
	Offset          int // skip this many matches, newest first; at least 0
	Limit           int // at least 1 (DeleteWorkflows: 0 is no limit)
}
