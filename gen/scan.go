package gen

import (
	"fmt"
	"go/ast"
	"go/token"
	"regexp"
	"strings"
)

// directive is a parsed //dbos: directive.
type directive struct {
	Spec     directiveSpec
	Settings settings
	// Slash is the position of the directive's "//".
	Slash token.Pos
}

// annotated is a function declaration with its directive.
type annotated struct {
	Decl *ast.FuncDecl
	Dir  directive
}

// scanFile finds the //dbos: directives of file, reports the ones that are
// misplaced or malformed, and returns the annotated functions in source
// order. A function with several directives keeps its first one.
func scanFile(fset *token.FileSet, file *ast.File, ds *diagnostics) []annotated {
	owners := docOwners(file)
	perFunc := map[*ast.FuncDecl][]directive{}

	for _, cg := range file.Comments {
		for _, c := range cg.List {
			if !strings.HasPrefix(c.Text, "//") {
				continue
			}
			d, ok := ast.ParseDirective(c.Slash, c.Text)
			if !ok || d.Tool != directiveTool {
				checkNearMiss(fset, c, ds)
				continue
			}
			pos := fset.Position(c.Slash)
			spec, known := lookupDirective(d.Name)
			if !known {
				msg := fmt.Sprintf("unknown directive //dbos:%s", d.Name)
				if s := suggest(d.Name, directiveNames()); s != "" {
					msg += fmt.Sprintf("; did you mean //dbos:%s?", s)
				} else {
					msg += fmt.Sprintf("; the known directives are %s", knownDirectivesText())
				}
				ds.errorf(pos, "%s", msg)
				continue
			}
			st := parseSettings(spec, d.Args, func(offset int, msg string) {
				ds.errorf(offsetPos(fset, d.ArgsPos, offset), "%s", msg)
			})
			dir := directive{Spec: spec, Settings: st, Slash: c.Slash}
			owner := owners.find(cg, c.Slash)
			switch {
			case owner.fn != nil && owner.doc:
				perFunc[owner.fn] = append(perFunc[owner.fn], dir)
			case owner.fn != nil:
				ds.errorf(pos, "//dbos:%s is inside the body of %s, where it applies to nothing; move it to the doc comment directly above \"func %s\"",
					spec.Name, owner.fn.Name.Name, owner.fn.Name.Name)
			case owner.decl != "" && owner.doc:
				ds.errorf(pos, "//dbos:%s on %s is unsupported: only package-level functions can be steps or workflows; move it to the doc comment of a func declaration",
					spec.Name, owner.decl)
			case owner.decl != "":
				ds.errorf(pos, "//dbos:%s inside %s applies to nothing: only package-level functions can be steps or workflows; move it to the doc comment of a func declaration",
					spec.Name, owner.decl)
			default:
				ds.errorf(pos, "//dbos:%s is not attached to a function; put it in the doc comment directly above \"func\", with no blank line in between",
					spec.Name)
			}
		}
	}

	var out []annotated
	for _, decl := range file.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		if !ok || len(perFunc[fd]) == 0 {
			continue
		}
		dirs := perFunc[fd]
		first := dirs[0]
		for _, dup := range dirs[1:] {
			ds.errorf(fset.Position(dup.Slash), "duplicate directive: %s already has //dbos:%s at line %d; keep exactly one //dbos:step or //dbos:workflow",
				fd.Name.Name, first.Spec.Name, fset.Position(first.Slash).Line)
		}
		if !checkDeclShape(fset, fd, first, ds) {
			continue
		}
		out = append(out, annotated{Decl: fd, Dir: first})
	}
	return out
}

// checkDeclShape reports annotated declarations that cannot be steps or
// workflows whatever their signature: methods, generic functions, and
// functions that cannot be referred to.
func checkDeclShape(fset *token.FileSet, fd *ast.FuncDecl, d directive, ds *diagnostics) bool {
	pos := fset.Position(d.Slash)
	name := fd.Name.Name
	switch {
	case fd.Recv != nil:
		ds.errorf(pos, "//dbos:%s on method %s.%s is unsupported: only package-level functions can be steps or workflows; make it a function that takes the receiver as a parameter",
			d.Spec.Name, recvTypeName(fd.Recv), name)
	case fd.Type.TypeParams != nil && len(fd.Type.TypeParams.List) > 0:
		ds.errorf(pos, "//dbos:%s on generic function %s is unsupported: generated code needs concrete types; write a non-generic function for each type you need",
			d.Spec.Name, name)
	case name == "_" || name == "init":
		ds.errorf(pos, "//dbos:%s on function %s is unsupported: it cannot be referred to; give the function another name", d.Spec.Name, name)
	default:
		return true
	}
	return false
}

// recvTypeName returns the receiver's type name, without pointer or type
// parameters.
func recvTypeName(recv *ast.FieldList) string {
	if len(recv.List) == 0 {
		return "?"
	}
	t := recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.ParenExpr:
			t = x.X
		case *ast.Ident:
			return x.Name
		default:
			return "?"
		}
	}
}

// owner is what a comment belongs to.
type owner struct {
	// fn is the function whose doc comment (doc) or body holds the comment.
	fn *ast.FuncDecl
	// decl describes a non-function declaration whose doc comment (doc) or
	// body holds the comment, e.g. "a var declaration".
	decl string
	// doc says whether the comment is the declaration's doc comment.
	doc bool
}

// owners maps comments to the declarations they belong to.
type owners struct {
	docs  map[*ast.CommentGroup]owner
	spans []span
}

// span is the extent of a declaration.
type span struct {
	from, to token.Pos
	owner    owner
}

// docOwners indexes the doc comments and extents of file's declarations.
func docOwners(file *ast.File) owners {
	o := owners{docs: map[*ast.CommentGroup]owner{}}
	for _, decl := range file.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Doc != nil {
				o.docs[d.Doc] = owner{fn: d, doc: true}
			}
			o.spans = append(o.spans, span{from: d.Type.Pos(), to: d.End(), owner: owner{fn: d}})
		case *ast.GenDecl:
			what := "a " + d.Tok.String() + " declaration"
			if d.Doc != nil {
				o.docs[d.Doc] = owner{decl: what, doc: true}
			}
			for _, s := range d.Specs {
				for _, cg := range specComments(s) {
					o.docs[cg] = owner{decl: what, doc: true}
				}
			}
			o.spans = append(o.spans, span{from: d.Pos(), to: d.End(), owner: owner{decl: what}})
		}
	}
	return o
}

// specComments returns the doc and line comments of a spec.
func specComments(s ast.Spec) []*ast.CommentGroup {
	var cgs []*ast.CommentGroup
	switch s := s.(type) {
	case *ast.ValueSpec:
		cgs = append(cgs, s.Doc, s.Comment)
	case *ast.TypeSpec:
		cgs = append(cgs, s.Doc, s.Comment)
	case *ast.ImportSpec:
		cgs = append(cgs, s.Doc, s.Comment)
	}
	out := cgs[:0]
	for _, cg := range cgs {
		if cg != nil {
			out = append(out, cg)
		}
	}
	return out
}

// find returns the owner of the comment at pos in group cg.
func (o owners) find(cg *ast.CommentGroup, pos token.Pos) owner {
	if w, ok := o.docs[cg]; ok {
		return w
	}
	for _, s := range o.spans {
		if s.from <= pos && pos < s.to {
			return s.owner
		}
	}
	return owner{}
}

// nearMiss matches comments that look like a //dbos: directive but are not
// one: a space after "//" or around ":", or upper-case letters. What follows
// the name must be empty or start like key=value arguments, so prose that
// happens to mention dbos:step is left alone.
var nearMiss = regexp.MustCompile(`^//\s*(?i:dbos)\s*:\s*([A-Za-z][A-Za-z0-9_-]*)((?:\s+\w+=.*)?)\s*$`)

// checkNearMiss warns about a comment that looks like a misspelled
// directive, giving the exact text to write instead.
func checkNearMiss(fset *token.FileSet, c *ast.Comment, ds *diagnostics) {
	m := nearMiss.FindStringSubmatch(c.Text)
	if m == nil {
		return
	}
	name := strings.ToLower(m[1])
	if _, ok := lookupDirective(name); !ok {
		s := suggest(name, directiveNames())
		if s == "" {
			return
		}
		name = s
	}
	fix := "//dbos:" + name
	if args := strings.TrimSpace(m[2]); args != "" {
		fix += " " + args
	}
	ds.warnf(fset.Position(c.Slash), "%q is an ordinary comment, not a directive; write %q (no spaces, lower case) to make it one", c.Text, fix)
}
