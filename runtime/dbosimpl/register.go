package dbosimpl

import (
	"github.com/dbosgen/dbosgen/runtime/internal/registry"
)

// Function describes an annotated function to the runtime. Generated code
// declares one per function and registers it in an init function.
type Function = registry.Function

// Kind says whether a registered function is a step or a workflow.
type Kind = registry.Kind

// InvokeFunc decodes an encoded input, calls the user's function and
// encodes its output. Generated code supplies one per annotated function.
type InvokeFunc = registry.InvokeFunc

// The kinds of annotated functions.
const (
	// KindStep is a function annotated with //dbos:step.
	KindStep = registry.KindStep
	// KindWorkflow is a function annotated with //dbos:workflow.
	KindWorkflow = registry.KindWorkflow
)

// Defaults of the directive keys, as Register fills them in.
const (
	DefaultBackoff     = registry.DefaultBackoff
	DefaultMaxBackoff  = registry.DefaultMaxBackoff
	DefaultMaxRecovery = registry.DefaultMaxRecovery
)

// Register makes fn runnable by this process under fn.Name, with invoke as
// its body. It is called from generated init functions and panics when the
// name is empty, already registered, or invoke is nil: each is a build
// mistake that no caller can recover from.
func Register(fn *Function, invoke InvokeFunc) { registry.Register(fn, invoke) }
