package registry

import (
	"context"
	"testing"
	"time"
)

// TestKeyAndAppVersion: a function's key follows its name, kind and
// signature; the application version follows every registered function's
// signature and source, and nothing else.
func TestKeyAndAppVersion(t *testing.T) {
	body := func(context.Context, []byte) ([]byte, error) { return nil, nil }
	base := &Function{Name: "test.F", Kind: KindWorkflow, Signature: "s1", Source: "c1"}
	key := base.Key()
	if len(key) != 16 {
		t.Fatalf("Key = %q, want 16 hex digits", key)
	}
	for what, fn := range map[string]*Function{
		"another name":      {Name: "test.G", Kind: KindWorkflow, Signature: "s1"},
		"another kind":      {Name: "test.F", Kind: KindStep, Signature: "s1"},
		"another signature": {Name: "test.F", Kind: KindWorkflow, Signature: "s2"},
	} {
		if fn.Key() == key {
			t.Errorf("%s: same key %s", what, key)
		}
	}
	if same := (&Function{Name: "test.F", Kind: KindWorkflow, Signature: "s1", Source: "c2", Retries: 3}); same.Key() != key {
		t.Errorf("the source or the policy changed the key")
	}

	before := AppVersion()
	if len(before) != 12 || AppVersion() != before {
		t.Fatalf("AppVersion = %q, then %q: want the same 12 hex digits", before, AppVersion())
	}
	Register(base, body)
	if base.Key() != key {
		t.Errorf("Register changed the key")
	}
	after := AppVersion()
	if after == before {
		t.Errorf("registering a function kept the version %s", after)
	}
	base.Source = "c2" // as if the workflow's code changed
	if AppVersion() == after {
		t.Errorf("changing a workflow's source kept the version %s", after)
	}
	if got := All(); len(got) != 1 || got[0] != base {
		t.Errorf("All = %v, want the registered function", got)
	}
}

// TestRegisterScheduleNeedsWorkflowAndTickArgs: a schedule on a step, or
// without TickArgs to build a tick's input, is a build mistake Register
// refuses, before any process could create ticks it cannot encode.
func TestRegisterScheduleNeedsWorkflowAndTickArgs(t *testing.T) {
	body := func(context.Context, []byte) ([]byte, error) { return nil, nil }
	tickArgs := func(at time.Time) any { return at }
	for what, fn := range map[string]*Function{
		"a step":      {Name: "test.SchedStep", Kind: KindStep, Schedule: "@hourly", TickArgs: tickArgs},
		"no TickArgs": {Name: "test.SchedNoArgs", Kind: KindWorkflow, Schedule: "@hourly"},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register of a schedule on %s did not panic", what)
				}
			}()
			Register(fn, body)
		}()
	}
	ok := &Function{Name: "test.Sched", Kind: KindWorkflow, Schedule: "@hourly", TickArgs: tickArgs}
	Register(ok, body)
	if got, _ := Lookup("test.Sched"); got.Schedule != "@hourly" || got.TickArgs == nil {
		t.Fatalf("registered %+v; want its schedule and TickArgs kept", got)
	}
}
