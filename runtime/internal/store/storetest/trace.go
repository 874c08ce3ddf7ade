package storetest

import (
	"fmt"
	"testing"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Trace contexts as the runtime writes them: a traceparent alone, and one
// followed by a tracestate.
const (
	traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	traceBoth   = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
)

// testTraceContext: every insert path keeps the enqueuer's trace context
// (InsertParams.TraceContext) with the row, and every path that reads the
// row back (the insert's result, GetWorkflow, a claim, InsertAndClaim's
// claim, a resume after a crash) returns it unchanged; a row
// inserted without one has "". A batch may mix rows with and without.
// A fork carries the context its InsertParams give, not the original's.
func testTraceContext(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue := unique("q")
	row := func(tc string) store.InsertParams {
		return store.InsertParams{ID: unique("wf"), Name: "storetest.Task", State: store.StateEnqueued, Queue: queue, TraceContext: tc}
	}
	check := func(what string, w store.Workflow, want string) {
		t.Helper()
		if w.TraceContext != want {
			t.Errorf("%s: TraceContext = %q, want %q", what, w.TraceContext, want)
		}
	}

	// A batch mixing rows with and without a context, and one of rows
	// without any (the untraced path).
	mixed := []store.InsertParams{row(""), row(traceParent), row(""), row(traceBoth)}
	res, err := s.InsertWorkflows(ctx, mixed)
	if err != nil {
		t.Fatalf("InsertWorkflows: %v", err)
	}
	for i, r := range res {
		check(fmt.Sprint("InsertWorkflows result #", i), r.Workflow, mixed[i].TraceContext)
		check(fmt.Sprint("GetWorkflow #", i), get(t, ctx, s, mixed[i].ID), mixed[i].TraceContext)
	}
	plain := []store.InsertParams{row(""), row("")}
	res, err = s.InsertWorkflows(ctx, plain)
	if err != nil {
		t.Fatalf("InsertWorkflows: %v", err)
	}
	for i, r := range res {
		check(fmt.Sprint("untraced batch #", i), r.Workflow, "")
	}

	// A claim returns the contexts of the rows it takes.
	cl := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "exec-trace", Max: 100})
	if len(cl.Claimed) != len(mixed)+len(plain) {
		t.Fatalf("claimed %d, want %d", len(cl.Claimed), len(mixed)+len(plain))
	}
	want := map[string]string{}
	for _, p := range append(mixed, plain...) {
		want[p.ID] = p.TraceContext
	}
	for _, w := range cl.Claimed {
		check("Claim "+w.ID, w, want[w.ID])
	}

	// InsertAndClaim: the rows it inserts, and claims, keep theirs.
	q2 := unique("q")
	both := []store.InsertParams{row(traceBoth), row("")}
	both[0].Queue, both[1].Queue = q2, q2
	ires, claimed, err := s.InsertAndClaim(ctx, both, store.ClaimParams{Queue: q2, ExecutorID: "exec-trace", Max: 10})
	if err != nil {
		t.Fatalf("InsertAndClaim: %v", err)
	}
	for i, r := range ires {
		check(fmt.Sprint("InsertAndClaim insert #", i), r.Workflow, both[i].TraceContext)
	}
	if len(claimed.Claimed) != 2 {
		t.Fatalf("InsertAndClaim claimed %d, want 2", len(claimed.Claimed))
	}
	for _, w := range claimed.Claimed {
		if w.ID == both[0].ID {
			check("InsertAndClaim claim", w, traceBoth)
		} else {
			check("InsertAndClaim claim", w, "")
		}
	}

	// A workflow started directly, resumed by its executor after a crash.
	exec := unique("exec")
	started := store.InsertParams{ID: unique("wf"), Name: "storetest.Task", State: store.StatePending, ExecutorID: exec, TraceContext: traceParent}
	w, _, err := InsertOne(ctx, s, started)
	if err != nil {
		t.Fatalf("insert PENDING: %v", err)
	}
	check("PENDING insert", w, traceParent)
	resumed, _, err := s.PendingFor(ctx, exec, nil)
	if err != nil || len(resumed) != 1 {
		t.Fatalf("PendingFor = %v, %v; want the started workflow", resumed, err)
	}
	check("PendingFor", resumed[0], traceParent)

	// A fork carries its own context.
	fork, created, err := s.ForkWorkflow(ctx, store.ForkParams{OriginalID: mixed[1].ID, FromStep: 1, Workflow: store.InsertParams{
		ID: unique("fork"), Name: "storetest.Task", State: store.StateEnqueued, Queue: queue, TraceContext: traceBoth,
	}})
	if err != nil || !created {
		t.Fatalf("ForkWorkflow = created %v, %v", created, err)
	}
	check("ForkWorkflow", fork, traceBoth)
	check("GetWorkflow of the fork", get(t, ctx, s, fork.ID), traceBoth)
}
