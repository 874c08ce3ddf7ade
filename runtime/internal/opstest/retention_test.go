package opstest

import (
	"context"
	"slices"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// children returns the IDs of the workflows parent enqueued on Children.
func children(t *testing.T, ctx context.Context, parent string) []string {
	t.Helper()
	all, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Queue: Children.Name(), Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, st := range all {
		if st.ParentID == parent {
			ids = append(ids, st.ID)
		}
	}
	return ids
}

// startWaiting starts FanOutAndWait with n children at a new gate, waits
// until its children finished and it waits at the gate, and returns its
// handle, its children and the gate's opener.
func startWaiting(t *testing.T, ctx context.Context, n int) (*FanOutAndWaitHandle, []string, func()) {
	t.Helper()
	gate := executorID(t, "gate")
	open := NewGate(gate)
	t.Cleanup(open)
	h, err := StartFanOutAndWait(ctx, n, gate)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-Waiting:
		if g != gate {
			t.Fatalf("FanOutAndWait at gate %q waits, want %q", g, gate)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("FanOutAndWait did not get to its gate")
	}
	kids := children(t, ctx, h.ID())
	if len(kids) != n {
		t.Fatalf("FanOutAndWait has %d children, want %d", len(kids), n)
	}
	for _, st := range statuses(t, ctx, kids) {
		if st.State != dbos.StateSuccess {
			t.Fatalf("child %s is %s, want SUCCESS", st.ID, st.State)
		}
	}
	return h, kids, open
}

// TestRetention: with Retention 2s, a finished workflow is kept for 2s,
// then deleted with its steps by a sweep; a workflow that still runs is
// kept, and so are the finished children it may still read, until it
// finished and the retention passed.
func TestRetention(t *testing.T) {
	engines(t, func(t *testing.T, url string, _ time.Duration) {
		const retention = 2 * time.Second
		rt := launch(t, dbos.Config{DatabaseURL: url, Retention: retention})
		ctx, cancel := context.WithTimeout(rt.WithContext(context.Background()), 2*time.Minute)
		defer cancel()

		parent, kids, open := startWaiting(t, ctx, 3)
		h, err := StartTwoJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
		done := h.ID()
		if steps, err := dbos.Steps(ctx, done); err != nil || len(steps) != 2 {
			t.Fatalf("Steps(%s) = %d steps, %v; want 2", done, len(steps), err)
		}
		finished := statuses(t, ctx, []string{done})[0].CompletedAt

		time.Sleep(time.Until(finished.Add(retention - 300*time.Millisecond)))
		if gone(t, ctx, done) {
			t.Fatalf("%s was deleted %s after it finished; the retention is %s", done, time.Since(finished), retention)
		}
		// The sweep interval is the retention: deleted within two.
		waitFor(t, 2*retention+3*time.Second, "the finished workflow to be deleted", func() bool { return gone(t, ctx, done) })
		t.Logf("deleted %s after it finished", time.Since(finished))
		if steps, err := dbos.Steps(ctx, done); err != nil || len(steps) != 0 {
			t.Errorf("after the deletion, Steps(%s) = %+v, %v; want none", done, steps, err)
		}
		// The children finished before it, but their parent runs.
		for _, id := range append(kids, parent.ID()) {
			if gone(t, ctx, id) {
				t.Fatalf("%s was deleted while the parent runs", id)
			}
		}
		if st, err := parent.Status(ctx); err != nil || st.State != dbos.StatePending {
			t.Fatalf("parent: %+v, %v; want PENDING", st, err)
		}

		open()
		if n, err := parent.GetResult(ctx); err != nil || n != 3 {
			t.Fatalf("parent result %d, %v; want 3", n, err)
		}
		waitFor(t, 2*retention+3*time.Second, "the parent and its children to be deleted", func() bool {
			for _, id := range append(kids, parent.ID()) {
				if !gone(t, ctx, id) {
					return false
				}
			}
			return true
		})
	})
}

// TestDeleteWorkflows: DeleteWorkflows deletes the finished workflows the
// filter selects, honouring Offset and the time bounds as ListWorkflows
// does, and never a running workflow nor the children it may still read.
func TestDeleteWorkflows(t *testing.T) {
	engines(t, func(t *testing.T, url string, _ time.Duration) {
		rt := launch(t, dbos.Config{DatabaseURL: url})
		ctx, cancel := context.WithTimeout(rt.WithContext(context.Background()), time.Minute)
		defer cancel()
		begin := time.Now().Add(-time.Millisecond)

		var jobs []string // newest last
		for range 3 {
			h, err := StartTwoJobs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.GetResult(ctx); err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, h.ID())
		}
		parent, kids, open := startWaiting(t, ctx, 2)
		name := statuses(t, ctx, jobs[:1])[0].Name

		listed, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Name: name, CreatedAfter: begin, Limit: 2, Offset: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(listed); !slices.Equal(got, []string{jobs[1], jobs[0]}) {
			t.Errorf("ListWorkflows with Offset 1, Limit 2 = %v, want %v", got, []string{jobs[1], jobs[0]})
		}
		if _, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Offset: -1}); err == nil {
			t.Errorf("ListWorkflows with a negative Offset succeeded")
		}

		// Running, or a running parent's children: kept, whatever the filter.
		for _, f := range []dbos.ListFilter{
			{CreatedAfter: begin, State: dbos.StatePending},
			{CreatedAfter: begin, Queue: Children.Name()},
		} {
			if n, err := dbos.DeleteWorkflows(ctx, f); err != nil || n != 0 {
				t.Errorf("DeleteWorkflows(%+v) = %d, %v; want 0", f, n, err)
			}
		}
		// All but the newest of the TwoJobs, with their steps.
		if n, err := dbos.DeleteWorkflows(ctx, dbos.ListFilter{Name: name, CreatedAfter: begin, Offset: 1}); err != nil || n != 2 {
			t.Errorf("DeleteWorkflows with Offset 1 = %d, %v; want 2", n, err)
		}
		for _, id := range jobs[:2] {
			if !gone(t, ctx, id) {
				t.Errorf("%s was not deleted", id)
			}
			if steps, err := dbos.Steps(ctx, id); err != nil || len(steps) != 0 {
				t.Errorf("Steps(%s) = %+v, %v; want none", id, steps, err)
			}
		}
		// Once the parent finished: everything finished since begin.
		open()
		if _, err := parent.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := dbos.DeleteWorkflows(ctx, dbos.ListFilter{CreatedAfter: begin, CompletedBefore: time.Now().Add(time.Second)}); err != nil || n != 4 {
			t.Errorf("DeleteWorkflows after the parent finished = %d, %v; want 4 (the parent, its 2 children and the newest TwoJobs)", n, err)
		}
		for _, id := range append(kids, parent.ID(), jobs[2]) {
			if !gone(t, ctx, id) {
				t.Errorf("%s was not deleted", id)
			}
		}
	})
}

func ids(sts []dbos.Status) []string {
	out := make([]string, len(sts))
	for i, st := range sts {
		out[i] = st.ID
	}
	return out
}
