package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// testResumeWorkflow: a CANCELLED or DEAD_LETTER workflow goes back to
// work with its checkpoints, attempts counted afresh: ENQUEUED on its queue
// with Attempts 1, or, without a queue, PENDING under the resumer with
// Attempts 2. Workflows in other states are left as they are.
func testResumeWorkflow(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue, resumer := unique("q"), unique("resumer")

	// Cancelled while running from a queue, after a checkpoint.
	queued := claimOne(t, ctx, s, queue, unique("exec"))
	if _, _, err := s.RecordStep(ctx, store.Step{WorkflowID: queued.ID, StepID: 1, Name: "s", Output: []byte(`1`)}, store.Owner{ExecutorID: queued.ExecutorID, Attempts: queued.Attempts}); err != nil {
		t.Fatal(err)
	}
	cancelWorkflow(t, s, queued.ID)
	// Cancelled while running without a queue, with a timeout.
	direct := pendingUnder(t, ctx, s, unique("exec"), time.Minute)
	cancelWorkflow(t, s, direct.ID)
	// Dead-lettered after recoveries (Attempts 3), with and without a queue,
	// with an output (which a resume clears).
	deadQueued := claimOne(t, ctx, s, queue, unique("exec"))
	deadDirect := pendingUnder(t, ctx, s, unique("exec"), 0)
	for _, w := range []*store.Workflow{&deadQueued, &deadDirect} {
		for range 2 {
			pending, _, err := s.PendingFor(ctx, w.ExecutorID, nil)
			if err != nil || len(pending) != 1 {
				t.Fatalf("PendingFor(%s) = %v, %v", w.ExecutorID, ids(pending), err)
			}
			*w = pending[0]
		}
		if ok, err := CompleteOne(ctx, s, store.CompleteParams{ID: w.ID, ExecutorID: w.ExecutorID, Attempts: w.Attempts, State: store.StateDeadLetter, Output: []byte(`"partial"`), Error: "recovered too often"}); err != nil || !ok {
			t.Fatalf("dead-letter %s: %v, %v", w.ID, ok, err)
		}
	}

	for _, w := range []store.Workflow{queued, deadQueued} {
		got, changed, err := s.ResumeWorkflow(ctx, w.ID, resumer)
		if err != nil || !changed {
			t.Fatalf("ResumeWorkflow(%s) = changed %v, %v; want true", w.ID, changed, err)
		}
		for what, got := range map[string]store.Workflow{"returned": got, "stored": get(t, ctx, s, w.ID)} {
			if got.State != store.StateEnqueued || got.Queue != queue || got.ExecutorID != "" || got.Attempts != 1 ||
				got.Error != "" || got.Output != nil || !got.CompletedAt.IsZero() || !got.StartedAt.IsZero() {
				t.Errorf("%s after resuming %s: %+v; want ENQUEUED on %s under nobody, Attempts 1, no error, output, start or completion", what, w.ID, got, queue)
			}
		}
	}
	for _, w := range []store.Workflow{direct, deadDirect} {
		tickPast(w.StartedAt)
		before := time.Now()
		got, changed, err := s.ResumeWorkflow(ctx, w.ID, resumer)
		if err != nil || !changed {
			t.Fatalf("ResumeWorkflow(%s) = changed %v, %v; want true", w.ID, changed, err)
		}
		for what, got := range map[string]store.Workflow{"returned": got, "stored": get(t, ctx, s, w.ID)} {
			if got.State != store.StatePending || got.Queue != "" || got.ExecutorID != resumer || got.Attempts != 2 ||
				got.Error != "" || got.Output != nil || !got.CompletedAt.IsZero() || !near(got.StartedAt, before) || !got.StartedAt.After(w.StartedAt) {
				t.Errorf("%s after resuming %s: %+v; want PENDING under %s, Attempts 2, started now, no error, output or completion", what, w.ID, got, resumer)
			}
			if want := got.StartedAt.Add(w.Timeout); w.Timeout > 0 && !got.Deadline.Equal(want) {
				t.Errorf("%s after resuming %s: Deadline %v, want StartedAt+Timeout %v", what, w.ID, got.Deadline, want)
			}
		}
	}
	// The checkpoints stay; the resumed run owns the workflow, the run
	// that was cancelled does not.
	if steps, err := s.Steps(ctx, queued.ID); err != nil || len(steps) != 1 || string(steps[0].Output) != "1" {
		t.Errorf("Steps after resume = %+v, %v; want the checkpoint recorded before the cancel", steps, err)
	}
	resumed := store.Owner{ExecutorID: resumer, Attempts: 2}
	if _, recorded, err := s.RecordStep(ctx, store.Step{WorkflowID: direct.ID, StepID: 1, Name: "s"}, resumed); err != nil || !recorded {
		t.Errorf("RecordStep by the resumed run = %v, %v", recorded, err)
	}
	old := store.Owner{ExecutorID: direct.ExecutorID, Attempts: direct.Attempts}
	if _, _, err := s.RecordStep(ctx, store.Step{WorkflowID: direct.ID, StepID: 2, Name: "s"}, old); !errors.Is(err, store.ErrFenced) {
		t.Errorf("RecordStep by the cancelled run: err = %v, want ErrFenced", err)
	}
	// A queued one is claimed as a new one is: Attempts 2.
	res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
	if !slices.Equal(ids(res.Claimed), []string{queued.ID, deadQueued.ID}) {
		t.Errorf("claimed %v after resume, want %v", ids(res.Claimed), []string{queued.ID, deadQueued.ID})
	}
	for _, w := range res.Claimed {
		if w.Attempts != 2 {
			t.Errorf("%s claimed after resume with Attempts %d, want 2", w.ID, w.Attempts)
		}
	}

	// Any other state: unchanged.
	enqueued := enqueue(t, ctx, s, store.InsertParams{Queue: unique("q")})
	running := pendingUnder(t, ctx, s, unique("exec"), 0)
	succeeded := pendingUnder(t, ctx, s, unique("exec"), 0)
	complete(t, ctx, s, succeeded)
	failed := pendingUnder(t, ctx, s, unique("exec"), 0)
	if ok, err := CompleteOne(ctx, s, store.CompleteParams{ID: failed.ID, ExecutorID: failed.ExecutorID, Attempts: failed.Attempts, State: store.StateError, Error: "boom"}); err != nil || !ok {
		t.Fatalf("fail %s: %v, %v", failed.ID, ok, err)
	}
	for _, w := range []store.Workflow{enqueued, running, succeeded, failed} {
		before := get(t, ctx, s, w.ID)
		got, changed, err := s.ResumeWorkflow(ctx, w.ID, resumer)
		if err != nil || changed {
			t.Errorf("ResumeWorkflow of a %s workflow = changed %v, %v; want false", before.State, changed, err)
		}
		after := get(t, ctx, s, w.ID)
		for what, w := range map[string]store.Workflow{"returned": got, "stored": after} {
			if w.ID != before.ID || w.State != before.State || w.ExecutorID != before.ExecutorID || w.Attempts != before.Attempts ||
				w.Error != before.Error || !w.CompletedAt.Equal(before.CompletedAt) {
				t.Errorf("ResumeWorkflow of a %s workflow: %s %+v, want it unchanged %+v", before.State, what, w, before)
			}
		}
	}
	if _, _, err := s.ResumeWorkflow(ctx, unique("missing"), resumer); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ResumeWorkflow of a missing workflow: err = %v, want ErrNotFound", err)
	}
}

func cancelWorkflow(t *testing.T, s store.Store, id string) {
	t.Helper()
	if _, changed, err := s.CancelWorkflow(testContext(t), id); err != nil || !changed {
		t.Fatalf("CancelWorkflow(%s) = changed %v, %v", id, changed, err)
	}
}

// testListWorkflows: the workflows matching every filter given, newest
// first, at most Limit of them.
func testListWorkflows(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	name, otherName := unique("pkg.Listed"), unique("pkg.Other")
	qa, qb := unique("q"), unique("q")
	a := enqueue(t, ctx, s, store.InsertParams{Name: name, Queue: qa, Input: []byte(`"a"`)})
	b := enqueue(t, ctx, s, store.InsertParams{Name: name, Queue: qb})
	c, _, err := InsertOne(ctx, s, store.InsertParams{ID: unique("wf"), Name: name, State: store.StatePending, ExecutorID: unique("exec")})
	if err != nil {
		t.Fatal(err)
	}
	complete(t, ctx, s, c)
	d := enqueue(t, ctx, s, store.InsertParams{Name: otherName, Queue: qa})
	e := enqueue(t, ctx, s, store.InsertParams{Name: name, Queue: qa})

	for _, tc := range []struct {
		f    store.ListFilter
		want []store.Workflow
	}{
		{store.ListFilter{Name: name, Limit: 100}, []store.Workflow{e, c, b, a}},
		{store.ListFilter{Queue: qa, Limit: 100}, []store.Workflow{e, d, a}},
		{store.ListFilter{Queue: qa, Name: name, Limit: 100}, []store.Workflow{e, a}},
		{store.ListFilter{Name: name, State: store.StateEnqueued, Limit: 100}, []store.Workflow{e, b, a}},
		{store.ListFilter{Name: name, State: store.StateSuccess, Limit: 100}, []store.Workflow{c}},
		{store.ListFilter{Name: name, State: store.StatePending, Limit: 100}, nil},
		{store.ListFilter{Queue: qb, State: store.StateEnqueued, Name: name, Limit: 100}, []store.Workflow{b}},
		{store.ListFilter{Queue: qb, Name: otherName, Limit: 100}, nil},
		{store.ListFilter{Name: name, Limit: 3}, []store.Workflow{e, c, b}},
		{store.ListFilter{Queue: qa, Limit: 1}, []store.Workflow{e}},
		{store.ListFilter{Name: unique("pkg.Missing"), Limit: 100}, nil},
	} {
		got, err := s.ListWorkflows(ctx, tc.f)
		if err != nil {
			t.Fatalf("ListWorkflows(%+v): %v", tc.f, err)
		}
		if !slices.Equal(ids(got), ids(tc.want)) {
			t.Errorf("ListWorkflows(%+v) = %v, want %v", tc.f, ids(got), ids(tc.want))
		}
	}
	// The rows are whole.
	got, err := s.ListWorkflows(ctx, store.ListFilter{Queue: qa, Name: name, Limit: 100})
	if err != nil || len(got) != 2 {
		t.Fatalf("ListWorkflows = %v, %v", ids(got), err)
	}
	if w := got[1]; w.Seq != a.Seq || w.Name != name || w.State != store.StateEnqueued || w.Queue != qa || string(w.Input) != `"a"` || !w.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("listed %+v, want %+v", w, a)
	}
	got, err = s.ListWorkflows(ctx, store.ListFilter{Name: name, State: store.StateSuccess, Limit: 100})
	if err != nil || len(got) != 1 || string(got[0].Output) != `"ok"` || got[0].CompletedAt.IsZero() {
		t.Errorf("listed the finished workflow as %+v, %v", got, err)
	}
}
