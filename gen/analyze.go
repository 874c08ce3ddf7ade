package gen

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/packages"
)

// analyzePackage scans pkg for annotated functions, checks them, and builds
// the model emit needs. It returns nil when pkg has no annotated function
// or when any of them has an error.
func analyzePackage(pkg *packages.Package, ds *diagnostics) *pkgModel {
	a := analyzer{pkg: pkg, fset: pkg.Fset, ds: ds}
	var anns []annotated
	for _, file := range pkg.Syntax {
		anns = append(anns, scanFile(pkg.Fset, file, ds)...)
	}
	if len(anns) == 0 || pkg.Types == nil || pkg.TypesInfo == nil {
		return nil
	}
	m := &pkgModel{Path: pkg.PkgPath, Name: pkg.Name}
	for _, ann := range anns {
		if fn := a.function(ann); fn != nil {
			m.Funcs = append(m.Funcs, fn)
		}
	}
	a.checkNames(m.Funcs)
	if ds.hasErrors() {
		return nil
	}
	// Generated package-level names are taken by every function; import
	// names must also avoid the user's package-level names, which share
	// the file's scope.
	generatedNames := nameSet{}
	for _, fn := range m.Funcs {
		for _, n := range fn.Names.list() {
			generatedNames[n] = true
		}
	}
	pkgNames := nameSet{}
	for _, name := range pkg.Types.Scope().Names() {
		pkgNames[name] = true
	}
	m.Imports = chooseImports(pkg.Types, m.Funcs, universeNames(), pkgNames, generatedNames)
	outer := universeNames()
	for n := range generatedNames {
		outer[n] = true
	}
	for _, im := range m.Imports {
		outer[im.Name] = true
	}
	for _, fn := range m.Funcs {
		chooseBatchFields(fn)
		chooseLocals(fn, pkg.Types, outer)
		fn.Signature = signatureFingerprint(fn) // after the JSON keys are chosen
	}
	return m
}

// analyzer checks the annotated functions of one package.
type analyzer struct {
	pkg   *packages.Package
	fset  *token.FileSet
	ds    *diagnostics
	files map[string][]byte // the text of the package's files read so far, by name
}

// source returns the text of the file that declares fd.
func (a *analyzer) source(fd *ast.FuncDecl) ([]byte, error) {
	name := a.fset.File(fd.Pos()).Name()
	if src, ok := a.files[name]; ok {
		return src, nil
	}
	src, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if a.files == nil {
		a.files = map[string][]byte{}
	}
	a.files[name] = src
	return src, nil
}

// function checks one annotated function and returns its model, or nil
// when it has an error.
func (a *analyzer) function(ann annotated) *funcModel {
	fd := ann.Decl
	name := fd.Name.Name
	obj, _ := a.pkg.TypesInfo.Defs[fd.Name].(*types.Func)
	if obj == nil {
		a.ds.errorf(a.fset.Position(fd.Name.Pos()), "cannot type-check function %s; fix the errors the Go compiler reports for it", name)
		return nil
	}
	sig := obj.Type().(*types.Signature)
	fn := &funcModel{
		Name:    name,
		Kind:    ann.Dir.Spec.Kind,
		RegName: ann.Dir.Settings.Name,
		Policy:  ann.Dir.Settings.policy,
		Pos:     a.fset.Position(fd.Name.Pos()),
		Names:   namesFor(name),
	}
	if fn.RegName == "" {
		fn.RegName = a.pkg.PkgPath + "." + name
	}
	// Run every check, so that all problems are reported at once.
	okContext := a.checkContext(fd, sig)
	okParams := a.params(fn, fd, sig, okContext)
	okResults := a.results(fn, fd, sig)
	if !okContext || !okParams || !okResults {
		return nil
	}
	if fn.Policy.Schedule != "" && !a.checkScheduled(fn, fd) {
		return nil
	}
	if fn.Kind == kindWorkflow {
		src, err := a.source(fd)
		if err != nil {
			a.ds.errorf(fn.Pos, "cannot read the source of %s for its fingerprint: %v", name, err)
			return nil
		}
		fn.Source = sourceFingerprint(a.fset, fd, src)
	}
	return fn
}

// checkContext reports a function whose first parameter is not a
// context.Context.
func (a *analyzer) checkContext(fd *ast.FuncDecl, sig *types.Signature) bool {
	name := fd.Name.Name
	if sig.Params().Len() == 0 {
		a.ds.errorf(a.fset.Position(fd.Type.Params.Opening), "%s must take a context.Context as its first parameter: func %s(ctx context.Context, ...)", name, name)
		return false
	}
	t := sig.Params().At(0).Type()
	if isContext(t) {
		return true
	}
	first := fieldsOf(fd.Type.Params)[0].Type
	if hasInvalid(t) {
		a.ds.errorf(a.fset.Position(first.Pos()), "cannot resolve the type of the first parameter of %s%s; it must be context.Context (is \"context\" imported?)", name, a.typeError(first))
	} else {
		a.ds.errorf(a.fset.Position(first.Pos()), "%s must take a context.Context as its first parameter, not %s: func %s(ctx context.Context, ...)", name, a.typeString(t), name)
	}
	return false
}

// params checks the parameters after the context and adds them to fn.
// hasContext says whether the first parameter is the context.
func (a *analyzer) params(fn *funcModel, fd *ast.FuncDecl, sig *types.Signature, hasContext bool) bool {
	fields := fieldsOf(fd.Type.Params)
	ok := true
	for i := 1; i < sig.Params().Len(); i++ {
		v := sig.Params().At(i)
		label := paramLabel(v.Name(), i)
		pos := a.fset.Position(fields[i].Name)
		switch {
		case isContext(v.Type()):
			if hasContext {
				a.ds.errorf(pos, "%s takes another context.Context, parameter %s; take only one, as the first parameter", fn.Name, label)
			}
			ok = false
		case sig.Variadic() && i == sig.Params().Len()-1:
			elem := v.Type().(*types.Slice).Elem()
			a.ds.errorf(pos, "variadic parameter %s of %s is unsupported; take a slice ([]%s) instead", label, fn.Name, a.typeString(elem))
			ok = false
		case !a.checkType(v.Type(), fields[i], fmt.Sprintf("parameter %s of %s", label, fn.Name), paramRoot(v.Name(), i)):
			ok = false
		default:
			fn.Params = append(fn.Params, paramModel{Name: v.Name(), Named: isNamed(v.Name()), Type: v.Type()})
		}
	}
	return ok
}

// results checks that the function returns error last, after at most one
// value, and sets fn.Result.
func (a *analyzer) results(fn *funcModel, fd *ast.FuncDecl, sig *types.Signature) bool {
	fields := fieldsOf(fd.Type.Results)
	n := sig.Results().Len()
	switch {
	case n == 0:
		a.ds.errorf(a.fset.Position(fd.Type.Params.Closing+1), "%s must return error as its last result: (T, error) or error", fn.Name)
		return false
	case !isError(sig.Results().At(n - 1).Type()):
		last, t := fields[n-1].Type, sig.Results().At(n-1).Type()
		if hasInvalid(t) {
			a.ds.errorf(a.fset.Position(last.Pos()), "cannot resolve the last result type of %s%s; it must be error", fn.Name, a.typeError(last))
		} else {
			a.ds.errorf(a.fset.Position(last.Pos()), "%s must return error as its last result, not %s: (T, error) or error", fn.Name, a.typeString(t))
		}
		return false
	case n > 2:
		a.ds.errorf(a.fset.Position(fields[0].Type.Pos()), "%s returns %d values besides error; return one value (a struct for several) and an error", fn.Name, n-1)
		return false
	case n == 2:
		fn.Result = sig.Results().At(0).Type()
		return a.checkType(fn.Result, fields[0], "the result of "+fn.Name, "result")
	}
	return true
}

// checkType reports a parameter or result type that does not resolve or
// that encoding/json cannot encode (an error) or decode into (a warning).
func (a *analyzer) checkType(t types.Type, at field, what, root string) bool {
	if hasInvalid(t) {
		a.ds.errorf(a.fset.Position(at.Type.Pos()), "cannot resolve the type of %s%s; generated code needs it, so fix the type or its import", what, a.typeError(at.Type))
		return false
	}
	enc, dec := checkJSON(t, root, types.RelativeTo(a.pkg.Types))
	if enc != nil {
		if enc.Path == root {
			a.ds.errorf(a.fset.Position(at.Type.Pos()), "%s is %s, which encoding/json cannot encode; use a type JSON can encode", what, enc.What)
		} else {
			a.ds.errorf(a.fset.Position(at.Type.Pos()), "%s has type %s, which encoding/json cannot encode: %s is %s; use a type JSON can encode, give it a MarshalJSON method, or tag the field `json:\"-\"`",
				what, a.typeString(t), enc.Path, enc.What)
		}
		return false
	}
	switch {
	case dec == nil:
	case dec.Path == root:
		a.ds.warnf(a.fset.Position(at.Type.Pos()), "%s is %s, which encoding/json cannot decode into, so the stored value cannot be read back; use a concrete type",
			what, dec.What)
	default:
		a.ds.warnf(a.fset.Position(at.Type.Pos()), "%s has type %s: encoding/json cannot decode into %s, which is %s, so the stored value cannot be read back; use a concrete type or implement json.Unmarshaler",
			what, a.typeString(t), dec.Path, dec.What)
	}
	return true
}

// checkNames reports registered names used twice and generated names that
// collide with the user's declarations or with each other.
func (a *analyzer) checkNames(funcs []*funcModel) {
	regs := map[string]*funcModel{}
	gen := map[string]*funcModel{}
	for _, fn := range funcs {
		if prev, dup := regs[fn.RegName]; dup {
			a.ds.errorf(fn.Pos, "%s and %s (%s) are both registered as %q; give one of them a distinct name with name=", fn.Name, prev.Name, a.short(prev.Pos), fn.RegName)
		}
		regs[fn.RegName] = fn
		for _, n := range fn.Names.list() {
			if obj := a.pkg.Types.Scope().Lookup(n); obj != nil {
				a.ds.errorf(fn.Pos, "the name %s that dbosgen generates for %s is already declared at %s; rename one of them", n, fn.Name, a.short(a.fset.Position(obj.Pos())))
			}
			if prev, dup := gen[n]; dup {
				a.ds.errorf(fn.Pos, "the name %s that dbosgen generates for %s is also generated for %s; rename one of them", n, fn.Name, prev.Name)
			}
			gen[n] = fn
		}
	}
}

// short formats a position as file:line without the directory.
func (a *analyzer) short(p token.Position) string {
	return fmt.Sprintf("%s:%d", filepath.Base(p.Filename), p.Line)
}

// typeString formats t relative to the package being generated.
func (a *analyzer) typeString(t types.Type) string {
	return types.TypeString(t, types.RelativeTo(a.pkg.Types))
}

// typeError returns ": <message>" of the first type error inside expr, or
// "" when there is none.
func (a *analyzer) typeError(expr ast.Expr) string {
	for _, e := range a.pkg.TypeErrors {
		if e.Pos >= expr.Pos() && e.Pos < expr.End() {
			return ": " + e.Msg
		}
	}
	return ""
}

// field is one parameter or result as written: the position of its name
// (or of its type when unnamed) and its type expression.
type field struct {
	Name token.Pos
	Type ast.Expr
}

// fieldsOf flattens a parameter or result list to one field per value.
func fieldsOf(list *ast.FieldList) []field {
	if list == nil {
		return nil
	}
	var out []field
	for _, f := range list.List {
		if len(f.Names) == 0 {
			out = append(out, field{Name: f.Type.Pos(), Type: f.Type})
			continue
		}
		for _, n := range f.Names {
			out = append(out, field{Name: n.Pos(), Type: f.Type})
		}
	}
	return out
}

// paramLabel names parameter i (counting the context as 0) in messages.
func paramLabel(name string, i int) string {
	if name == "" || name == "_" {
		return fmt.Sprintf("#%d", i+1)
	}
	return name
}

// paramRoot names parameter i in paths such as "task.Done".
func paramRoot(name string, i int) string {
	if name == "" || name == "_" {
		return fmt.Sprintf("p%d", i-1)
	}
	return name
}

// checkScheduled reports a scheduled workflow that does not take exactly
// the tick's time after its context: the runtime calls it with nothing
// else.
func (a *analyzer) checkScheduled(fn *funcModel, fd *ast.FuncDecl) bool {
	if len(fn.Params) == 1 && isTime(fn.Params[0].Type) {
		return true
	}
	got := make([]string, len(fn.Params))
	for i, p := range fn.Params {
		got[i] = a.typeString(p.Type)
	}
	what := "nothing"
	if len(got) > 0 {
		what = strings.Join(got, ", ")
	}
	result := "error"
	if fn.Result != nil {
		result = "(" + a.typeString(fn.Result) + ", error)"
	}
	a.ds.errorf(a.fset.Position(fd.Type.Params.Opening),
		"%s has schedule=, so it must take the tick's time after its context, and nothing else: func %s(ctx context.Context, at time.Time) %s; it takes %s after its context",
		fn.Name, fn.Name, result, what)
	return false
}

// isTime reports whether t is time.Time.
func isTime(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" && n.Obj().Name() == "Time"
}

// isContext reports whether t is context.Context.
func isContext(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "context" && n.Obj().Name() == "Context"
}

// isError reports whether t is the predeclared error type.
func isError(t types.Type) bool {
	return types.Identical(t, types.Universe.Lookup("error").Type())
}
