package storetest

import (
	"slices"
	"sync"
	"testing"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

func testRecordStepOnce(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	wf := unique("wf")
	first := store.Step{WorkflowID: wf, StepID: 1, Name: "pkg.Step", Output: []byte(`42`), ChildID: "child-1"}
	saved, recorded, err := s.RecordStep(ctx, first)
	if err != nil || !recorded {
		t.Fatalf("RecordStep = recorded %v, %v; want true", recorded, err)
	}
	if saved.WorkflowID != wf || saved.StepID != 1 || saved.Name != "pkg.Step" || string(saved.Output) != "42" || saved.Error != "" || saved.ChildID != "child-1" {
		t.Errorf("RecordStep returned %+v, want %+v", saved, first)
	}
	saved, recorded, err = s.RecordStep(ctx, store.Step{WorkflowID: wf, StepID: 1, Name: "pkg.Other", Error: "failed"})
	if err != nil {
		t.Fatal(err)
	}
	if recorded {
		t.Error("a second RecordStep of the same step recorded=true")
	}
	if saved.Name != "pkg.Step" || string(saved.Output) != "42" || saved.Error != "" || saved.ChildID != "child-1" {
		t.Errorf("a second RecordStep returned %+v, want the first %+v", saved, first)
	}
	failed, recorded, err := s.RecordStep(ctx, store.Step{WorkflowID: wf, StepID: 2, Name: "pkg.Fail", Error: "boom"})
	if err != nil || !recorded || failed.Error != "boom" || failed.Output != nil {
		t.Errorf("RecordStep of a failed step = %+v, %v, %v", failed, recorded, err)
	}
}

func testRecordStepConcurrent(t *testing.T, open Opener) {
	ctx := testContext(t)
	stores := []store.Store{open(t), open(t)}
	wf := unique("wf")
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		recorded int
		outputs  = map[string]bool{}
	)
	for i := range 12 {
		wg.Go(func() {
			saved, rec, err := stores[i%2].RecordStep(ctx, store.Step{WorkflowID: wf, StepID: 1, Name: "s", Output: []byte{byte('a' + i)}})
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
	wf := unique("wf")
	if steps, err := s.Steps(ctx, wf); err != nil || len(steps) != 0 {
		t.Fatalf("Steps of a workflow without steps = %v, %v; want none", steps, err)
	}
	for _, id := range []int{3, 1, 10, 2} {
		if _, _, err := s.RecordStep(ctx, store.Step{WorkflowID: wf, StepID: id, Name: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.RecordStep(ctx, store.Step{WorkflowID: unique("wf"), StepID: 4, Name: "s"}); err != nil {
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
