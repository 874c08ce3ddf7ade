// Package storetest is the conformance suite every store engine passes: one
// test per promise of the store.Store contract, run against each engine by
// its package's tests, so that the engines stay equivalent.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Opener opens a store for a test. Each call must return a new Store (its
// own connections, as another process would have), and all the stores opened
// for one *testing.T must share one database. The opener closes them when
// the test ends (t.Cleanup); Close must tolerate a second call.
type Opener func(t *testing.T) store.Store

// Run runs the conformance suite against the engine open returns. Tests of
// one database isolate themselves with unique queue names and IDs, so open
// may hand every test the same database.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Engine", testEngine},
		{"InsertEnqueued", testInsertEnqueued},
		{"InsertPending", testInsertPending},
		{"InsertIdempotentOnID", testInsertIdempotent},
		{"InsertConcurrentSameID", testInsertConcurrentSameID},
		{"InsertRejectsInvalid", testInsertRejectsInvalid},
		{"InsertMany", testInsertMany},
		{"TraceContext", testTraceContext},
		{"GetNotFound", testGetNotFound},
		{"Deduplication", testDeduplication},
		{"DeclareQueue", testDeclareQueue},
		{"DeclareConcurrently", testDeclareConcurrently},
		{"ClaimFollowsDeclaration", testClaimFollowsDeclaration},
		{"ClaimFIFO", testClaimFIFO},
		{"ClaimMaxAndEmpty", testClaimMaxAndEmpty},
		{"ClaimSetsDeadline", testClaimSetsDeadline},
		{"ClaimRejectsInvalid", testClaimRejectsInvalid},
		{"ClaimDelay", testClaimDelay},
		{"ConcurrencyLimit", testConcurrencyLimit},
		{"WorkerConcurrencyLimit", testWorkerConcurrencyLimit},
		{"RateLimitRetryAt", testRateLimitRetryAt},
		{"ConcurrentUnlimitedClaims", testConcurrentUnlimitedClaims},
		{"ConcurrencyUnderContention", testConcurrencyUnderContention},
		{"WorkerConcurrencyUnderContention", testWorkerConcurrencyUnderContention},
		{"StrictOrderWithConcurrencyOne", testStrictOrder},
		{"RateLimitUnderContention", testRateLimitUnderContention},
		{"PartitionConcurrency", testPartitionConcurrency},
		{"PartitionRateLimit", testPartitionRateLimit},
		{"PartitionsUnderContention", testPartitionsUnderContention},
		{"CompleteFenced", testCompleteFenced},
		{"CompleteStates", testCompleteStates},
		{"CompleteMany", testCompleteMany},
		{"ClaimCompletes", testClaimCompletes},
		{"ClaimCompletesFindsLimits", testClaimCompletesFindsLimits},
		{"PendingFor", testPendingFor},
		{"RecordStepOnce", testRecordStepOnce},
		{"RecordStepConcurrent", testRecordStepConcurrent},
		{"RecordStepFenced", testRecordStepFenced},
		{"InsertAndClaim", testInsertAndClaim},
		{"RecordSteps", testRecordSteps},
		{"OwnedWorkflows", testOwnedWorkflows},
		{"LeaseTakeOver", testLeaseTakeOver},
		{"TakeOverOnce", testTakeOverOnce},
		{"ResumeWorkflow", testResumeWorkflow},
		{"ListWorkflows", testListWorkflows},
		{"ListWorkflowsPages", testListWorkflowsPages},
		{"PauseQueue", testPauseQueue},
		{"PauseEveryClaimPath", testPauseEveryClaimPath},
		{"ListQueues", testListQueues},
		{"DeleteWorkflows", testDeleteWorkflows},
		{"DeleteWorkflowsPages", testDeleteWorkflowsPages},
		{"DeleteExpired", testDeleteExpired},
		{"DeleteExpiredOneSweeper", testDeleteExpiredOneSweeper},
		{"StepsOrdered", testStepsOrdered},
		{"StepCode", testStepCode},
		{"StepTimes", testStepTimes},
		{"Events", testEvents},
		{"EventsNotFromWrites", testEventsNotFromWrites},
		{"NotifyBatch", testNotifyBatch},
		{"EventsCloseWithStore", testEventsClose},
		{"ForkWorkflow", testForkWorkflow},
		{"ClaimRuns", testClaimRuns},
		{"ClaimRunsVersion", testClaimRunsVersion},
		{"InsertRecordsVersion", testInsertRecordsVersion},
		{"PendingForRuns", testPendingForRuns},
		{"TakeOverRuns", testTakeOverRuns},
		{"ReleaseWorkflow", testReleaseWorkflow},
		{"ResumeReleased", testResumeReleased},
		{"LiveExecutors", testLiveExecutors},
		{"WaitingWork", testWaitingWork},
		{"Ticks", testTicks},
		{"MessagesInOrder", testMessagesInOrder},
		{"ReceiveOnce", testReceiveOnce},
		{"SendFromWorkflow", testSendFromWorkflow},
		{"EventsLatest", testEventsLatest},
		{"DeleteTakesMessagesAndEvents", testDeleteTakesMessagesAndEvents},
		{"MessageEvents", testMessageEvents},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// testTimeout bounds every test of the suite.
const testTimeout = time.Minute

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// unique returns prefix plus a random suffix: queue names and IDs that no
// other test (or earlier run on the same database) uses.
func unique(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// enqueue inserts an ENQUEUED workflow and returns it.
func enqueue(t *testing.T, ctx context.Context, s store.Store, p store.InsertParams) store.Workflow {
	t.Helper()
	if p.ID == "" {
		p.ID = unique("wf")
	}
	if p.Name == "" {
		p.Name = "storetest.Task"
	}
	if p.State == "" {
		p.State = store.StateEnqueued
	}
	w, created, err := InsertOne(ctx, s, p)
	if err != nil {
		t.Fatalf("InsertWorkflow(%s): %v", p.ID, err)
	}
	if !created {
		t.Fatalf("InsertWorkflow(%s): created=false for a new ID", p.ID)
	}
	return w
}

// enqueueN inserts n workflows on queue, in order, and returns them.
func enqueueN(t *testing.T, ctx context.Context, s store.Store, queue string, n int) []store.Workflow {
	t.Helper()
	out := make([]store.Workflow, n)
	for i := range out {
		out[i] = enqueue(t, ctx, s, store.InsertParams{Queue: queue})
	}
	return out
}

// declare stores a queue's declaration (by executor "storetest") and
// returns the one it replaced.
func declare(t *testing.T, ctx context.Context, s store.Store, c store.QueueConfig) (prev store.QueueConfig, existed bool) {
	t.Helper()
	prev, existed, err := s.DeclareQueue(ctx, c, "storetest")
	if err != nil {
		t.Fatalf("DeclareQueue(%+v): %v", c, err)
	}
	return prev, existed
}

func claim(t *testing.T, ctx context.Context, s store.Store, p store.ClaimParams) store.ClaimResult {
	t.Helper()
	res, err := s.Claim(ctx, p)
	if err != nil {
		t.Fatalf("Claim(%+v): %v", p, err)
	}
	return res
}

func complete(t *testing.T, ctx context.Context, s store.Store, w store.Workflow) {
	t.Helper()
	ok, err := CompleteOne(ctx, s, store.CompleteParams{ID: w.ID, ExecutorID: w.ExecutorID, Attempts: w.Attempts, State: store.StateSuccess, Output: []byte(`"ok"`)})
	if err != nil {
		t.Fatalf("Complete(%s): %v", w.ID, err)
	}
	if !ok {
		t.Fatalf("Complete(%s) by its owner %q = false", w.ID, w.ExecutorID)
	}
}

func get(t *testing.T, ctx context.Context, s store.Store, id string) store.Workflow {
	t.Helper()
	w, err := s.GetWorkflow(ctx, id)
	if err != nil {
		t.Fatalf("GetWorkflow(%s): %v", id, err)
	}
	return w
}

func ids(ws []store.Workflow) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.ID
	}
	return out
}

// near reports whether a database time is within a generous margin of the
// test's clock (same machine; the margin absorbs slow CI).
// tickPast waits until the clock is more than a millisecond past t, the
// stores' resolution, so that a time stamped from now on is after t.
func tickPast(t time.Time) {
	for time.Since(t) <= time.Millisecond {
		time.Sleep(time.Millisecond)
	}
}

func near(got time.Time, want time.Time) bool {
	d := got.Sub(want)
	return d > -10*time.Second && d < 10*time.Second
}

// signal is a broadcast: waiters take the current channel before checking a
// condition, and notify closes it, so no wake-up is lost.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.ch)
	s.ch = make(chan struct{})
}
