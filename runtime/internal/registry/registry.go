// Package registry holds the functions this process can run, registered by
// generated init functions under their stable names.
package registry

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Kind says whether a registered function is a step or a workflow.
type Kind int

const (
	// KindStep is a function annotated with //dbos:step. Run inside a
	// workflow it is a checkpointed step; enqueued or started, it runs as a
	// one-step workflow.
	KindStep Kind = iota + 1
	// KindWorkflow is a function annotated with //dbos:workflow.
	KindWorkflow
)

// String returns "step" or "workflow".
func (k Kind) String() string {
	switch k {
	case KindStep:
		return "step"
	case KindWorkflow:
		return "workflow"
	default:
		return fmt.Sprintf("Kind(%d)", int(k))
	}
}

// InvokeFunc decodes an encoded input, calls the user's function and encodes
// its output. Generated code supplies one per annotated function.
type InvokeFunc func(ctx context.Context, input []byte) ([]byte, error)

// Function describes an annotated function to the runtime. Generated code
// declares one per function and registers it in an init function; user code
// does not build these by hand.
type Function struct {
	// Name is the stable registered name: import path + "." + function
	// name, or the directive's name= value.
	Name string
	// Kind says whether the function is a step or a workflow.
	Kind Kind

	// Retries is how many times a failed step is tried again (directive key
	// retries=); 0 means it runs once. Only steps retry.
	Retries int
	// Backoff is the wait before the first retry (backoff=); it doubles on
	// each later one, up to MaxBackoff, with jitter. Defaults to
	// DefaultBackoff.
	Backoff time.Duration
	// MaxBackoff caps the wait between retries (max_backoff=). Defaults to
	// DefaultMaxBackoff.
	MaxBackoff time.Duration
	// MaxRecovery is how many times a workflow may be recovered after its
	// executor stopped before it is dead-lettered instead (max_recovery=).
	// Defaults to DefaultMaxRecovery.
	MaxRecovery int

	invoke InvokeFunc
}

// Defaults of the directive keys.
const (
	DefaultBackoff     = 100 * time.Millisecond
	DefaultMaxBackoff  = 10 * time.Second
	DefaultMaxRecovery = 50
)

var registry = struct {
	sync.RWMutex
	byName map[string]*Function
}{byName: map[string]*Function{}}

// Register makes fn runnable by this process under fn.Name, with invoke as
// its body. It is called from generated init functions and panics when the
// name is empty, already registered, or invoke is nil: each is a build
// mistake that no caller can recover from.
func Register(fn *Function, invoke InvokeFunc) {
	if fn == nil || fn.Name == "" {
		panic("dbosimpl.Register: function has no name")
	}
	if invoke == nil {
		panic(fmt.Sprintf("dbosimpl.Register: %s has no body", fn.Name))
	}
	if fn.Kind != KindStep && fn.Kind != KindWorkflow {
		panic(fmt.Sprintf("dbosimpl.Register: %s has invalid kind %d", fn.Name, int(fn.Kind)))
	}
	if fn.Retries < 0 || fn.Backoff < 0 || fn.MaxBackoff < 0 || fn.MaxRecovery < 0 {
		panic(fmt.Sprintf("dbosimpl.Register: %s has a negative retries, backoff, max_backoff or max_recovery", fn.Name))
	}
	if fn.Backoff == 0 {
		fn.Backoff = DefaultBackoff
	}
	if fn.MaxBackoff == 0 {
		fn.MaxBackoff = max(DefaultMaxBackoff, fn.Backoff)
	}
	if fn.MaxBackoff < fn.Backoff {
		panic(fmt.Sprintf("dbosimpl.Register: %s has max_backoff %s below backoff %s", fn.Name, fn.MaxBackoff, fn.Backoff))
	}
	if fn.MaxRecovery == 0 {
		fn.MaxRecovery = DefaultMaxRecovery
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.byName[fn.Name]; dup {
		panic(fmt.Sprintf("dbosimpl.Register: %q is registered twice; give one of them a distinct name with //dbos:%s name=...", fn.Name, fn.Kind))
	}
	fn.invoke = invoke
	registry.byName[fn.Name] = fn
}

// Call runs the function's registered body on an encoded input.
func (fn *Function) Call(ctx context.Context, input []byte) ([]byte, error) {
	return fn.invoke(ctx, input)
}

// Lookup returns the registered function with the given name.
func Lookup(name string) (*Function, bool) {
	registry.RLock()
	defer registry.RUnlock()
	fn, ok := registry.byName[name]
	return fn, ok
}
