package gen

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"
)

// fingerprinted type-checks src as package path and returns the
// fingerprints of its function F as the generator computes them: F's one
// parameter after the context is keyed "in".
func fingerprinted(t *testing.T, path, src string) (signature, source string) {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "f.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := (&types.Config{Importer: importer.Default()}).Check(path, fset, []*ast.File{file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var decl *ast.FuncDecl
	for _, d := range file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "F" {
			decl = fd
		}
	}
	sig := pkg.Scope().Lookup("F").Type().(*types.Signature)
	fn := &funcModel{Kind: kindWorkflow, Params: []paramModel{{JSON: "in", Type: sig.Params().At(1).Type()}}}
	if sig.Results().Len() == 2 {
		fn.Result = sig.Results().At(0).Type()
	}
	return signatureFingerprint(fn), sourceFingerprint(fset, decl, []byte(src))
}

const fingerprintBase = `package p

import "context"

type Task struct {
	ID   int    ` + "`json:\"id\"`" + `
	Name string
	note string
	Next *Task
	At   Stamp
}

// Stamp encodes itself: a signature names it by package and type.
type Stamp int

func (Stamp) MarshalText() ([]byte, error) { return nil, nil }

// F does it.
func F(ctx context.Context, in Task) (int, error) {
	return in.ID, nil
}
`

// TestFingerprints: a function's signature fingerprint follows what its
// encoded input and output depend on (encoded fields, their JSON names and
// types), not type names, unexported fields or the module's path; its
// source fingerprint follows its code, not comments or formatting.
func TestFingerprints(t *testing.T) {
	baseSig, baseSrc := fingerprinted(t, "example.com/a/p", fingerprintBase)
	if len(baseSig) != 16 || len(baseSrc) != 16 {
		t.Fatalf("fingerprints %q, %q: want 16 hex digits each", baseSig, baseSrc)
	}
	for _, c := range []struct {
		name             string
		path, src        string
		sameSig, sameSrc bool
	}{
		{"another module path", "example.org/b/p", fingerprintBase, true, true},
		{"the type renamed", "", replace(fingerprintBase, "Task", "Job"), true, false},
		{"an unexported field added", "", replace(fingerprintBase, "note string", "note string\n\tmore int"), true, true},
		{"a field json:\"-\" added", "", replace(fingerprintBase, "note string", "note string\n\tSkip int `json:\"-\"`"), true, true},
		{"comments and formatting", "", replace(fingerprintBase, "// F does it.\nfunc F(ctx context.Context, in Task) (int, error) {\n\treturn in.ID, nil",
			"// F does it well.\nfunc F(ctx context.Context,\n\tin Task) (int, error) {\n\t/* the ID */ return in.ID,   nil; // the ID"), true, true},
		{"a field added", "", replace(fingerprintBase, "Name string", "Name string\n\tMore int"), false, true},
		{"a field's JSON name", "", replace(fingerprintBase, `json:"id"`, `json:"task_id"`), false, true},
		{"a field's type", "", replace(fingerprintBase, "Name string", "Name []string"), false, true},
		{"the result's type", "", replace(fingerprintBase, "(int, error) {\n\treturn in.ID, nil", "(int64, error) {\n\treturn int64(in.ID), nil"), false, false},
		{"the body", "", replace(fingerprintBase, "return in.ID, nil", "return in.ID + 1, nil"), true, false},
	} {
		path := c.path
		if path == "" {
			path = "example.com/a/p"
		}
		sig, src := fingerprinted(t, path, c.src)
		if (sig == baseSig) != c.sameSig {
			t.Errorf("%s: signature %s, base %s; same = %v, want %v", c.name, sig, baseSig, sig == baseSig, c.sameSig)
		}
		if (src == baseSrc) != c.sameSrc {
			t.Errorf("%s: source %s, base %s; same = %v, want %v", c.name, src, baseSrc, src == baseSrc, c.sameSrc)
		}
	}
}

// replace replaces every old in s with new, and panics when old is not in
// s: an unchanged case would pass for the wrong reason.
func replace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("replace: " + old + " not found")
	}
	return strings.ReplaceAll(s, old, new)
}
