package gen

import (
	"go/token"
	"go/types"
	"time"
)

// kind says whether an annotated function is a step or a workflow.
type kind int

const (
	kindStep kind = iota + 1
	kindWorkflow
)

// runtimeKind is the name of the dbosimpl.Kind constant for k.
func (k kind) runtimeKind() string {
	if k == kindWorkflow {
		return "KindWorkflow"
	}
	return "KindStep"
}

// String returns the directive name of k: "step" or "workflow".
func (k kind) String() string {
	if k == kindWorkflow {
		return "workflow"
	}
	return "step"
}

// optional is a value a directive key may leave out.
type optional[T comparable] struct {
	Value T
	// Set says whether the key was written.
	Set bool
}

// some returns an optional set to v.
func some[T comparable](v T) optional[T] { return optional[T]{Value: v, Set: true} }

// policy is what the retry and recovery keys set. Only the keys written
// are emitted, so the runtime's defaults apply to the others.
type policy struct {
	// Retries is retries=: how many times a failed step is tried again.
	Retries optional[int]
	// Backoff is backoff=: the wait before a step's first retry.
	Backoff optional[time.Duration]
	// MaxBackoff is max_backoff=: the longest wait between retries.
	MaxBackoff optional[time.Duration]
	// MaxRecovery is max_recovery=: how many times a workflow (or an
	// enqueued or started step) may be recovered.
	MaxRecovery optional[int]
	// Schedule is schedule=: the cron expression a scheduled workflow runs
	// on, as written (checked by parseSchedule); "" for no schedule.
	Schedule string
	// Backfill is backfill=: whether ticks missed while no process ran are
	// created at launch.
	Backfill optional[bool]
}

// usesTime reports whether emitting p refers to package time.
func (p policy) usesTime() bool {
	return p.Backoff.Set || p.MaxBackoff.Set
}

// pkgModel is everything emit needs to write one dbos_gen.go.
type pkgModel struct {
	// Path and Name are the package's import path and name.
	Path, Name string
	// Imports maps each imported package path to its name in the file.
	Imports []importName
	// Funcs are the annotated functions in source order.
	Funcs []*funcModel
}

// importName is one import of the generated file.
type importName struct {
	Path string
	Name string
	// Alias says whether the import is written with an explicit name.
	Alias bool
}

// funcModel is one annotated function.
type funcModel struct {
	// Name is the user's function name.
	Name string
	// Kind is step or workflow.
	Kind kind
	// RegName is the name the function is registered under.
	RegName string
	// Pos is where the function is declared.
	Pos token.Position
	// Policy holds the directive's retry and recovery keys.
	Policy policy
	// Params are the parameters after the context.
	Params []paramModel
	// Result is the result type besides error; nil for error-only
	// functions.
	Result types.Type
	// Signature is the fingerprint of the function's signature, and
	// Source that of a workflow's code ("" for a step): see
	// fingerprint.go.
	Signature, Source string
	// Names are the generated identifiers for this function.
	Names genNames
	// Locals are the generated parameters and locals of the functions
	// that take the user's parameters: EnqueueF, EnqueueFTx, StartF and
	// RunF.
	Locals localNames
	// Inner are the generated parameters and locals of the other
	// functions: the registered invoke body, the handle's methods,
	// EnqueueFBatch, RetrieveF and ForkF.
	Inner localNames
}

// paramModel is one parameter after the context.
type paramModel struct {
	// Name is the parameter's name in generated signatures.
	Name string
	// Field is the field of the argument struct, "P<i>".
	Field string
	// JSON is the field's JSON key: the user's parameter name, or "p<i>"
	// when it is unnamed or blank.
	JSON string
	// BatchField is the parameter's field in FArgs, the argument struct of
	// EnqueueFBatch: the user's parameter name with its first letter upper
	// cased, or "Arg<i>" (see chooseBatchFields).
	BatchField string
	// Named says whether the user named the parameter (not blank).
	Named bool
	// Type is the parameter's type.
	Type types.Type
}

// genNames are the package-level identifiers generated for one function.
type genNames struct {
	Fn       string // dbosFnF: the *dbosimpl.Function variable
	Args     string // dbosArgsF: the argument struct type
	Handle   string // FHandle: the typed handle type
	Enqueue  string // EnqueueF
	Start    string // StartF
	Run      string // RunF
	Retrieve string // RetrieveF
	// BatchArgs is FArgs: the arguments of one call in EnqueueFBatch.
	BatchArgs string
	// EnqueueBatch is EnqueueFBatch.
	EnqueueBatch string
	// Fork is ForkF.
	Fork string
	// EnqueueTx is EnqueueFTx.
	EnqueueTx string
}

// list returns the names in a fixed order.
func (n genNames) list() []string {
	return []string{n.Fn, n.Args, n.Handle, n.Enqueue, n.Start, n.Run, n.Retrieve, n.BatchArgs, n.EnqueueBatch, n.Fork, n.EnqueueTx}
}

// localNames are the identifiers generated code declares inside functions,
// chosen so that none shadows a user parameter or anything the generated
// bodies refer to.
type localNames struct {
	Ctx, Q, Opts, Input, H, Err, Result, Out, Args, ID string
	// The transaction parameter of EnqueueFTx.
	Tx string
	// The locals of EnqueueFBatch.
	Calls, Inputs, I, Call, Hs, Handles string
	// The step parameter of ForkF.
	FromStep string
}
