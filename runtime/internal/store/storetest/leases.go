package storetest

import (
	"slices"
	"testing"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

func testOwnedWorkflows(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	exec := unique("exec")
	var mine []string
	for range 3 {
		w, _, err := InsertOne(ctx, s, store.InsertParams{ID: unique("wf"), Name: "f", State: store.StatePending, ExecutorID: exec})
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, w.ID)
	}
	other, _ := running(t, s)
	if _, _, err := s.CancelWorkflow(ctx, mine[1]); err != nil {
		t.Fatal(err)
	}
	owned, err := s.OwnedWorkflows(ctx, exec, append(slices.Clone(mine), other, unique("missing")))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(owned)
	want := []string{mine[0], mine[2]}
	slices.Sort(want)
	if !slices.Equal(owned, want) {
		t.Errorf("OwnedWorkflows = %v, want %v (not the cancelled one, nor another executor's, nor a missing one)", owned, want)
	}
	if owned, err := s.OwnedWorkflows(ctx, exec, nil); err != nil || len(owned) != 0 {
		t.Errorf("OwnedWorkflows of none = %v, %v", owned, err)
	}
}
