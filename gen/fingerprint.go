package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/ast"
	"go/scanner"
	"go/token"
	"go/types"
	"reflect"
	"strconv"
	"strings"
)

// The fingerprints the generator writes into each dbosimpl.Function
// (Signature, Source), from which the runtime derives the application
// version. Both are 16 hex digits of a SHA-256, and neither depends on the
// module's path, so that a project's generated file stays the same when
// its module is renamed (the starter template relies on it).

// signatureFingerprint is the fingerprint of what a call's stored input
// and output depend on: the function's kind, each parameter's JSON key and
// type, and its result type. Types are spelled out as encoding/json sees
// them (see shapeWriter), so that changing a field of a parameter's struct
// changes the fingerprint, and renaming the type does not.
func signatureFingerprint(fn *funcModel) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dbosgen signature 1\n%s\n", fn.Kind)
	w := shapeWriter{b: &b, seen: map[*types.Named]int{}}
	for _, p := range fn.Params {
		fmt.Fprintf(&b, "param %s ", strconv.Quote(p.JSON))
		w.write(p.Type)
		b.WriteByte('\n')
	}
	b.WriteString("result ")
	if fn.Result == nil {
		b.WriteString("none")
	} else {
		w.write(fn.Result)
	}
	b.WriteByte('\n')
	return hash16(b.String())
}

// sourceFingerprint is the fingerprint of a workflow's declaration: its
// tokens in src (the text of the file that declares it), without comments,
// so that reformatting the file or editing a comment leaves it alone and
// changing the code changes it.
func sourceFingerprint(fset *token.FileSet, fd *ast.FuncDecl, src []byte) string {
	tf := fset.File(fd.Pos())
	start, end := tf.Offset(fd.Type.Pos()), tf.Offset(fd.End()) // from "func", past the doc comment
	var sc scanner.Scanner
	sc.Init(token.NewFileSet().AddFile("", -1, end-start), src[start:end], nil, 0) // mode 0: no comments
	var b strings.Builder
	b.WriteString("dbosgen source 1\n")
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.SEMICOLON {
			lit = "" // the same whether written or implied by a line break
		}
		fmt.Fprintf(&b, "%s %s\n", tok, lit)
	}
	return hash16(b.String())
}

// hash16 returns 16 hex digits of the SHA-256 of s.
func hash16(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:16]
}

// shapeWriter writes a type as encoding/json encodes it: basic kinds,
// containers and structs (their encoded fields: exported or embedded, with
// their json tags) spelled out; named types by their structure, except
// those that encode or decode themselves (MarshalJSON, UnmarshalText...),
// written by package name and type name; a named type met again inside
// itself as a back reference, so that recursive types end.
type shapeWriter struct {
	b    *strings.Builder
	seen map[*types.Named]int // named types being or already written, numbered
}

func (w *shapeWriter) write(t types.Type) {
	t = types.Unalias(t)
	switch u := t.(type) {
	case *types.Named:
		if n, ok := w.seen[u]; ok {
			fmt.Fprintf(w.b, "#%d", n)
			return
		}
		if encodesItself(u) || decodesItself(u) {
			w.b.WriteString("custom ")
			w.b.WriteString(types.TypeString(u, func(p *types.Package) string { return p.Name() }))
			return
		}
		w.seen[u] = len(w.seen)
		w.write(u.Underlying())
	case *types.Basic:
		w.b.WriteString(types.Typ[u.Kind()].Name()) // byte is uint8, rune int32
	case *types.Pointer:
		w.b.WriteByte('*')
		w.write(u.Elem())
	case *types.Slice:
		w.b.WriteString("[]")
		w.write(u.Elem())
	case *types.Array:
		fmt.Fprintf(w.b, "[%d]", u.Len())
		w.write(u.Elem())
	case *types.Map:
		w.b.WriteString("map[")
		w.write(u.Key())
		w.b.WriteByte(']')
		w.write(u.Elem())
	case *types.Struct:
		w.b.WriteString("struct{")
		for i := range u.NumFields() {
			if !encodedField(u, i) {
				continue // encoding/json neither writes nor reads it
			}
			f := u.Field(i)
			if f.Embedded() {
				w.b.WriteString("embed ")
			}
			fmt.Fprintf(w.b, "%s %s ", f.Name(), strconv.Quote(reflect.StructTag(u.Tag(i)).Get("json")))
			w.write(f.Type())
			w.b.WriteString("; ")
		}
		w.b.WriteByte('}')
	case *types.Interface:
		w.b.WriteString("interface") // its dynamic value is encoded
	default:
		// Types encoding/json cannot encode are reported elsewhere.
		w.b.WriteString(types.TypeString(t, func(p *types.Package) string { return p.Name() }))
	}
}
