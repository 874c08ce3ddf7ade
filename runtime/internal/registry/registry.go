// Package registry holds the functions this process can run, registered by
// generated init functions under their stable names.
package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
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

	// Schedule is the cron expression of a scheduled workflow (directive
	// key schedule=): five fields, or six with seconds first, or a
	// descriptor such as @hourly or @every 10m; "" for none. Every
	// process that launches with the function registered creates its
	// workflow at each tick (package schedule), exactly once across them.
	Schedule string
	// Backfill (backfill=true) makes a launching process also create the
	// ticks missed since the last one created, up to a bound; without it
	// they are skipped.
	Backfill bool
	// TickArgs builds the generated argument struct of the call at a
	// tick, encoded as the stored input; set with Schedule.
	TickArgs func(at time.Time) any

	// Signature is the generator's fingerprint of the function's
	// signature: its kind, its parameters' JSON keys and types and its
	// result type, the types spelled out down to their encoded fields.
	// The stored input and output of a call depend on nothing else. ""
	// for a Function written by hand.
	Signature string
	// Source is the generator's fingerprint of a workflow's source: its
	// declaration without comments, gofmt-printed. "" for a step, whose
	// code may change freely: a recovered workflow replays its steps'
	// recorded outcomes by their signatures, and runs a step again from
	// its start.
	Source string

	invoke InvokeFunc
	key    string // see Key; set by Register
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
	if fn.Schedule != "" && (fn.Kind != KindWorkflow || fn.TickArgs == nil) {
		panic(fmt.Sprintf("dbosimpl.Register: %s has a schedule but is not a workflow with TickArgs; run go generate", fn.Name))
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.byName[fn.Name]; dup {
		panic(fmt.Sprintf("dbosimpl.Register: %q is registered twice; give one of them a distinct name with //dbos:%s name=...", fn.Name, fn.Kind))
	}
	fn.invoke = invoke
	fn.key = fn.Key()
	registry.byName[fn.Name] = fn
}

// Key is the fingerprint of the function's name, kind and Signature:
// what a workflow's row records at enqueue (store.Workflow.Signature) and
// what claims match, so that only an executor registering the function
// with the signature its input was encoded for runs it. 16 hex digits.
func (fn *Function) Key() string {
	if fn.key != "" {
		return fn.key
	}
	return fingerprint("dbos function 1", fn.Name, fn.Kind.String(), fn.Signature)[:16]
}

// fingerprint returns the SHA-256 of parts, each ended by a newline, in
// hex.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// All returns every registered function, by name.
func All() []*Function {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]*Function, 0, len(registry.byName))
	for _, fn := range registry.byName {
		out = append(out, fn)
	}
	slices.SortFunc(out, func(a, b *Function) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// AppVersion derives the application version from the registered
// functions: 12 hex digits of a hash of every registered function's name,
// kind, Signature and Source. Changing a workflow's code or any function's
// signature, or adding or removing a function, changes it; rebuilding the
// same code does not. Steps' bodies and the code workflows call besides
// their durable calls do not count: see Function.Source.
func AppVersion() string {
	parts := []string{"dbos app version 1"}
	for _, fn := range All() {
		parts = append(parts, fn.Name, fn.Kind.String(), fn.Signature, fn.Source)
	}
	return fingerprint(parts...)[:12]
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
