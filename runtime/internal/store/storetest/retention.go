package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// finished inserts a workflow of function name started directly, with
// parent as its ParentID, records a checkpoint of it and finishes it in
// state.
func finished(t *testing.T, s store.Store, name, parent, state string) store.Workflow {
	t.Helper()
	ctx := testContext(t)
	exec := unique("exec")
	w, _, err := InsertOne(ctx, s, store.InsertParams{ID: unique("wf"), Name: name, State: store.StatePending, ExecutorID: exec, ParentID: parent})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecordStep(ctx, store.Step{WorkflowID: w.ID, StepID: 1, Name: "s", Output: []byte(`1`)}, store.Owner{ExecutorID: exec, Attempts: w.Attempts}); err != nil {
		t.Fatal(err)
	}
	if state == store.StateCancelled {
		cancelWorkflow(t, s, w.ID)
	} else if ok, err := CompleteOne(ctx, s, store.CompleteParams{ID: w.ID, ExecutorID: exec, Attempts: w.Attempts, State: state, Error: "e"}); err != nil || !ok {
		t.Fatalf("finish %s as %s: %v, %v", w.ID, state, ok, err)
	}
	return get(t, ctx, s, w.ID)
}

// runningNamed inserts a workflow of function name PENDING under a fresh
// executor.
func runningNamed(t *testing.T, s store.Store, name string) store.Workflow {
	t.Helper()
	w, _, err := InsertOne(testContext(t), s, store.InsertParams{ID: unique("wf"), Name: name, State: store.StatePending, ExecutorID: unique("exec")})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// checkGone checks that the workflows ws and their steps are deleted, and
// checkKept that they are not.
func checkGone(t *testing.T, s store.Store, what string, ws ...store.Workflow) {
	t.Helper()
	ctx := testContext(t)
	for _, w := range ws {
		if got, err := s.GetWorkflow(ctx, w.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %s (%s) is still there: %+v, %v", what, w.ID, w.State, got, err)
		}
		if steps, err := s.Steps(ctx, w.ID); err != nil || len(steps) != 0 {
			t.Errorf("%s: steps of %s are still there: %+v, %v", what, w.ID, steps, err)
		}
	}
}

func checkKept(t *testing.T, s store.Store, what string, ws ...store.Workflow) {
	t.Helper()
	ctx := testContext(t)
	for _, w := range ws {
		if _, err := s.GetWorkflow(ctx, w.ID); err != nil {
			t.Errorf("%s: %s (%s) is gone: %v", what, w.ID, w.State, err)
		}
	}
}

func deleteWorkflows(t *testing.T, s store.Store, f store.ListFilter, batch int) int {
	t.Helper()
	n, err := s.DeleteWorkflows(testContext(t), f, batch)
	if err != nil {
		t.Fatalf("DeleteWorkflows(%+v, %d): %v", f, batch, err)
	}
	return n
}

// testDeleteWorkflows: DeleteWorkflows deletes the finished workflows the
// filter lists, with their steps, never unfinished ones nor the finished
// children of a running parent; those go once the parent finished.
func testDeleteWorkflows(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	name, queue := unique("pkg.Doomed"), unique("q")
	parent := runningNamed(t, s, name)
	child := finished(t, s, name, parent.ID, store.StateSuccess)
	waiting := enqueue(t, ctx, s, store.InsertParams{Name: name, Queue: queue, ParentID: parent.ID})
	running := runningNamed(t, s, name)
	doomed := []store.Workflow{
		finished(t, s, name, "", store.StateSuccess),
		finished(t, s, name, "", store.StateError),
		finished(t, s, name, "", store.StateCancelled),
		finished(t, s, name, "", store.StateDeadLetter),
		finished(t, s, name, unique("gone"), store.StateSuccess), // its parent no longer exists
	}
	cancelled := enqueue(t, ctx, s, store.InsertParams{Name: name, Queue: queue})
	cancelWorkflow(t, s, cancelled.ID)
	doomed = append(doomed, cancelled)
	other := finished(t, s, unique("pkg.Other"), "", store.StateSuccess)

	for _, state := range []string{store.StatePending, store.StateEnqueued} {
		if n := deleteWorkflows(t, s, store.ListFilter{Name: name, State: state}, 0); n != 0 {
			t.Errorf("DeleteWorkflows of the %s ones deleted %d, want 0", state, n)
		}
	}
	if n := deleteWorkflows(t, s, store.ListFilter{Name: name}, 2); n != len(doomed) {
		t.Errorf("DeleteWorkflows deleted %d, want %d", n, len(doomed))
	}
	checkGone(t, s, "deleted", doomed...)
	checkKept(t, s, "unfinished, a running parent's child, another function's", parent, child, waiting, running, other)

	complete(t, ctx, s, parent)
	if n := deleteWorkflows(t, s, store.ListFilter{Name: name, Queue: ""}, 1); n != 2 {
		t.Errorf("DeleteWorkflows after the parent finished deleted %d, want 2 (the parent and its finished child)", n)
	}
	checkGone(t, s, "after the parent finished", parent, child)
	checkKept(t, s, "unfinished", waiting, running)
	if n, err := s.DeleteWorkflows(ctx, store.ListFilter{Name: name, Offset: -1}, 0); err == nil || n != 0 {
		t.Errorf("DeleteWorkflows with a negative offset = %d, %v; want an error", n, err)
	}
}

// timeMarks returns the workflows of fn finished (SUCCESS) around a
// moment mid: before of them first, then mid, then after more; and the
// moment.
func timeMarks(t *testing.T, s store.Store, fn string, before, after int) (ws []store.Workflow, mid time.Time) {
	t.Helper()
	for range before {
		ws = append(ws, finished(t, s, fn, "", store.StateSuccess))
	}
	time.Sleep(20 * time.Millisecond)
	mid = time.Now()
	time.Sleep(20 * time.Millisecond)
	for range after {
		ws = append(ws, finished(t, s, fn, "", store.StateSuccess))
	}
	return ws, mid
}

// testListWorkflowsPages: Offset pages through the matches newest first;
// CompletedBefore and CreatedAfter bound them in time.
func testListWorkflowsPages(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	name := unique("pkg.Paged")
	ws, mid := timeMarks(t, s, name, 2, 3) // w0 w1 | w2 w3 w4
	r := runningNamed(t, s, name)
	newest := []store.Workflow{r, ws[4], ws[3], ws[2], ws[1], ws[0]}
	for _, tc := range []struct {
		f    store.ListFilter
		want []store.Workflow
	}{
		{store.ListFilter{Name: name, Limit: 2}, newest[:2]},
		{store.ListFilter{Name: name, Limit: 2, Offset: 2}, newest[2:4]},
		{store.ListFilter{Name: name, Limit: 2, Offset: 4}, newest[4:]},
		{store.ListFilter{Name: name, Limit: 2, Offset: 6}, nil},
		{store.ListFilter{Name: name, Limit: 100, CompletedBefore: mid}, newest[4:]},
		{store.ListFilter{Name: name, Limit: 100, CreatedAfter: mid}, newest[:4]},
		{store.ListFilter{Name: name, Limit: 100, CreatedAfter: mid, CompletedBefore: time.Now().Add(time.Hour)}, newest[1:4]},
		{store.ListFilter{Name: name, Limit: 1, Offset: 1, CreatedAfter: mid, State: store.StateSuccess}, newest[2:3]},
		{store.ListFilter{Name: name, Limit: 100, CreatedAfter: time.Now().Add(time.Hour)}, nil},
	} {
		got, err := s.ListWorkflows(ctx, tc.f)
		if err != nil {
			t.Fatalf("ListWorkflows(%+v): %v", tc.f, err)
		}
		if !slices.Equal(ids(got), ids(tc.want)) {
			t.Errorf("ListWorkflows(%+v) = %v, want %v", tc.f, ids(got), ids(tc.want))
		}
	}
	if _, err := s.ListWorkflows(ctx, store.ListFilter{Name: name, Limit: 1, Offset: -1}); err == nil {
		t.Errorf("ListWorkflows with a negative offset succeeded")
	}
}

// testDeleteWorkflowsPages: DeleteWorkflows deletes among what
// ListWorkflows would list with the same Offset, Limit and time bounds,
// whatever the batch size.
func testDeleteWorkflowsPages(t *testing.T, open Opener) {
	s := open(t)
	name := unique("pkg.PagedDelete")
	ws, mid := timeMarks(t, s, name, 3, 1) // w0 w1 w2 | w3
	r := runningNamed(t, s, name)
	ws = append(ws, finished(t, s, name, "", store.StateSuccess), finished(t, s, name, "", store.StateSuccess)) // w4 w5
	// Newest first: w5 w4 r w3 w2 w1 w0.
	if n := deleteWorkflows(t, s, store.ListFilter{Name: name, Offset: 1, Limit: 3}, 2); n != 2 {
		t.Errorf("Offset 1, Limit 3: deleted %d, want 2 (w4 and w3; r runs)", n)
	}
	checkGone(t, s, "Offset 1, Limit 3", ws[4], ws[3])
	checkKept(t, s, "Offset 1, Limit 3", ws[5], r, ws[2], ws[1], ws[0])
	if n := deleteWorkflows(t, s, store.ListFilter{Name: name, CreatedAfter: mid, Offset: 5}, 0); n != 0 {
		t.Errorf("an offset past the matches deleted %d", n)
	}
	if n := deleteWorkflows(t, s, store.ListFilter{Name: name, CompletedBefore: mid, Limit: 2}, 1); n != 2 {
		t.Errorf("CompletedBefore, Limit 2: deleted %d, want 2", n)
	}
	checkGone(t, s, "CompletedBefore, Limit 2", ws[2], ws[1])
	if n := deleteWorkflows(t, s, store.ListFilter{Name: name, CreatedAfter: mid}, 1); n != 1 {
		t.Errorf("CreatedAfter: deleted %d, want 1", n)
	}
	checkGone(t, s, "CreatedAfter", ws[5])
	checkKept(t, s, "CreatedAfter", r, ws[0])
}

func deleteExpired(t *testing.T, s store.Store, p store.ExpireParams) int {
	t.Helper()
	n, swept, err := s.DeleteExpired(testContext(t), p)
	if err != nil || !swept {
		t.Fatalf("DeleteExpired(%+v) = %d, swept %v, %v; want swept", p, n, swept, err)
	}
	return n
}

// testDeleteExpired: DeleteExpired deletes the workflows that finished
// more than the retention ago, in batches, with their steps, and keeps
// unfinished ones, recent ones and the finished children of a running
// parent until the parent finished.
func testDeleteExpired(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	name, queue := unique("pkg.Expiring"), unique("q")
	var old []store.Workflow
	for _, state := range []string{store.StateSuccess, store.StateError, store.StateCancelled, store.StateDeadLetter} {
		old = append(old, finished(t, s, name, "", state))
	}
	parent := runningNamed(t, s, name)
	child := finished(t, s, name, parent.ID, store.StateSuccess)
	waiting := enqueue(t, ctx, s, store.InsertParams{Name: name, Queue: queue})
	running := runningNamed(t, s, name)
	// The retention is long enough that fresh, finished just before the
	// sweep, stays recent however slowly a loaded machine gets there.
	const retention = time.Second
	time.Sleep(retention + 100*time.Millisecond)
	fresh := finished(t, s, name, "", store.StateSuccess)
	freshDone := time.Now()

	p := store.ExpireParams{Retention: retention, ExecutorID: unique("sweeper"), Batch: 2}
	if n := deleteExpired(t, s, p); n < len(old) {
		t.Errorf("DeleteExpired deleted %d, want at least %d", n, len(old))
	}
	checkGone(t, s, "finished before the retention", old...)
	kept := []store.Workflow{parent, child, waiting, running}
	// Each batch reads the clock anew, and the sweep walks every finished
	// workflow the suite's earlier tests left in the database, two at a
	// time: when it took longer than the retention, fresh expired during
	// it and may rightly be gone.
	if time.Since(freshDone) < p.Retention {
		kept = append(kept, fresh)
	} else {
		t.Logf("the sweep outlasted the retention (%s since fresh finished): fresh may be deleted", time.Since(freshDone).Round(time.Millisecond))
	}
	checkKept(t, s, "unfinished, recent, a running parent's child", kept...)

	complete(t, ctx, s, parent)
	time.Sleep(retention + 100*time.Millisecond)
	deleteExpired(t, s, p)
	checkGone(t, s, "after the parent finished", parent, child, fresh)
	checkKept(t, s, "unfinished", waiting, running)

	if _, _, err := s.DeleteExpired(ctx, store.ExpireParams{ExecutorID: "e"}); err == nil {
		t.Errorf("DeleteExpired without a retention succeeded")
	}
}

// testDeleteExpiredOneSweeper: sweeps of several processes at once all
// succeed, a process that is not the sweeper deletes nothing, and every
// expired workflow is deleted.
func testDeleteExpiredOneSweeper(t *testing.T, open Opener) {
	s := open(t)
	name := unique("pkg.Swept")
	var ws []store.Workflow
	for range 30 {
		ws = append(ws, finished(t, s, name, "", store.StateSuccess))
	}
	time.Sleep(50 * time.Millisecond)
	const n = 4
	stores := make([]store.Store, n)
	for i := range stores {
		stores[i] = open(t)
	}
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() {
			deleted, swept, err := st.DeleteExpired(testContext(t), store.ExpireParams{Retention: 10 * time.Millisecond, ExecutorID: fmt.Sprintf("sweeper-%d", i), Batch: 1})
			if err != nil || (!swept && deleted != 0) {
				t.Errorf("sweeper %d: deleted %d, swept %v, %v", i, deleted, swept, err)
			}
		})
	}
	wg.Wait()
	checkGone(t, s, "swept", ws...)
}
