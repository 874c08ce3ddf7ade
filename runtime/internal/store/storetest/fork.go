package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// testForkWorkflow: ForkWorkflow inserts the fork's row and copies the
// original's checkpoints before FromStep, as recorded, in one call;
// Attempts count one more when it copies, so the run loads them. The
// original is unchanged. A missing original, a FromStep past its last step
// + 1 and invalid parameters write nothing; an existing ID is returned
// with created=false and nothing copied.
func testForkWorkflow(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue, exec, forker := unique("q"), unique("exec"), unique("forker")

	// The original ran on queue, recorded three steps and succeeded.
	orig := claimOne(t, ctx, s, queue, exec)
	owner := store.Owner{ExecutorID: orig.ExecutorID, Attempts: orig.Attempts}
	recorded := []store.Step{
		{WorkflowID: orig.ID, StepID: 1, Name: "one", Output: []byte(`1`)},
		{WorkflowID: orig.ID, StepID: 2, Name: "enqueue child", ChildID: orig.ID + "-2"},
		{WorkflowID: orig.ID, StepID: 3, Name: "three", Error: "workflow cancelled", Code: "cancelled"},
	}
	if err := s.RecordSteps(ctx, orig.ID, recorded, owner); err != nil {
		t.Fatal(err)
	}
	complete(t, ctx, s, orig)
	before := get(t, ctx, s, orig.ID)

	row := func(id, state string) store.InsertParams {
		p := store.InsertParams{ID: id, Name: orig.Name, Input: []byte(`{"in":1}`), State: state, Priority: 3, PartitionKey: "k", ParentID: "parent", Timeout: time.Minute}
		if state == store.StateEnqueued {
			p.Queue = queue
		} else {
			p.ExecutorID = forker
		}
		return p
	}
	fork := func(p store.ForkParams) (store.Workflow, bool) {
		t.Helper()
		w, created, err := s.ForkWorkflow(ctx, p)
		if err != nil {
			t.Fatalf("ForkWorkflow(%s from step %d as %s): %v", p.OriginalID, p.FromStep, p.Workflow.ID, err)
		}
		return w, created
	}
	checkSteps := func(id string, want []store.Step) {
		t.Helper()
		got, err := s.Steps(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("Steps(%s) = %+v, want %d steps", id, got, len(want))
		}
		for i, g := range got {
			w := want[i]
			if g.WorkflowID != id || g.StepID != w.StepID || g.Name != w.Name || !bytes.Equal(g.Output, w.Output) ||
				g.Error != w.Error || g.ChildID != w.ChildID || g.Code != w.Code {
				t.Errorf("Steps(%s)[%d] = %+v, want a copy of %+v", id, i, g, w)
			}
		}
	}

	// On the queue, from step 3: steps 1 and 2 copied, ENQUEUED with
	// Attempts 1, which the claim makes 2.
	queued, created := fork(store.ForkParams{OriginalID: orig.ID, FromStep: 3, Workflow: row(unique("fork"), store.StateEnqueued)})
	for what, w := range map[string]store.Workflow{"returned": queued, "stored": get(t, ctx, s, queued.ID)} {
		if !created || w.State != store.StateEnqueued || w.Queue != queue || w.ExecutorID != "" || w.Attempts != 1 ||
			w.Name != orig.Name || string(w.Input) != `{"in":1}` || w.Priority != 3 || w.PartitionKey != "k" || w.ParentID != "parent" ||
			w.Timeout != time.Minute || w.DedupID != "" || w.Output != nil || !w.StartedAt.IsZero() || !w.Deadline.IsZero() {
			t.Errorf("%s queued fork (created %v): %+v; want ENQUEUED on %s, Attempts 1, the params given", what, created, w, queue)
		}
	}
	checkSteps(queued.ID, recorded[:2])
	res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: exec, Max: 10})
	if len(res.Claimed) != 1 || res.Claimed[0].ID != queued.ID || res.Claimed[0].Attempts != 2 {
		t.Errorf("claim after the fork = %+v; want the fork with Attempts 2", res.Claimed)
	}

	// Started, from step 1: nothing copied, Attempts 1, started now with
	// its deadline.
	start := time.Now()
	fresh, created := fork(store.ForkParams{OriginalID: orig.ID, FromStep: 1, Workflow: row(unique("fork"), store.StatePending)})
	if !created || fresh.State != store.StatePending || fresh.ExecutorID != forker || fresh.Queue != "" || fresh.Attempts != 1 ||
		!near(fresh.StartedAt, start) || !fresh.Deadline.Equal(fresh.StartedAt.Add(time.Minute)) {
		t.Errorf("started fork from step 1 (created %v): %+v; want PENDING under %s, Attempts 1, started now, deadline a minute later", created, fresh, forker)
	}
	checkSteps(fresh.ID, nil)

	// Started, from the last step + 1: every step copied, Attempts 2,
	// and the fork's run (that token) checkpoints its next step.
	all, created := fork(store.ForkParams{OriginalID: orig.ID, FromStep: 4, Workflow: row(unique("fork"), store.StatePending)})
	if !created || all.State != store.StatePending || all.ExecutorID != forker || all.Attempts != 2 {
		t.Errorf("started fork from step 4 (created %v): %+v; want PENDING under %s, Attempts 2", created, all, forker)
	}
	checkSteps(all.ID, recorded)
	if _, ok, err := s.RecordStep(ctx, store.Step{WorkflowID: all.ID, StepID: 4, Name: "four"}, store.Owner{ExecutorID: forker, Attempts: 2}); err != nil || !ok {
		t.Errorf("RecordStep by the fork's run = %v, %v", ok, err)
	}

	// An existing ID: that row, created=false, nothing copied.
	again, created := fork(store.ForkParams{OriginalID: orig.ID, FromStep: 4, Workflow: row(fresh.ID, store.StatePending)})
	if created || again.ID != fresh.ID || again.Attempts != fresh.Attempts || !again.CreatedAt.Equal(fresh.CreatedAt) {
		t.Errorf("fork as an existing ID = %+v, created %v; want the existing %+v, created false", again, created, fresh)
	}
	checkSteps(fresh.ID, nil)

	// Errors write nothing.
	mustNotExist := func(id string) {
		t.Helper()
		if _, err := s.GetWorkflow(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetWorkflow(%s) after a failed fork: err = %v, want ErrNotFound", id, err)
		}
	}
	id := unique("fork")
	_, _, err := s.ForkWorkflow(ctx, store.ForkParams{OriginalID: orig.ID, FromStep: 5, Workflow: row(id, store.StatePending)})
	var rangeErr *store.StepRangeError
	if !errors.As(err, &rangeErr) || rangeErr.LastStep != 3 || rangeErr.FromStep != 5 || rangeErr.WorkflowID != orig.ID {
		t.Errorf("fork from step 5 of 3: err = %v, want a *StepRangeError with LastStep 3", err)
	}
	mustNotExist(id)
	// An original that never ran: only step 1.
	waiting := enqueue(t, ctx, s, store.InsertParams{Queue: unique("q")})
	if _, _, err := s.ForkWorkflow(ctx, store.ForkParams{OriginalID: waiting.ID, FromStep: 2, Workflow: row(id, store.StatePending)}); !errors.As(err, &rangeErr) || rangeErr.LastStep != 0 {
		t.Errorf("fork from step 2 of a workflow without steps: err = %v, want a *StepRangeError with LastStep 0", err)
	}
	mustNotExist(id)
	if _, _, err := s.ForkWorkflow(ctx, store.ForkParams{OriginalID: unique("missing"), FromStep: 1, Workflow: row(id, store.StatePending)}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("fork of a missing workflow: err = %v, want ErrNotFound", err)
	}
	mustNotExist(id)
	dedup := row(id, store.StateEnqueued)
	dedup.DedupID = "d"
	noState := row(id, store.StatePending)
	noState.State = ""
	for what, p := range map[string]store.ForkParams{
		"fromStep 0":          {OriginalID: orig.ID, FromStep: 0, Workflow: row(id, store.StatePending)},
		"no original ID":      {FromStep: 1, Workflow: row(id, store.StatePending)},
		"the original's ID":   {OriginalID: orig.ID, FromStep: 1, Workflow: row(orig.ID, store.StatePending)},
		"a deduplication ID":  {OriginalID: orig.ID, FromStep: 1, Workflow: dedup},
		"no state":            {OriginalID: orig.ID, FromStep: 1, Workflow: noState},
		"ENQUEUED on nothing": {OriginalID: orig.ID, FromStep: 1, Workflow: store.InsertParams{ID: id, Name: "f", State: store.StateEnqueued}},
	} {
		if _, _, err := s.ForkWorkflow(ctx, p); err == nil {
			t.Errorf("fork with %s: no error", what)
		}
	}
	mustNotExist(id)

	// A PENDING fork under no executor waits for one that runs it to
	// take it over, with the original's signature.
	unowned := unique("fork")
	w, created, err := s.ForkWorkflow(ctx, store.ForkParams{OriginalID: orig.ID, FromStep: 1, Workflow: store.InsertParams{ID: unowned, Name: orig.Name, State: store.StatePending, Signature: "sig-1"}})
	if err != nil || !created || w.State != store.StatePending || w.ExecutorID != "" || w.Signature != "sig-1" {
		t.Errorf("fork under no executor = %+v, created %v, %v; want PENDING, no executor, signature sig-1", w, created, err)
	}

	// The original is untouched.
	after := get(t, ctx, s, orig.ID)
	if after.State != before.State || after.Attempts != before.Attempts || !bytes.Equal(after.Output, before.Output) || !after.CompletedAt.Equal(before.CompletedAt) {
		t.Errorf("original after the forks = %+v, want it unchanged %+v", after, before)
	}
	checkSteps(orig.ID, recorded)
}
