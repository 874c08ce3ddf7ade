// Package storekit is the engine-independent part of the stores: parameter
// validation, the claim arithmetic (how many rows the limits allow, when to
// retry) and conversions between the database's epoch milliseconds and Go
// times. Both engines read the same facts from SQL and decide the same way.
package storekit

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// FinishTimeout bounds an operation that runs detached from its caller's
// context because it must not be abandoned half way (see Detach).
const FinishTimeout = 30 * time.Second

// Detach returns a context that ignores ctx's cancellation but keeps its
// values, bounded by FinishTimeout. Claims and completions run under it: once
// started, a claim that locked rows or a completion must commit or roll back
// with a known outcome rather than leave the caller guessing.
func Detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), FinishTimeout)
}

// Time converts epoch milliseconds to a UTC time; 0 is the zero time.
func Time(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// TimePtr converts nullable epoch milliseconds to a UTC time; NULL is zero.
func TimePtr(ms *int64) time.Time {
	if ms == nil {
		return time.Time{}
	}
	return Time(*ms)
}

// QueueInfo is a row of ListQueues as the store returns it: c, its
// declaration (see Config), declared_ms 0 meaning none, and its counts.
func QueueInfo(c store.QueueConfig, paused bool, declaredBy string, declaredMs, enqueued, running, startedLastMinute, startedInRatePeriod int64) store.QueueInfo {
	q := store.QueueInfo{
		QueueConfig:         c,
		Paused:              paused,
		DeclaredBy:          declaredBy,
		Enqueued:            int(enqueued),
		Running:             int(running),
		StartedLastMinute:   int(startedLastMinute),
		StartedInRatePeriod: int(startedInRatePeriod),
	}
	if declaredMs != 0 {
		q.DeclaredAt = Time(declaredMs)
	}
	return q
}

// MsPtr is t in milliseconds since the epoch, or nil for the zero time.
func MsPtr(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

// Millis converts a duration to whole milliseconds, rounding up so that a
// positive duration never becomes 0 (none).
func Millis(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// Str dereferences a nullable string; NULL is "".
func Str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ValidateInsert checks InsertParams before they reach the database.
func ValidateInsert(p store.InsertParams) error { return validateRow(p, false) }

// validateRow checks a new workflow's row; unowned allows a PENDING row
// under no executor (a fork that one which runs it takes over).
func validateRow(p store.InsertParams, unowned bool) error {
	if p.ID == "" {
		return errors.New("insert workflow: empty workflow ID")
	}
	if p.Name == "" {
		return fmt.Errorf("insert workflow %q: empty function name", p.ID)
	}
	switch p.State {
	case store.StateEnqueued:
		if p.Queue == "" {
			return fmt.Errorf("insert workflow %q: state %s needs a queue", p.ID, p.State)
		}
	case store.StatePending:
		if p.ExecutorID == "" && !unowned {
			return fmt.Errorf("insert workflow %q: state %s needs an executor ID", p.ID, p.State)
		}
	default:
		return fmt.Errorf("insert workflow %q: state %q is neither %s nor %s", p.ID, p.State, store.StateEnqueued, store.StatePending)
	}
	if p.DedupID != "" && p.Queue == "" {
		return fmt.Errorf("insert workflow %q: deduplication ID %q needs a queue", p.ID, p.DedupID)
	}
	return nil
}

// ValidateInserts checks the InsertParams of InsertWorkflows.
func ValidateInserts(ps []store.InsertParams) error {
	for _, p := range ps {
		if err := ValidateInsert(p); err != nil {
			return err
		}
	}
	return nil
}

// ValidateInsertAndClaim checks the arguments of InsertAndClaim: a valid
// claim without outcomes to record, then valid inserts.
func ValidateInsertAndClaim(ps []store.InsertParams, c store.ClaimParams) error {
	if len(c.Complete) > 0 {
		return fmt.Errorf("insert and claim from queue %q: outcomes to record are not supported here", c.Queue)
	}
	if err := ValidateClaim(c); err != nil {
		return err
	}
	return ValidateInserts(ps)
}

// ValidateClaim checks ClaimParams before they reach the database.
func ValidateClaim(p store.ClaimParams) error {
	switch {
	case p.Queue == "":
		return errors.New("claim: empty queue name")
	case p.ExecutorID == "":
		return fmt.Errorf("claim from queue %q: empty executor ID", p.Queue)
	case p.Max < 1:
		return fmt.Errorf("claim from queue %q: Max is %d, want at least 1", p.Queue, p.Max)
	}
	if err := ValidateCompleteMany(p.Complete); err != nil {
		return fmt.Errorf("claim from queue %q: %w", p.Queue, err)
	}
	if err := ValidateRuns(p.Runs); err != nil {
		return fmt.Errorf("claim from queue %q: %w", p.Queue, err)
	}
	return nil
}

// ValidateDeclare checks a queue declaration before it reaches the database.
func ValidateDeclare(c store.QueueConfig, executorID string) error {
	switch {
	case c.Name == "":
		return errors.New("declare queue: empty queue name")
	case executorID == "":
		return fmt.Errorf("declare queue %q: empty executor ID", c.Name)
	case c.Concurrency < 0 || c.WorkerConcurrency < 0 || c.RateLimit < 0 || c.RatePeriod < 0:
		return fmt.Errorf("declare queue %q: negative limit", c.Name)
	case c.RateLimit > 0 && c.RatePeriod <= 0:
		return fmt.Errorf("declare queue %q: RateLimit %d needs a positive RatePeriod", c.Name, c.RateLimit)
	case c.PartitionConcurrency < 0 || c.PartitionRateLimit < 0 || c.PartitionRatePeriod < 0:
		return fmt.Errorf("declare queue %q: negative partition limit", c.Name)
	case c.PartitionRateLimit > 0 && c.PartitionRatePeriod <= 0:
		return fmt.Errorf("declare queue %q: PartitionRateLimit %d needs a positive PartitionRatePeriod", c.Name, c.PartitionRateLimit)
	}
	return nil
}

// Config builds a QueueConfig from the columns of a stored declaration.
func Config(name string, concurrency, workerConcurrency, rateLimit, ratePeriodMs, partitionConcurrency, partitionRateLimit, partitionRatePeriodMs int64) store.QueueConfig {
	return store.QueueConfig{
		Name:                 name,
		Concurrency:          int(concurrency),
		WorkerConcurrency:    int(workerConcurrency),
		RateLimit:            int(rateLimit),
		RatePeriod:           time.Duration(ratePeriodMs) * time.Millisecond,
		PartitionConcurrency: int(partitionConcurrency),
		PartitionRateLimit:   int(partitionRateLimit),
		PartitionRatePeriod:  time.Duration(partitionRatePeriodMs) * time.Millisecond,
	}
}

// ValidateComplete checks CompleteParams before they reach the database.
func ValidateComplete(p store.CompleteParams) error {
	switch p.State {
	case store.StateSuccess, store.StateError, store.StateCancelled, store.StateDeadLetter:
	default:
		return fmt.Errorf("complete workflow %q: state %q is not terminal", p.ID, p.State)
	}
	if p.ExecutorID == "" {
		return fmt.Errorf("complete workflow %q: empty executor ID", p.ID)
	}
	return nil
}

// ValidateCompleteMany checks the outcomes of CompleteMany (or of
// ClaimParams.Complete): each one valid, no workflow twice.
func ValidateCompleteMany(ps []store.CompleteParams) error {
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		if err := ValidateComplete(p); err != nil {
			return err
		}
		if seen[p.ID] {
			return fmt.Errorf("complete workflow %q: listed twice", p.ID)
		}
		seen[p.ID] = true
	}
	return nil
}

// ValidateSteps checks the checkpoints of RecordSteps: all of workflowID,
// numbered from 1, no step twice.
func ValidateSteps(workflowID string, steps []store.Step) error {
	seen := make(map[int]bool, len(steps))
	for _, st := range steps {
		switch {
		case st.WorkflowID != workflowID:
			return fmt.Errorf("record steps of workflow %q: step %d belongs to workflow %q", workflowID, st.StepID, st.WorkflowID)
		case st.StepID < 1:
			return fmt.Errorf("record steps of workflow %q: step number %d is below 1", workflowID, st.StepID)
		case seen[st.StepID]:
			return fmt.Errorf("record steps of workflow %q: step %d listed twice", workflowID, st.StepID)
		}
		seen[st.StepID] = true
	}
	return nil
}

// Completed maps the IDs of the workflows a CompleteMany statement finished
// to its result: ok[i] reports ps[i].
func Completed(ps []store.CompleteParams, finished []string) []bool {
	done := make(map[string]bool, len(finished))
	for _, id := range finished {
		done[id] = true
	}
	ok := make([]bool, len(ps))
	for i, p := range ps {
		ok[i] = done[p.ID]
	}
	return ok
}

// Limited reports whether a queue has any limit, so that its claims must be
// serialized with its other claimers.
func Limited(c store.QueueConfig) bool {
	return c.Concurrency > 0 || c.WorkerConcurrency > 0 || c.RateLimit > 0 || Partitioned(c)
}

// Partitioned reports whether a queue has per-partition limits.
func Partitioned(c store.QueueConfig) bool {
	return c.PartitionConcurrency > 0 || c.PartitionRateLimit > 0
}

// Load is what the limits count, read under the queue's lock, in the
// database's clock.
type Load struct {
	NowMs          int64 // the database clock
	Pending        int64 // PENDING rows of the queue
	PendingHere    int64 // PENDING rows of the queue owned by the claimer
	WindowStarts   int64 // rows of the queue started in (now-RatePeriod, now]
	WindowOldestMs int64 // the oldest of those starts; 0 when none
}

// Room returns how many rows a claim of at most maxRows may take under c's
// limits: maxRows, lowered by each limit.
func Room(c store.QueueConfig, maxRows int, l Load) int {
	n := int64(maxRows)
	if c.Concurrency > 0 {
		n = min(n, int64(c.Concurrency)-l.Pending)
	}
	if c.WorkerConcurrency > 0 {
		n = min(n, int64(c.WorkerConcurrency)-l.PendingHere)
	}
	if c.RateLimit > 0 {
		n = min(n, int64(c.RateLimit)-l.WindowStarts)
	}
	return int(max(n, 0))
}

// Saturated reports whether, after claiming claimed rows, a concurrency limit
// is reached: only a completion (an event) can make room, so no RetryAt
// applies.
func Saturated(c store.QueueConfig, l Load, claimed int) bool {
	n := int64(claimed)
	return (c.Concurrency > 0 && l.Pending+n >= int64(c.Concurrency)) ||
		(c.WorkerConcurrency > 0 && l.PendingHere+n >= int64(c.WorkerConcurrency))
}

// NeedBacklog reports whether RetryAt depends on what is left in the queue.
// It does not when the claim took maxRows (the caller is at its own
// capacity and comes back after its next completion) or a concurrency limit
// is reached.
func NeedBacklog(c store.QueueConfig, maxRows int, l Load, claimed int) bool {
	return claimed < maxRows && !Saturated(c, l, claimed)
}

// Backlog is what is left in a queue after a claim.
type Backlog struct {
	// Ready: ENQUEUED rows are ready now (held by another claimer, or
	// beyond the queue's limits) in a partition with room under the
	// partition limits, if any.
	Ready bool
	// NextDelayedMs is the earliest future NotBefore of an ENQUEUED row; 0
	// when none.
	NextDelayedMs int64
	// PartitionFreeMs is the earliest moment a partition whose ready rows
	// wait only for its rate window frees a slot; 0 when none.
	PartitionFreeMs int64
}

// RetryAt returns the earliest moment a claim could take more rows without
// any other event, or the zero time (see store.ClaimResult.RetryAt): when the
// queue's rate window is full, the moment its oldest start leaves it;
// otherwise, when nothing is ready, the moment the next delayed row becomes
// ready or a partition's rate window frees a slot. Zero when NeedBacklog is
// false or nothing is left.
func RetryAt(c store.QueueConfig, maxRows int, l Load, claimed int, b Backlog) time.Time {
	if !NeedBacklog(c, maxRows, l, claimed) {
		return time.Time{}
	}
	var next int64
	if b.Ready {
		next = l.NowMs
	} else {
		for _, t := range []int64{b.NextDelayedMs, b.PartitionFreeMs} {
			if t > 0 && (next == 0 || t < next) {
				next = t
			}
		}
		if next == 0 {
			return time.Time{} // nothing left that time frees: wait for an event
		}
	}
	if c.RateLimit > 0 && l.WindowStarts+int64(claimed) >= int64(c.RateLimit) {
		oldest := l.WindowOldestMs
		if l.WindowStarts == 0 || oldest == 0 {
			oldest = l.NowMs // only this claim's starts are in the window
		}
		next = max(next, oldest+Millis(c.RatePeriod))
	}
	if next <= l.NowMs {
		// Ready now and under every limit, yet not claimed: the rows are
		// held by a concurrent claimer, whose claim or rollback is an event.
		return time.Time{}
	}
	return Time(next)
}

// SortFIFO sorts workflows in claim order: priority ascending, then Seq.
func SortFIFO(ws []store.Workflow) {
	slices.SortFunc(ws, func(a, b store.Workflow) int {
		if c := cmp.Compare(a.Priority, b.Priority); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
}

// SortBySeq sorts workflows oldest first.
func SortBySeq(ws []store.Workflow) {
	slices.SortFunc(ws, func(a, b store.Workflow) int { return cmp.Compare(a.Seq, b.Seq) })
}

// Owns reports whether owner's run still owns w: w is PENDING under the
// same executor at the same attempt.
func Owns(w store.Workflow, owner store.Owner) bool {
	return w.State == store.StatePending && w.ExecutorID == owner.ExecutorID && w.Attempts == owner.Attempts
}

// ValidateList checks a ListFilter: Offset at least 0.
func ValidateList(f store.ListFilter) error {
	if f.Offset < 0 {
		return fmt.Errorf("list workflows: Offset %d is negative", f.Offset)
	}
	return nil
}

// RunsArgs is a store.Runs as the statements take it: Any for a nil Runs
// (which runs anything), and never nil slices.
type RunsArgs struct {
	Any        bool
	Version    string
	Names      []string
	Signatures []string
}

// RunsOf returns the statement arguments of r.
func RunsOf(r *store.Runs) RunsArgs {
	if r == nil {
		return RunsArgs{Any: true, Names: []string{}, Signatures: []string{}}
	}
	a := RunsArgs{Version: r.AppVersion, Names: r.Names, Signatures: r.Signatures}
	if a.Names == nil {
		a.Names = []string{}
	}
	if a.Signatures == nil {
		a.Signatures = []string{}
	}
	return a
}

// ValidateRuns checks a Runs before it reaches the database.
func ValidateRuns(r *store.Runs) error {
	if r != nil && len(r.Names) != len(r.Signatures) {
		return fmt.Errorf("runs: %d names but %d signatures", len(r.Names), len(r.Signatures))
	}
	return nil
}

// CompletedBeforeMs is ListFilter.CompletedBefore as the bound of
// completed_ms < bound (nil when unset): epoch milliseconds rounded up, so
// that a workflow completed in the millisecond of t but before t matches.
func CompletedBeforeMs(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return &ms
}

// CreatedAfterMs is ListFilter.CreatedAfter as the bound of created_ms >
// bound (nil when unset): epoch milliseconds rounded down.
func CreatedAfterMs(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

// DeleteBatch returns the batch size of a deletion: batch, or
// store.DefaultDeleteBatch when it is not positive.
func DeleteBatch(batch int) int {
	if batch <= 0 {
		return store.DefaultDeleteBatch
	}
	return batch
}

// Listed tracks DeleteWorkflows' walk over the workflows ListWorkflows
// would return, newest first, one batch at a time: each batch lists the
// next workflows below the lowest seq the previous one listed, so that a
// deletion never shifts what the next batch lists.
type Listed struct {
	f        store.ListFilter
	batch    int
	listed   int   // so far
	belowSeq int64 // the next batch lists seq < belowSeq
	done     bool
}

// NewListed starts the walk of f in batches of batch (see DeleteBatch).
func NewListed(f store.ListFilter, batch int) *Listed {
	return &Listed{f: f, batch: DeleteBatch(batch), belowSeq: math.MaxInt64}
}

// Next returns the arguments of the next batch: list at most maxRows
// workflows with seq below belowSeq after skipping skip of them; ok=false
// when the walk is over.
func (l *Listed) Next() (belowSeq int64, skip, maxRows int, ok bool) {
	if l.done {
		return 0, 0, 0, false
	}
	maxRows = l.batch
	if l.f.Limit > 0 {
		maxRows = min(maxRows, l.f.Limit-l.listed)
	}
	if maxRows <= 0 {
		return 0, 0, 0, false
	}
	if l.listed == 0 {
		skip = l.f.Offset
	}
	return l.belowSeq, skip, maxRows, true
}

// Took records what the batch Next described listed: n workflows, the
// lowest seq among them.
func (l *Listed) Took(maxRows, n int, lowestSeq int64) {
	l.listed += n
	if n < maxRows {
		l.done = true
		return
	}
	l.belowSeq = lowestSeq
}

// ExecutorColumns returns what an executor records about itself as the
// executors table stores it: its functions as a JSON object (name ->
// fingerprint) and its queues as a JSON array.
func ExecutorColumns(e store.Executor) (functions, queues string) {
	fns := e.Functions
	if fns == nil {
		fns = map[string]string{}
	}
	qs := e.Queues
	if qs == nil {
		qs = []string{}
	}
	return JSONText(fns), JSONText(qs)
}

// ExecutorOf builds a store.Executor from the columns of the executors
// table. Columns it cannot read (written by another program) read as
// empty.
func ExecutorOf(id, appVersion, functions, queues string, expiresMs int64) store.Executor {
	e := store.Executor{ID: id, AppVersion: appVersion, Functions: map[string]string{}, Queues: []string{}, ExpiresAt: Time(expiresMs)}
	_ = json.Unmarshal([]byte(functions), &e.Functions)
	_ = json.Unmarshal([]byte(queues), &e.Queues)
	return e
}

// JSONText encodes v, a map or slice of strings, which always encodes.
func JSONText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings always encode
	}
	return string(b)
}

// StartsOnInsert returns the indexes of the workflows among ps that
// InsertAndClaim(ps, c) may insert already claimed when c's queue is free
// (no limit declared, not paused, nothing ready waiting): those enqueued on
// c's queue, ready at once (no delay), that c.Runs runs; the oldest first
// and at most c.Max. ps are valid.
func StartsOnInsert(ps []store.InsertParams, c store.ClaimParams) []int {
	var idx []int
	for i, p := range ps {
		if len(idx) == c.Max {
			break
		}
		if p.State != store.StateEnqueued || p.Queue != c.Queue || p.Delay > 0 {
			continue
		}
		if !c.Runs.Can(store.Workflow{Name: p.Name, Signature: p.Signature}) {
			continue
		}
		idx = append(idx, i)
	}
	return idx
}

// ClaimedOnInsert converts ps[i], for i in idx (from StartsOnInsert), to
// the row of a workflow started by c's executor, as a claim would leave
// it: PENDING under c.ExecutorID with c.Runs' version. It returns a copy;
// ps is unchanged.
func ClaimedOnInsert(ps []store.InsertParams, idx []int, c store.ClaimParams, state string) []store.InsertParams {
	out := slices.Clone(ps)
	version := ""
	if c.Runs != nil {
		version = c.Runs.AppVersion
	}
	for _, i := range idx {
		out[i].State, out[i].ExecutorID, out[i].AppVersion = state, c.ExecutorID, version
	}
	return out
}

// StartedOnInsert returns, of res[i] for i in starts (InsertAndClaim's
// rows that could start on insert, see StartsOnInsert), the rows the
// insert created already claimed (PENDING), and whether one it created
// went in ENQUEUED instead: then the queue was not free.
func StartedOnInsert(res []store.InsertResult, starts []int) (started []store.Workflow, waits bool) {
	for _, i := range starts {
		if !res[i].Created {
			continue
		}
		if w := res[i].Workflow; w.State == store.StatePending {
			started = append(started, w)
		} else {
			waits = true
		}
	}
	return started, waits
}
