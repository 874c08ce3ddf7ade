package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

func testCompleteFenced(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue := unique("q")
	waiting := enqueue(t, ctx, s, store.InsertParams{Queue: queue, Priority: 1})
	w := enqueue(t, ctx, s, store.InsertParams{Queue: queue})
	res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "owner", Max: 1})
	if len(res.Claimed) != 1 || res.Claimed[0].ID != w.ID {
		t.Fatalf("claimed %v, want [%s]", ids(res.Claimed), w.ID)
	}
	run := res.Claimed[0].Attempts // the owner's fencing token
	try := func(what string, p store.CompleteParams, want bool) {
		t.Helper()
		ok, err := s.Complete(ctx, p)
		if err != nil {
			t.Fatalf("%s: Complete: %v", what, err)
		}
		if ok != want {
			t.Fatalf("%s: Complete = %v, want %v", what, ok, want)
		}
	}
	try("another executor", store.CompleteParams{ID: w.ID, ExecutorID: "intruder", Attempts: run, State: store.StateSuccess, Output: []byte("x")}, false)
	try("an earlier run of the owner", store.CompleteParams{ID: w.ID, ExecutorID: "owner", Attempts: run - 1, State: store.StateSuccess, Output: []byte("x")}, false)
	if got := get(t, ctx, s, w.ID); got.State != store.StatePending || got.Output != nil || !got.CompletedAt.IsZero() {
		t.Fatalf("a fenced-off Complete wrote: state %s output %q completed %v", got.State, got.Output, got.CompletedAt)
	}
	try("an ENQUEUED workflow", store.CompleteParams{ID: waiting.ID, ExecutorID: "owner", Attempts: waiting.Attempts, State: store.StateSuccess}, false)
	try("a missing workflow", store.CompleteParams{ID: unique("missing"), ExecutorID: "owner", Attempts: run, State: store.StateSuccess}, false)
	try("the owner", store.CompleteParams{ID: w.ID, ExecutorID: "owner", Attempts: run, State: store.StateSuccess, Output: []byte(`{"r":1}`)}, true)
	try("the owner again", store.CompleteParams{ID: w.ID, ExecutorID: "owner", Attempts: run, State: store.StateError, Error: "late"}, false)
	got := get(t, ctx, s, w.ID)
	if got.State != store.StateSuccess || string(got.Output) != `{"r":1}` || got.Error != "" {
		t.Errorf("after completion: state %s output %q error %q", got.State, got.Output, got.Error)
	}
	if got.CompletedAt.Before(got.StartedAt) || !near(got.CompletedAt, time.Now()) {
		t.Errorf("CompletedAt = %v, StartedAt %v", got.CompletedAt, got.StartedAt)
	}
	if _, err := s.Complete(ctx, store.CompleteParams{ID: waiting.ID, ExecutorID: "owner", State: store.StatePending}); err == nil {
		t.Error("Complete with a non-terminal state succeeded, want an error")
	}
}

func testCompleteStates(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	for _, tc := range []struct {
		state  string
		output []byte
		errMsg string
	}{
		{store.StateSuccess, []byte(`null`), ""},
		{store.StateSuccess, nil, ""},
		{store.StateError, nil, "boom"},
		{store.StateCancelled, nil, "cancelled by user"},
	} {
		w, _, err := s.InsertWorkflow(ctx, store.InsertParams{ID: unique("wf"), Name: "f", State: store.StatePending, ExecutorID: "x"})
		if err != nil {
			t.Fatal(err)
		}
		ok, err := s.Complete(ctx, store.CompleteParams{ID: w.ID, ExecutorID: "x", Attempts: w.Attempts, State: tc.state, Output: tc.output, Error: tc.errMsg})
		if err != nil || !ok {
			t.Fatalf("Complete(%s) = %v, %v", tc.state, ok, err)
		}
		got := get(t, ctx, s, w.ID)
		if got.State != tc.state || got.Error != tc.errMsg || string(got.Output) != string(tc.output) || got.CompletedAt.IsZero() {
			t.Errorf("Complete(%s, %q, %q) stored state %s output %q error %q completed %v",
				tc.state, tc.output, tc.errMsg, got.State, got.Output, got.Error, got.CompletedAt)
		}
		if tc.output == nil && got.Output != nil {
			t.Errorf("Complete(%s) with no output stored %q, want nil", tc.state, got.Output)
		}
	}
}

func testPendingFor(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	exec, other, queue := unique("exec"), unique("exec"), unique("q")
	direct, _, err := s.InsertWorkflow(ctx, store.InsertParams{ID: unique("wf"), Name: "f", State: store.StatePending, ExecutorID: exec})
	if err != nil {
		t.Fatal(err)
	}
	ws := enqueueN(t, ctx, s, queue, 4)
	claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: exec, Max: 2})
	claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: other, Max: 1})
	complete(t, ctx, s, get(t, ctx, s, ws[1].ID)) // finished: not pending

	got, err := s.PendingFor(ctx, exec)
	if err != nil {
		t.Fatalf("PendingFor: %v", err)
	}
	if want := []string{direct.ID, ws[0].ID}; !slices.Equal(ids(got), want) {
		t.Fatalf("PendingFor = %v, want %v (oldest first)", ids(got), want)
	}
	for _, w := range got {
		if w.Attempts != 2 || w.State != store.StatePending || w.ExecutorID != exec {
			t.Errorf("%s: Attempts %d State %s ExecutorID %s, want 2 PENDING %s", w.ID, w.Attempts, w.State, w.ExecutorID, exec)
		}
	}
	again, err := s.PendingFor(ctx, exec)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range again {
		if w.Attempts != 3 {
			t.Errorf("%s: Attempts %d after a second PendingFor, want 3", w.ID, w.Attempts)
		}
	}
	if w := get(t, ctx, s, ws[2].ID); w.Attempts != 1 {
		t.Errorf("PendingFor(%s) counted an attempt of %s's workflow: %d", exec, other, w.Attempts)
	}
	none, err := s.PendingFor(ctx, unique("idle"))
	if err != nil || len(none) != 0 {
		t.Errorf("PendingFor of an executor with nothing = %v, %v; want none", ids(none), err)
	}
}
