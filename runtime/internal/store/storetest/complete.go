package storetest

import (
	"fmt"
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
		ok, err := CompleteOne(ctx, s, p)
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
	if _, err := CompleteOne(ctx, s, store.CompleteParams{ID: waiting.ID, ExecutorID: "owner", State: store.StatePending}); err == nil {
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
		w, _, err := InsertOne(ctx, s, store.InsertParams{ID: unique("wf"), Name: "f", State: store.StatePending, ExecutorID: "x"})
		if err != nil {
			t.Fatal(err)
		}
		ok, err := CompleteOne(ctx, s, store.CompleteParams{ID: w.ID, ExecutorID: "x", Attempts: w.Attempts, State: tc.state, Output: tc.output, Error: tc.errMsg})
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
	direct, _, err := InsertOne(ctx, s, store.InsertParams{ID: unique("wf"), Name: "f", State: store.StatePending, ExecutorID: exec})
	if err != nil {
		t.Fatal(err)
	}
	ws := enqueueN(t, ctx, s, queue, 4)
	claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: exec, Max: 2})
	claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: other, Max: 1})
	complete(t, ctx, s, get(t, ctx, s, ws[1].ID)) // finished: not pending

	got, _, err := s.PendingFor(ctx, exec, nil)
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
	again, _, err := s.PendingFor(ctx, exec, nil)
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
	none, _, err := s.PendingFor(ctx, unique("idle"), nil)
	if err != nil || len(none) != 0 {
		t.Errorf("PendingFor of an executor with nothing = %v, %v; want none", ids(none), err)
	}
}

func testCompleteMany(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	if ok, err := s.CompleteMany(ctx, nil); err != nil || len(ok) != 0 {
		t.Fatalf("CompleteMany(nil) = %v, %v; want nothing", ok, err)
	}
	queue := unique("q")
	waiting := enqueue(t, ctx, s, store.InsertParams{Queue: queue, Priority: 1})
	enqueueN(t, ctx, s, queue, 4)
	res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "owner", Max: 4})
	if len(res.Claimed) != 4 {
		t.Fatalf("claimed %d, want 4", len(res.Claimed))
	}
	direct, _, err := InsertOne(ctx, s, store.InsertParams{ID: unique("wf"), Name: "f", State: store.StatePending, ExecutorID: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Claimed
	run := c[0].Attempts // the owner's fencing token
	ps := []store.CompleteParams{
		{ID: c[0].ID, ExecutorID: "owner", Attempts: run, State: store.StateSuccess, Output: []byte(`{"r":0}`)},
		{ID: c[1].ID, ExecutorID: "intruder", Attempts: run, State: store.StateSuccess, Output: []byte("x")},
		{ID: waiting.ID, ExecutorID: "owner", Attempts: waiting.Attempts, State: store.StateSuccess},
		{ID: unique("missing"), ExecutorID: "owner", Attempts: run, State: store.StateSuccess},
		{ID: c[2].ID, ExecutorID: "owner", Attempts: run, State: store.StateError, Error: "boom"},
		{ID: direct.ID, ExecutorID: "owner", Attempts: direct.Attempts, State: store.StateSuccess}, // no output
		{ID: c[3].ID, ExecutorID: "owner", Attempts: run - 1, State: store.StateSuccess},           // an earlier run
	}
	ok, err := s.CompleteMany(ctx, ps)
	if err != nil {
		t.Fatalf("CompleteMany: %v", err)
	}
	if want := []bool{true, false, false, false, true, true, false}; !slices.Equal(ok, want) {
		t.Fatalf("CompleteMany = %v, want %v", ok, want)
	}
	for _, tc := range []struct {
		id, state, output, errMsg string
		nilOutput                 bool
	}{
		{c[0].ID, store.StateSuccess, `{"r":0}`, "", false},
		{c[1].ID, store.StatePending, "", "", true},
		{waiting.ID, store.StateEnqueued, "", "", true},
		{c[2].ID, store.StateError, "", "boom", true},
		{direct.ID, store.StateSuccess, "", "", true},
		{c[3].ID, store.StatePending, "", "", true},
	} {
		got := get(t, ctx, s, tc.id)
		if got.State != tc.state || string(got.Output) != tc.output || got.Error != tc.errMsg || (tc.nilOutput && got.Output != nil) {
			t.Errorf("%s: state %s output %q error %q; want %s %q %q", tc.id, got.State, got.Output, got.Error, tc.state, tc.output, tc.errMsg)
		}
		if terminal := tc.state != store.StatePending && tc.state != store.StateEnqueued; terminal == got.CompletedAt.IsZero() {
			t.Errorf("%s: CompletedAt %v in state %s", tc.id, got.CompletedAt, got.State)
		}
	}
	// Invalid input records nothing.
	for _, bad := range [][]store.CompleteParams{
		{{ID: c[1].ID, ExecutorID: "owner", Attempts: run, State: store.StateSuccess}, {ID: c[1].ID, ExecutorID: "owner", Attempts: run, State: store.StateError}},
		{{ID: c[1].ID, ExecutorID: "owner", Attempts: run, State: store.StateSuccess}, {ID: waiting.ID, ExecutorID: "owner", State: store.StatePending}},
	} {
		if _, err := s.CompleteMany(ctx, bad); err == nil {
			t.Errorf("CompleteMany(%+v) succeeded, want an error", bad)
		}
	}
	if got := get(t, ctx, s, c[1].ID); got.State != store.StatePending {
		t.Errorf("a rejected CompleteMany wrote: %s is %s", c[1].ID, got.State)
	}
}

// testClaimCompletes claims with outcomes to record first, on a queue of
// each kind: the outcomes are recorded and the slots they free claimed in
// the same call.
func testClaimCompletes(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		cfg  store.QueueConfig
	}{
		{"unlimited", store.QueueConfig{}},
		{"concurrency", store.QueueConfig{Concurrency: 2}},
		{"worker concurrency", store.QueueConfig{WorkerConcurrency: 2}},
		{"partitions", store.QueueConfig{Concurrency: 2, PartitionConcurrency: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			s := open(t)
			queue := unique("q")
			tc.cfg.Name = queue
			declare(t, ctx, s, tc.cfg)
			ws := enqueueN(t, ctx, s, queue, 6)
			p := store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 2}
			first := claim(t, ctx, s, p)
			if !slices.Equal(ids(first.Claimed), ids(ws[:2])) {
				t.Fatalf("claimed %v, want %v", ids(first.Claimed), ids(ws[:2]))
			}
			if first.Completed != nil {
				t.Errorf("Completed = %v for a claim without outcomes, want nil", first.Completed)
			}
			run := first.Claimed[0].Attempts
			p.Complete = []store.CompleteParams{
				{ID: ws[0].ID, ExecutorID: "e", Attempts: run, State: store.StateSuccess, Output: []byte(`1`)},
				{ID: ws[1].ID, ExecutorID: "e", Attempts: run, State: store.StateSuccess, Output: []byte(`2`)},
				{ID: ws[5].ID, ExecutorID: "e", Attempts: run, State: store.StateSuccess}, // still ENQUEUED
			}
			p.Max = 10
			res := claim(t, ctx, s, p)
			if want := []bool{true, true, false}; !slices.Equal(res.Completed, want) {
				t.Fatalf("Completed = %v, want %v", res.Completed, want)
			}
			want := ids(ws[2:4]) // the two freed slots
			if tc.cfg.Concurrency == 0 && tc.cfg.WorkerConcurrency == 0 {
				want = ids(ws[2:])
			}
			if !slices.Equal(ids(res.Claimed), want) {
				t.Fatalf("claimed %v after completing 2, want %v", ids(res.Claimed), want)
			}
			for i, w := range ws[:2] {
				if got := get(t, ctx, s, w.ID); got.State != store.StateSuccess || string(got.Output) != fmt.Sprint(i+1) {
					t.Errorf("%s: state %s output %q after its outcome was recorded", w.ID, got.State, got.Output)
				}
			}
			// Invalid outcomes: nothing recorded, nothing claimed.
			p.Complete = []store.CompleteParams{{ID: res.Claimed[0].ID, ExecutorID: "e", Attempts: run, State: store.StatePending}}
			if _, err := s.Claim(ctx, p); err == nil {
				t.Error("Claim with a non-terminal outcome succeeded, want an error")
			}
		})
	}
}

// testClaimCompletesFindsLimits records outcomes with a claim made by a
// store that has not claimed from the queue before (so it tries the path of
// a queue without limits first) on a queue with a concurrency limit.
func testClaimCompletesFindsLimits(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue := unique("q")
	declare(t, ctx, s, store.QueueConfig{Name: queue, Concurrency: 1})
	ws := enqueueN(t, ctx, s, queue, 3)
	res := claim(t, ctx, open(t), store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 5})
	if !slices.Equal(ids(res.Claimed), ids(ws[:1])) {
		t.Fatalf("claimed %v, want %v", ids(res.Claimed), ids(ws[:1]))
	}
	res = claim(t, ctx, open(t), store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 5, Complete: []store.CompleteParams{
		{ID: ws[0].ID, ExecutorID: "e", Attempts: res.Claimed[0].Attempts, State: store.StateSuccess},
	}})
	if !slices.Equal(res.Completed, []bool{true}) || !slices.Equal(ids(res.Claimed), ids(ws[1:2])) {
		t.Fatalf("completed %v and claimed %v; want [true] and %v", res.Completed, ids(res.Claimed), ids(ws[1:2]))
	}
	if res.Config.Concurrency != 1 {
		t.Errorf("Config = %+v, want Concurrency 1", res.Config)
	}
}
