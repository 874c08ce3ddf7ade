package gen

import (
	"go/token"
	"go/types"
	"path"
	"sort"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// runtimePath is the import path of the dbos runtime generated code calls.
const runtimePath = "github.com/dbosgen/dbosgen/runtime"

// runtimeName is the runtime's package name.
const runtimeName = "dbos"

// implPath is the import path of the package of what only generated code
// calls (registration, codecs, the byte-level calls), apart from the
// user's API in the runtime package.
const implPath = runtimePath + "/dbosimpl"

// implName is that package's name.
const implName = "dbosimpl"

// namesFor returns the package-level names generated for the function
// called name. They are exported when the function is.
func namesFor(name string) genNames {
	n := genNames{Fn: "dbosFn" + name, Args: "dbosArgs" + name, Handle: name + "Handle", BatchArgs: name + "Args"}
	if token.IsExported(name) {
		n.Enqueue, n.Start, n.Run, n.Retrieve = "Enqueue"+name, "Start"+name, "Run"+name, "Retrieve"+name
		n.EnqueueBatch = "Enqueue" + name + "Batch"
		n.EnqueueTx = "Enqueue" + name + "Tx"
		n.Fork = "Fork" + name
		return n
	}
	up := upperFirst(name)
	n.Enqueue, n.Start, n.Run, n.Retrieve = "enqueue"+up, "start"+up, "run"+up, "retrieve"+up
	n.EnqueueBatch = "enqueue" + up + "Batch"
	n.EnqueueTx = "enqueue" + up + "Tx"
	n.Fork = "fork" + up
	return n
}

// upperFirst returns s with its first letter in upper case.
func upperFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

// nameSet is a set of identifiers.
type nameSet map[string]bool

// unique returns base, or base followed by the smallest number from 2 up
// that makes it free in every set of taken.
func unique(base string, taken ...nameSet) string {
	free := func(s string) bool {
		for _, t := range taken {
			if t[s] {
				return false
			}
		}
		return true
	}
	if free(base) {
		return base
	}
	for i := 2; ; i++ {
		if c := base + strconv.Itoa(i); free(c) {
			return c
		}
	}
}

// chooseImports names the packages the generated file imports: context,
// fmt (for EnqueueFBatch's errors), the runtime and its generated-code
// package, time when a descriptor
// sets a duration, and every package the annotated signatures mention. A name
// taken by a package-level identifier of the user's package or by a
// generated name gets a number appended.
func chooseImports(pkg *types.Package, funcs []*funcModel, taken ...nameSet) []importName {
	names := map[string]string{"context": "context", "fmt": "fmt", runtimePath: runtimeName, implPath: implName}
	for _, fn := range funcs {
		if fn.Policy.usesTime() {
			names["time"] = "time"
		}
		for _, t := range signatureTypes(fn) {
			for _, obj := range typeNames(t) {
				if p := obj.Pkg(); p != nil && p != pkg {
					names[p.Path()] = p.Name()
				}
			}
		}
	}
	paths := make([]string, 0, len(names))
	for p := range names {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	used := nameSet{}
	out := make([]importName, 0, len(paths))
	for _, p := range paths {
		name := unique(names[p], append(taken, used)...)
		used[name] = true
		out = append(out, importName{Path: p, Name: name, Alias: name != path.Base(p)})
	}
	return out
}

// signatureTypes returns the parameter and result types of fn.
func signatureTypes(fn *funcModel) []types.Type {
	ts := make([]types.Type, 0, len(fn.Params)+1)
	for _, p := range fn.Params {
		ts = append(ts, p.Type)
	}
	if fn.Result != nil {
		ts = append(ts, fn.Result)
	}
	return ts
}

// chooseBatchFields names the fields of FArgs, one per parameter of fn,
// from the user's parameter names (call it before chooseLocals renames
// them): a name with its first letter upper cased. A parameter that is
// unnamed or blank, whose name does not become exported that way (such as
// _x), or whose field name an earlier parameter took (x, then X), gets
// "Arg<i>" instead, i counting the parameters after the context from 0.
// "Arg<i>" belongs to parameter i: a parameter named arg2 gives that field
// name up when parameter 2 needs it, and gets its own "Arg<i>".
func chooseBatchFields(fn *funcModel) {
	fields := make([]string, len(fn.Params))
	seen := nameSet{}
	for i, p := range fn.Params {
		if !p.Named {
			continue
		}
		if f := upperFirst(p.Name); token.IsExported(f) && !seen[f] {
			fields[i] = f
			seen[f] = true
		}
	}
	argField := func(i int) string { return "Arg" + strconv.Itoa(i) }
	// Each pass may make more parameters use their Arg<i>; it stops when
	// no name chosen above is the Arg<i> of a parameter that uses it.
	for changed := true; changed; {
		changed = false
		positional := nameSet{}
		for i, f := range fields {
			if f == "" {
				positional[argField(i)] = true
			}
		}
		for i, f := range fields {
			if f != "" && positional[f] {
				fields[i] = ""
				changed = true
			}
		}
	}
	for i := range fn.Params {
		if fields[i] == "" {
			fields[i] = argField(i)
		}
		fn.Params[i].BatchField = fields[i]
	}
}

// chooseLocals names fn's parameters in generated signatures and the
// locals of generated bodies. outer holds the identifiers every generated
// body may refer to from outside (imports, generated package-level names,
// predeclared identifiers); fn's own name and the package's types its
// signature mentions are added here. The user's parameter names
// are kept unless they would shadow one of those, and the generated locals
// ("ctx", "q", "opts", ...) of the functions that take the user's
// parameters give way to them.
func chooseLocals(fn *funcModel, pkg *types.Package, outer nameSet) {
	scope := nameSet{fn.Name: true}
	for _, t := range signatureTypes(fn) {
		for _, obj := range typeNames(t) {
			if obj.Pkg() == pkg {
				scope[obj.Name()] = true
			}
		}
	}
	// Named parameters choose first, so that their names and JSON keys do
	// not depend on the unnamed ones around them.
	params := nameSet{}
	keys := nameSet{}
	for _, named := range []bool{true, false} {
		for i := range fn.Params {
			p := &fn.Params[i]
			if p.Named != named {
				continue
			}
			index := strconv.Itoa(i)
			p.Field = "P" + index
			base := p.Name
			if !named {
				base = "p" + index
			}
			p.Name = unique(base, outer, scope, params)
			params[p.Name] = true
			p.JSON = unique(base, keys)
			keys[p.JSON] = true
		}
	}
	fn.Locals = pickLocals(outer, scope, params)
	fn.Inner = pickLocals(outer, scope)
}

// pickLocals names the generated locals of one function body, avoiding
// every name in taken.
func pickLocals(taken ...nameSet) localNames {
	locals := nameSet{}
	taken = append(taken, locals)
	pick := func(base string) string {
		name := unique(base, taken...)
		locals[name] = true
		return name
	}
	return localNames{
		Ctx: pick("ctx"), Tx: pick("tx"), Q: pick("q"), Opts: pick("opts"), Input: pick("input"), H: pick("h"),
		Err: pick("err"), Result: pick("result"), Out: pick("out"), Args: pick("args"), ID: pick("id"),
		Calls: pick("calls"), Inputs: pick("inputs"), I: pick("i"), Call: pick("call"), Hs: pick("hs"), Handles: pick("handles"),
		FromStep: pick("fromStep"),
	}
}

// isNamed reports whether a parameter name can be referred to.
func isNamed(name string) bool {
	return name != "" && name != "_"
}

// universeNames returns the predeclared identifiers, which generated code
// must not shadow.
func universeNames() nameSet {
	s := nameSet{}
	for _, n := range types.Universe.Names() {
		s[n] = true
	}
	return s
}
