package storetest

import (
	"errors"
	"testing"

	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// TxKind begins, for a test, one kind of transaction InsertTx is given: a
// caller's own transaction, of one Go type. end commits it (commit=true)
// or rolls it back. Begin ends the transaction when the test ends if the
// test did not.
type TxKind struct {
	Name  string
	Begin func(t *testing.T) (tx any, end func(commit bool) error)
}

// TxEnv is what the transaction tests need of an engine: a store, the
// kinds of transaction on its database that it takes, and transactions
// that it must refuse with sentinel.ErrOtherDatabase (on another database,
// or of another engine).
type TxEnv struct {
	Store store.Store
	// Open opens another store on the same database, as another process
	// would.
	Open  func(t *testing.T) store.Store
	Kinds []TxKind
	Other []TxKind
}

// RunTx runs the conformance tests of store.TxInserter: env returns a
// fresh environment for each test.
func RunTx(t *testing.T, env func(t *testing.T) TxEnv) {
	tests := []struct {
		name string
		fn   func(*testing.T, TxEnv, TxKind)
	}{
		{"CommitThenVisible", testTxCommit},
		{"RollbackLeavesNothing", testTxRollback},
		{"IdempotentOnID", testTxIdempotent},
		{"Deduplication", testTxDedup},
		{"NotifiesAtCommit", testTxNotifies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := env(t)
			for _, k := range e.Kinds {
				t.Run(k.Name, func(t *testing.T) { tc.fn(t, e, k) })
			}
		})
	}
	t.Run("OtherDatabase", func(t *testing.T) {
		e := env(t)
		for _, k := range e.Other {
			t.Run(k.Name, func(t *testing.T) { testTxOther(t, e, k) })
		}
	})
	t.Run("UnsupportedType", func(t *testing.T) { testTxUnsupported(t, env(t)) })
}

// txRow is an ENQUEUED row on queue.
func txRow(queue string) store.InsertParams {
	return store.InsertParams{ID: unique("wf"), Name: "storetest.Task", State: store.StateEnqueued, Queue: queue, Input: []byte(`{"a":1}`), Signature: "sig"}
}

func insertTx(t *testing.T, s store.Store, tx any, ps ...store.InsertParams) []store.InsertResult {
	t.Helper()
	res, err := s.InsertTx(testContext(t), tx, ps)
	if err != nil {
		t.Fatalf("InsertTx: %v", err)
	}
	if len(res) != len(ps) {
		t.Fatalf("InsertTx returned %d results for %d workflows", len(res), len(ps))
	}
	return res
}

// absent checks that another process neither reads, lists nor (with
// claims) claims id (of queue). While a transaction that wrote is open,
// SQLite's writers (claims included) wait for it: claims is false then.
func absent(t *testing.T, other store.Store, id, queue string, claims bool) {
	t.Helper()
	ctx := testContext(t)
	if _, err := other.GetWorkflow(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetWorkflow(%s) from another process = %v, want ErrNotFound", id, err)
	}
	if claims {
		if res := claim(t, ctx, other, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10}); len(res.Claimed) != 0 {
			t.Errorf("another process claimed %d workflows of queue %s", len(res.Claimed), queue)
		}
	}
	list, err := other.ListWorkflows(ctx, store.ListFilter{Queue: queue, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("ListWorkflows(queue %s) from another process = %d workflows, want none", queue, len(list))
	}
}

// testTxCommit: the row is invisible to others (not read, not claimed)
// until the commit, then read and claimed as any enqueue's.
func testTxCommit(t *testing.T, e TxEnv, k TxKind) {
	ctx := testContext(t)
	other := e.Open(t)
	queue := unique("q")
	p := txRow(queue)
	p.Priority, p.PartitionKey, p.TraceContext = 3, "part", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tx, end := k.Begin(t)
	res := insertTx(t, e.Store, tx, p)
	if !res[0].Created || res[0].Err != nil {
		t.Fatalf("InsertTx = %+v, want created", res[0])
	}
	if w := res[0].Workflow; w.ID != p.ID || w.State != store.StateEnqueued || w.Queue != queue || w.Priority != 3 || w.PartitionKey != "part" || w.Signature != "sig" || w.TraceContext != p.TraceContext || w.Seq <= 0 {
		t.Errorf("InsertTx row = %+v, want the params' ENQUEUED row", w)
	}
	absent(t, other, p.ID, queue, other.Engine() != "sqlite")
	if err := end(true); err != nil {
		t.Fatalf("commit: %v", err)
	}
	w, err := other.GetWorkflow(ctx, p.ID)
	if err != nil {
		t.Fatalf("GetWorkflow after commit: %v", err)
	}
	if w.State != store.StateEnqueued || string(w.Input) != `{"a":1}` {
		t.Errorf("after commit: %+v", w)
	}
	got := claim(t, ctx, other, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
	if len(got.Claimed) != 1 || got.Claimed[0].ID != p.ID {
		t.Fatalf("claim after commit took %+v, want %s", got.Claimed, p.ID)
	}
}

// testTxRollback: a rollback leaves no row.
func testTxRollback(t *testing.T, e TxEnv, k TxKind) {
	other := e.Open(t)
	queue := unique("q")
	p := txRow(queue)
	tx, end := k.Begin(t)
	insertTx(t, e.Store, tx, p)
	if err := end(false); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	absent(t, other, p.ID, queue, true)
	absent(t, e.Store, p.ID, queue, true)
}

// testTxIdempotent: an ID committed before, or inserted earlier in the
// same transaction, reports the existing row without inserting.
func testTxIdempotent(t *testing.T, e TxEnv, k TxKind) {
	ctx := testContext(t)
	queue := unique("q")
	before := enqueue(t, ctx, e.Store, txRow(queue))
	p := txRow(queue)
	again := p
	again.Input = []byte(`{"a":2}`)
	tx, end := k.Begin(t)
	res := insertTx(t, e.Store, tx, store.InsertParams{ID: before.ID, Name: "storetest.Task", State: store.StateEnqueued, Queue: queue}, p)
	if res[0].Created || res[0].Err != nil || res[0].Workflow.ID != before.ID || res[0].Workflow.Seq != before.Seq {
		t.Errorf("InsertTx of a committed ID = %+v, want the existing row %d", res[0], before.Seq)
	}
	if !res[1].Created {
		t.Errorf("InsertTx of a new ID = %+v, want created", res[1])
	}
	res = insertTx(t, e.Store, tx, again)
	if res[0].Created || res[0].Err != nil || string(res[0].Workflow.Input) != `{"a":1}` {
		t.Errorf("InsertTx of an ID inserted earlier in the transaction = %+v, want that row", res[0])
	}
	if err := end(true); err != nil {
		t.Fatalf("commit: %v", err)
	}
	list, err := e.Store.ListWorkflows(ctx, store.ListFilter{Queue: queue, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Errorf("queue holds %d workflows, want 2", len(list))
	}
}

// testTxDedup: a deduplication ID held by a committed workflow is a
// *DuplicateError, and the transaction goes on: what else it wrote
// commits.
func testTxDedup(t *testing.T, e TxEnv, k TxKind) {
	ctx := testContext(t)
	queue := unique("q")
	dedup := unique("dedup")
	held := txRow(queue)
	held.DedupID = dedup
	holder := enqueue(t, ctx, e.Store, held)
	p, ok := txRow(queue), txRow(queue)
	p.DedupID = dedup
	tx, end := k.Begin(t)
	res := insertTx(t, e.Store, tx, p, ok)
	var dup *store.DuplicateError
	if !errors.As(res[0].Err, &dup) || dup.ExistingID != holder.ID || dup.DedupID != dedup || dup.Queue != queue {
		t.Errorf("InsertTx of a held deduplication ID: Err = %v, want a *DuplicateError naming %s", res[0].Err, holder.ID)
	}
	if !res[1].Created {
		t.Errorf("InsertTx beside it = %+v, want created", res[1])
	}
	if err := end(true); err != nil {
		t.Fatalf("commit after a duplicate: %v", err)
	}
	if _, err := e.Store.GetWorkflow(ctx, ok.ID); err != nil {
		t.Errorf("the workflow inserted beside the duplicate: %v", err)
	}
	if _, err := e.Store.GetWorkflow(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the duplicate was inserted: GetWorkflow = %v", err)
	}
}

// testTxNotifies: on an engine with events, the enqueue's event reaches
// other processes at the commit, and a rolled-back one's never does.
func testTxNotifies(t *testing.T, e TxEnv, k TxKind) {
	ctx := testContext(t)
	other := e.Open(t)
	events := other.Events()
	if events == nil {
		t.Skipf("engine %s has no events", other.Engine())
	}
	rolled, committed := unique("q"), unique("q")
	tx, end := k.Begin(t)
	insertTx(t, e.Store, tx, txRow(rolled))
	if err := end(false); err != nil {
		t.Fatal(err)
	}
	tx, end = k.Begin(t)
	insertTx(t, e.Store, tx, txRow(committed))
	if err := end(true); err != nil {
		t.Fatal(err)
	}
	// Notifications arrive in commit order: the rolled-back one, had it
	// been sent, would come first.
	for {
		select {
		case ev := <-events:
			if ev.Queue == rolled {
				t.Fatalf("event %+v of a rolled-back enqueue", ev)
			}
			if ev == (store.Event{Kind: store.EventEnqueued, Queue: committed}) {
				return
			}
		case <-ctx.Done():
			t.Fatalf("no EventEnqueued for queue %s after the commit: %v", committed, ctx.Err())
		}
	}
}

// testTxOther: a transaction on another database (or engine) is refused
// with ErrOtherDatabase and nothing is written, there or here.
func testTxOther(t *testing.T, e TxEnv, k TxKind) {
	ctx := testContext(t)
	queue := unique("q")
	p := txRow(queue)
	tx, end := k.Begin(t)
	_, err := e.Store.InsertTx(ctx, tx, []store.InsertParams{p})
	if !errors.Is(err, sentinel.ErrOtherDatabase) {
		t.Fatalf("InsertTx on %s = %v, want ErrOtherDatabase", k.Name, err)
	}
	t.Logf("InsertTx on %s: %v", k.Name, err)
	if err := end(true); err != nil {
		t.Logf("commit of the other transaction: %v", err)
	}
	absent(t, e.Store, p.ID, queue, true)
}

// testTxUnsupported: a value of another type is refused.
func testTxUnsupported(t *testing.T, e TxEnv) {
	ctx := testContext(t)
	for _, tx := range []any{nil, "tx", struct{}{}} {
		_, err := e.Store.InsertTx(ctx, tx, []store.InsertParams{txRow(unique("q"))})
		if err == nil {
			t.Errorf("InsertTx(%T) succeeded", tx)
			continue
		}
		t.Logf("InsertTx(%T): %v", tx, err)
	}
}
