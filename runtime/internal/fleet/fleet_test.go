package fleet

import (
	"testing"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

func TestWhy(t *testing.T) {
	worker := store.Executor{ID: "w1", AppVersion: "v2", Functions: map[string]string{"x.F": "sf", "x.G": "sg"}, Queues: []string{"q"}}
	client := store.Executor{ID: "c1", AppVersion: "v2"}
	live := []store.Executor{worker, client}
	for _, c := range []struct {
		name string
		w    store.Workflow
		want string
	}{
		{"runnable on its queue", store.Workflow{State: store.StateEnqueued, Name: "x.F", Signature: "sf", Queue: "q"}, ""},
		{"finished", store.Workflow{State: store.StateError, Name: "x.H", Queue: "nobody"}, ""},
		{"running under a live executor", store.Workflow{State: store.StatePending, Name: "x.H", ExecutorID: "w1"}, ""},
		{"queue nobody runs", store.Workflow{State: store.StateEnqueued, Name: "x.F", Signature: "sf", Queue: "other"},
			`no live executor runs queue "other"`},
		{"function nobody registers", store.Workflow{State: store.StateEnqueued, Name: "x.H", Signature: "sh", Queue: "q"},
			`no live executor running queue "q" registers x.H`},
		{"another signature", store.Workflow{State: store.StateEnqueued, Name: "x.F", Signature: "old", Queue: "q"},
			`no live executor running queue "q" registers x.F with this signature (the call's input was encoded for other parameters)`},
		{"another version", store.Workflow{State: store.StateEnqueued, Name: "x.F", Signature: "sf", Queue: "q", AppVersion: "v1"},
			`no live executor of version v1 running queue "q" registers x.F (it started under version v1)`},
		{"recorded without a signature", store.Workflow{State: store.StateEnqueued, Name: "x.F", Queue: "q"}, ""},
		{"orphaned, runnable", store.Workflow{State: store.StatePending, Name: "x.G", Signature: "sg", ExecutorID: "dead", AppVersion: "v2"}, ""},
		{"orphaned, unregistered", store.Workflow{State: store.StatePending, Name: "crash.Pipeline", Signature: "sp", ExecutorID: "dead", AppVersion: "v1"},
			"no live executor registers crash.Pipeline"},
		{"released, another version", store.Workflow{State: store.StatePending, Name: "x.G", Signature: "sg", AppVersion: "v1"},
			"no live executor of version v1 registers x.G (it started under version v1)"},
		{"orphaned on a queue", store.Workflow{State: store.StatePending, Name: "x.F", Signature: "sf", Queue: "other", ExecutorID: "dead"},
			`no live executor runs queue "other"`},
	} {
		if got := Why(c.w, live); got != c.want {
			t.Errorf("%s: Why = %q, want %q", c.name, got, c.want)
		}
	}
	if got := Why(store.Workflow{State: store.StatePending, Name: "x.F"}, nil); got != "no live executor registers x.F" {
		t.Errorf("with no live executor: %q", got)
	}
}
