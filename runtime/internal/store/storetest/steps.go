package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

func testRecordStepOnce(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	wf, owner := running(t, s)
	first := store.Step{WorkflowID: wf, StepID: 1, Name: "pkg.Step", Output: []byte(`42`), ChildID: "child-1"}
	saved, recorded, err := s.RecordStep(ctx, first, owner)
	if err != nil || !recorded {
		t.Fatalf("RecordStep = recorded %v, %v; want true", recorded, err)
	}
	if saved.WorkflowID != wf || saved.StepID != 1 || saved.Name != "pkg.Step" || string(saved.Output) != "42" || saved.Error != "" || saved.ChildID != "child-1" {
		t.Errorf("RecordStep returned %+v, want %+v", saved, first)
	}
	saved, recorded, err = s.RecordStep(ctx, store.Step{WorkflowID: wf, StepID: 1, Name: "pkg.Other", Error: "failed"}, owner)
	if err != nil {
		t.Fatal(err)
	}
	if recorded {
		t.Error("a second RecordStep of the same step recorded=true")
	}
	if saved.Name != "pkg.Step" || string(saved.Output) != "42" || saved.Error != "" || saved.ChildID != "child-1" {
		t.Errorf("a second RecordStep returned %+v, want the first %+v", saved, first)
	}
	failed, recorded, err := s.RecordStep(ctx, store.Step{WorkflowID: wf, StepID: 2, Name: "pkg.Fail", Error: "boom"}, owner)
	if err != nil || !recorded || failed.Error != "boom" || failed.Output != nil {
		t.Errorf("RecordStep of a failed step = %+v, %v, %v", failed, recorded, err)
	}
}

func testRecordStepConcurrent(t *testing.T, open Opener) {
	ctx := testContext(t)
	stores := []store.Store{open(t), open(t)}
	wf, owner := running(t, stores[0])
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		recorded int
		outputs  = map[string]bool{}
	)
	for i := range 12 {
		wg.Go(func() {
			saved, rec, err := stores[i%2].RecordStep(ctx, store.Step{WorkflowID: wf, StepID: 1, Name: "s", Output: []byte{byte('a' + i)}}, owner)
			if err != nil {
				t.Errorf("RecordStep: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if rec {
				recorded++
			}
			outputs[string(saved.Output)] = true
		})
	}
	wg.Wait()
	if recorded != 1 || len(outputs) != 1 {
		t.Errorf("12 concurrent RecordSteps of one step: %d recorded, %d distinct outputs returned; want 1 and 1", recorded, len(outputs))
	}
}

func testStepsOrdered(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	wf, owner := running(t, s)
	if steps, err := s.Steps(ctx, wf); err != nil || len(steps) != 0 {
		t.Fatalf("Steps of a workflow without steps = %v, %v; want none", steps, err)
	}
	for _, id := range []int{3, 1, 10, 2} {
		if _, _, err := s.RecordStep(ctx, store.Step{WorkflowID: wf, StepID: id, Name: "s"}, owner); err != nil {
			t.Fatal(err)
		}
	}
	other, otherOwner := running(t, s)
	if _, _, err := s.RecordStep(ctx, store.Step{WorkflowID: other, StepID: 4, Name: "s"}, otherOwner); err != nil {
		t.Fatal(err)
	}
	steps, err := s.Steps(ctx, wf)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, st := range steps {
		got = append(got, st.StepID)
	}
	if want := []int{1, 2, 3, 10}; !slices.Equal(got, want) {
		t.Errorf("Steps = %v, want %v", got, want)
	}
}

// running inserts a workflow PENDING under a fresh executor and returns its
// ID and its run's fencing token.
func running(t *testing.T, s store.Store) (string, store.Owner) {
	t.Helper()
	exec := unique("exec")
	w, _, err := InsertOne(testContext(t), s, store.InsertParams{ID: unique("wf"), Name: "f", State: store.StatePending, ExecutorID: exec})
	if err != nil {
		t.Fatal(err)
	}
	return w.ID, store.Owner{ExecutorID: exec, Attempts: w.Attempts}
}

func testRecordStepFenced(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	wf, owner := running(t, s)
	for name, stale := range map[string]store.Owner{
		"another executor":   {ExecutorID: "someone-else", Attempts: owner.Attempts},
		"an earlier attempt": {ExecutorID: owner.ExecutorID, Attempts: owner.Attempts - 1},
		"a missing workflow": owner,
	} {
		id := wf
		if name == "a missing workflow" {
			id = unique("missing")
		}
		if _, _, err := s.RecordStep(ctx, store.Step{WorkflowID: id, StepID: 1, Name: "s"}, stale); !errors.Is(err, store.ErrFenced) {
			t.Errorf("RecordStep from %s: err = %v, want ErrFenced", name, err)
		}
	}
	if _, recorded, err := s.RecordStep(ctx, store.Step{WorkflowID: wf, StepID: 1, Name: "s"}, owner); err != nil || !recorded {
		t.Fatalf("RecordStep by the owner = %v, %v", recorded, err)
	}
	// A finished (here: cancelled) workflow takes no more checkpoints, even
	// from its last owner.
	if _, _, err := s.CancelWorkflow(ctx, wf); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecordStep(ctx, store.Step{WorkflowID: wf, StepID: 2, Name: "s"}, owner); !errors.Is(err, store.ErrFenced) {
		t.Errorf("RecordStep after cancel: err = %v, want ErrFenced", err)
	}
	if steps, _ := s.Steps(ctx, wf); len(steps) != 1 {
		t.Errorf("%d checkpoints, want the owner's one", len(steps))
	}
}

func testRecordSteps(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	wf, owner := running(t, s)
	if _, _, err := s.RecordStep(ctx, store.Step{WorkflowID: wf, StepID: 2, Name: "first", Output: []byte(`1`)}, owner); err != nil {
		t.Fatal(err)
	}
	batch := []store.Step{
		{WorkflowID: wf, StepID: 1, Name: "enqueue pkg.F", ChildID: wf + "-1"},
		{WorkflowID: wf, StepID: 2, Name: "second", Output: []byte(`2`)}, // recorded already: skipped
		{WorkflowID: wf, StepID: 3, Name: "get result pkg.F", Output: []byte(`"ok"`), ChildID: wf + "-1"},
		{WorkflowID: wf, StepID: 4, Name: "failed", Error: "boom"},
	}
	if err := s.RecordSteps(ctx, wf, batch, owner); err != nil {
		t.Fatalf("RecordSteps: %v", err)
	}
	steps, err := s.Steps(ctx, wf)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Step{
		batch[0],
		{WorkflowID: wf, StepID: 2, Name: "first", Output: []byte(`1`)},
		batch[2],
		batch[3],
	}
	if len(steps) != len(want) {
		t.Fatalf("Steps = %+v, want %+v", steps, want)
	}
	for i := range want {
		got := steps[i]
		if got.StepID != want[i].StepID || got.Name != want[i].Name || string(got.Output) != string(want[i].Output) || got.Error != want[i].Error || got.ChildID != want[i].ChildID {
			t.Errorf("step %d = %+v, want %+v", i+1, got, want[i])
		}
	}
	if err := s.RecordSteps(ctx, wf, nil, owner); err != nil {
		t.Errorf("RecordSteps of nothing: %v", err)
	}
	if err := s.RecordSteps(ctx, wf, []store.Step{{WorkflowID: "other", StepID: 5, Name: "x"}}, owner); err == nil {
		t.Error("RecordSteps accepted a step of another workflow")
	}
	stale := store.Owner{ExecutorID: owner.ExecutorID, Attempts: owner.Attempts - 1}
	if err := s.RecordSteps(ctx, wf, []store.Step{{WorkflowID: wf, StepID: 5, Name: "x"}}, stale); !errors.Is(err, store.ErrFenced) {
		t.Errorf("RecordSteps from an earlier attempt: err = %v, want ErrFenced", err)
	}
	if _, _, err := s.CancelWorkflow(ctx, wf); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSteps(ctx, wf, []store.Step{{WorkflowID: wf, StepID: 5, Name: "x"}, {WorkflowID: wf, StepID: 6, Name: "y"}}, owner); !errors.Is(err, store.ErrFenced) {
		t.Errorf("RecordSteps after cancel: err = %v, want ErrFenced", err)
	}
	if steps, _ := s.Steps(ctx, wf); len(steps) != 4 {
		t.Errorf("a fenced RecordSteps wrote: %d steps, want 4", len(steps))
	}
}

// testStepCode: a step's Code is kept as given, through RecordStep,
// RecordSteps and Steps, and a step recorded already keeps its own.
func testStepCode(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	wf, owner := running(t, s)
	saved, recorded, err := s.RecordStep(ctx, store.Step{WorkflowID: wf, StepID: 1, Name: "s", Error: "deadline exceeded", Code: "timeout"}, owner)
	if err != nil || !recorded || saved.Code != "timeout" {
		t.Fatalf("RecordStep with Code %q = %+v, recorded %v, %v", "timeout", saved, recorded, err)
	}
	saved, recorded, err = s.RecordStep(ctx, store.Step{WorkflowID: wf, StepID: 1, Name: "s", Error: "other", Code: "cancelled"}, owner)
	if err != nil || recorded || saved.Code != "timeout" {
		t.Errorf("a second RecordStep of step 1 = %+v, recorded %v, %v; want the first, Code %q", saved, recorded, err, "timeout")
	}
	if err := s.RecordSteps(ctx, wf, []store.Step{
		{WorkflowID: wf, StepID: 1, Name: "s", Code: "cancelled"}, // recorded already: skipped
		{WorkflowID: wf, StepID: 2, Name: "s", Error: "workflow cancelled", Code: "cancelled"},
		{WorkflowID: wf, StepID: 3, Name: "s", Output: []byte(`3`)},
		{WorkflowID: wf, StepID: 4, Name: "s", Error: "no such function", Code: "unknown function"},
	}, owner); err != nil {
		t.Fatalf("RecordSteps: %v", err)
	}
	steps, err := s.Steps(ctx, wf)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, st := range steps {
		codes = append(codes, st.Code)
	}
	if want := []string{"timeout", "cancelled", "", "unknown function"}; !slices.Equal(codes, want) {
		t.Errorf("Steps' codes = %q, want %q", codes, want)
	}
}

// testStepTimes: a step keeps the start it was given and gets the time it
// was recorded; a step recorded without a start has none; a batch of steps
// keeps each one's.
func testStepTimes(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	wf, owner := running(t, s)
	begun := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	if _, _, err := s.RecordStep(ctx, store.Step{WorkflowID: wf, StepID: 1, Name: "s", StartedAt: begun}, owner); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecordStep(ctx, store.Step{WorkflowID: wf, StepID: 2, Name: "enqueue f"}, owner); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSteps(ctx, wf, []store.Step{{WorkflowID: wf, StepID: 3, Name: "get result f", StartedAt: begun.Add(time.Millisecond)}, {WorkflowID: wf, StepID: 4, Name: "enqueue g"}}, owner); err != nil {
		t.Fatal(err)
	}
	steps, err := s.Steps(ctx, wf)
	if err != nil || len(steps) != 4 {
		t.Fatalf("Steps = %+v, %v; want 4", steps, err)
	}
	wantStart := []time.Time{begun, {}, begun.Add(time.Millisecond), {}}
	for i, st := range steps {
		if !st.StartedAt.Equal(wantStart[i]) || !near(st.RecordedAt, time.Now()) {
			t.Errorf("step %d: StartedAt %v, RecordedAt %v; want StartedAt %v, recorded now", st.StepID, st.StartedAt, st.RecordedAt, wantStart[i])
		}
	}
}
