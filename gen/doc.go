// Package gen is the dbosgen code generator as a library.
//
// For every package it is given, it finds the functions annotated with
// //dbos:step or //dbos:workflow and writes dbos_gen.go beside them: typed
// Enqueue, Start, Run, Retrieve and Fork functions, a typed batch enqueue, a
// typed handle, and an init function that registers each annotated function
// with the dbos runtime.
//
// Generation runs in phases, one file each:
//
//   - load (load.go): go/packages loads the package with the build tag
//     "dbosgen", so a stale dbos_gen.go (tagged //go:build !dbosgen) never
//     blocks regeneration. Type errors are tolerated, since user code refers
//     to generated names that are undefined until generation, but the
//     annotated functions' parameter and result types must resolve.
//   - scan (scan.go, directive.go): read the //dbos: directives in the doc
//     comments and attach each to its declaration.
//   - analyze (analyze.go, encodable.go, names.go, fingerprint.go): check
//     each annotated function and build the plain model (model.go), naming
//     generated identifiers so they never collide with the user's.
//   - emit (emit.go, typecode.go): render dbos_gen.go with jennifer.
//   - write (write.go, run.go): write the file, remove one left stale, or
//     with Options.Check report drift without writing.
//
// Every problem is collected as a Diagnostic (diagnostic.go) printed as
// file:line:col: message, each saying how to fix it.
//
// # Directives
//
//	//dbos:step [name=<registered name>] [retries=N] [backoff=D] [max_backoff=D] [max_recovery=N]
//	//dbos:workflow [name=<registered name>] [max_recovery=N] [schedule="<cron>" [backfill=true|false]]
//
// Arguments are key=value pairs separated by spaces, in any order; a value
// may be a quoted Go string. Each key may appear once. The keys:
//
//   - name=: the registered name, which must stay stable while calls are
//     stored. Defaults to "<import path>.<function name>".
//   - retries=N (steps only): how many times a failed step is tried again,
//     a whole number from 0 to 2147483647; 0, the default, runs it once.
//   - backoff=D (steps only): the wait before the first retry, a Go
//     duration > 0 such as 100ms or 2s. The wait doubles on each later
//     retry. Defaults to dbosimpl.DefaultBackoff (100ms).
//   - max_backoff=D (steps only): the longest wait between retries, a Go
//     duration > 0 and >= backoff= (or >= the default backoff when
//     backoff= is left out). Defaults to dbosimpl.DefaultMaxBackoff (10s), or
//     to backoff= when that is longer.
//   - max_recovery=N (steps and workflows): how many times a run may be
//     recovered after its process stopped before it is dead-lettered, a
//     whole number from 1 to 2147483647. It applies to steps too, since an enqueued or
//     started step runs as a one-step workflow. Defaults to
//     dbosimpl.DefaultMaxRecovery (50).
//   - schedule="<cron>" (workflows only): run the workflow at each tick of
//     a cron expression, checked here with github.com/robfig/cron/v3: five
//     fields (minute hour day-of-month month day-of-week), or six with
//     seconds first, or a descriptor (@yearly, @monthly, @weekly, @daily,
//     @hourly, @every <duration>), in UTC unless it starts with
//     CRON_TZ=<zone>. The function must be
//     func F(ctx context.Context, at time.Time) error (or (R, error)); at
//     is the tick. The generated descriptor carries Schedule and TickArgs.
//   - backfill=true|false (with schedule= only): whether a launching
//     process creates the ticks missed while no process ran. Defaults to
//     false: they are skipped.
//
// For example:
//
//	//dbos:step retries=5 backoff=100ms max_backoff=5s
//	//dbos:workflow max_recovery=10 name=billing.charge
//	//dbos:workflow schedule="0 */5 * * * *" backfill=true
//
// A workflow is not retried: after a crash it is recovered and resumes
// after its last completed step. retries=, backoff= and max_backoff= on a
// workflow are therefore errors, and so are backoff= and max_backoff=
// without retries= or with retries=0, where they would have no effect.
// Every problem with a key is an error reported at the key's column, and
// nothing is generated for the package until it is fixed.
//
// Only the keys written go into the generated dbosimpl.Function, so the
// runtime's defaults apply to the others; durations are written as
// constant expressions such as 100 * time.Millisecond. Keys are listed in
// one table (directiveKeys) so new ones are a single entry.
//
// # Fingerprints
//
// Every generated dbosimpl.Function carries Signature, the fingerprint of
// what a call's stored input and output depend on: the function's kind,
// each parameter's JSON key and type and its result type, each type
// spelled out as encoding/json sees it (the encoded fields of structs,
// with their JSON names; a type with its own MarshalJSON, MarshalText or
// Unmarshal methods by its package and type name). Renaming a type or
// adding an unexported field keeps it; adding, renaming or retyping an
// encoded field changes it. A workflow's Function also carries Source, the
// fingerprint of its declaration's tokens without comments (reformatting
// keeps it, any change of code changes it); steps carry none, since a
// recovered workflow replays its steps' recorded outcomes and a step runs
// again from its start. Both are 16 hex digits and do not depend on the
// module's path (fingerprint.go). The runtime derives the application
// version from them (see dbos.Config.AppVersion) and records Signature,
// with the name, on each call it enqueues, so that only a process whose
// function has the same signature runs it.
//
// # Batch enqueue
//
// For every function F, EnqueueFBatch(ctx, q, calls []FArgs, opts...)
// enqueues one call of F per element of calls through dbosimpl.EnqueueBatch
// (one multi-row insert per 1000 calls; inside a workflow, one
// checkpointed step). FArgs has one exported field per parameter after the
// context, in order: the parameter's name with its first letter upper
// cased (task becomes Task). An unnamed or blank parameter, one whose name
// does not become exported that way (_x), and the later of two whose names
// capitalise alike (x, then X) get Arg<i> instead, i counting the
// parameters after the context from 0; a parameter named like another's
// Arg<i> (arg2) gives the name up to it. A function with no parameters
// besides the context gets an empty FArgs, so every function has the same
// batch API. Like the other generated names, FArgs and EnqueueFBatch are
// unexported (fArgs, enqueueFBatch) when F is.
//
// # Supported signatures
//
//	func F(ctx context.Context, a A, b B, ...) (R, error)
//	func F(ctx context.Context, a A, b B, ...) error
//
// Parameters and results may be of any type encoding/json can encode, from
// any package. Variadic parameters are rejected with a diagnostic: take a
// slice instead, since the generated Enqueue and Start functions already end
// with a variadic list of options. Methods and generic functions are
// rejected too.
package gen
