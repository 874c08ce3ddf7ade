// Package gen is the dbosgen code generator as a library.
//
// For every package it is given, it finds the functions annotated with
// //dbos:step or //dbos:workflow and writes dbos_gen.go beside them: typed
// Enqueue, Start, Run and Retrieve functions, a typed handle, and an init
// function that registers each annotated function with the dbos runtime.
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
//   - analyze (analyze.go, encodable.go, names.go): check each annotated
//     function and build the plain model (model.go), naming generated
//     identifiers so they never collide with the user's.
//   - emit (emit.go, typecode.go): render dbos_gen.go with jennifer.
//   - write (write.go, run.go): write the file, remove one left stale, or
//     with Options.Check report drift without writing.
//
// Every problem is collected as a Diagnostic (diagnostic.go) printed as
// file:line:col: message, each saying how to fix it.
//
// # Directives
//
//	//dbos:step [name=<registered name>]
//	//dbos:workflow [name=<registered name>]
//
// The registered name defaults to "<import path>.<function name>". Keys are
// listed in one table (directiveKeys) so new ones are a single entry.
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
