package dbosimpl

import (
	"context"
	"errors"
	"testing"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// This test binary launches no runtime: the queue that
// TestCallsWithoutRuntimeReturnErrNotLaunched declares is never started.

func TestCallsWithoutRuntimeReturnErrNotLaunched(t *testing.T) {
	fn := &Function{Name: "test.NotLaunched", Kind: KindStep}
	ctx := context.Background()
	if _, err := Enqueue(ctx, dbos.NewQueue("not_launched_queue"), fn, nil); !errors.Is(err, dbos.ErrNotLaunched) {
		t.Errorf("Enqueue: err = %v, want dbos.ErrNotLaunched", err)
	}
	if _, err := Start(ctx, fn, nil); !errors.Is(err, dbos.ErrNotLaunched) {
		t.Errorf("Start: err = %v, want dbos.ErrNotLaunched", err)
	}
	if _, err := Run(ctx, fn, nil); !errors.Is(err, dbos.ErrNotLaunched) {
		t.Errorf("Run: err = %v, want dbos.ErrNotLaunched", err)
	}
	if _, err := Retrieve(ctx, fn, "x"); !errors.Is(err, dbos.ErrNotLaunched) {
		t.Errorf("Retrieve: err = %v, want dbos.ErrNotLaunched", err)
	}
}

func TestRegisterRejectsDuplicatesAndEmptyNames(t *testing.T) {
	body := func(context.Context, []byte) ([]byte, error) { return nil, nil }
	Register(&Function{Name: "test.Once", Kind: KindStep}, body)
	for name, fn := range map[string]*Function{
		"twice":   {Name: "test.Once", Kind: KindWorkflow},
		"no name": {Kind: KindStep},
		"no kind": {Name: "test.NoKind"},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Register did not panic")
				}
			}()
			Register(fn, body)
		})
	}
}
