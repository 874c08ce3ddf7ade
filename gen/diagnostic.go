package gen

import (
	"fmt"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
)

// Severity says whether a Diagnostic fails the run.
type Severity int

const (
	// SeverityError fails the run: nothing is written for the package.
	SeverityError Severity = iota + 1
	// SeverityWarning is reported but does not change the exit code.
	SeverityWarning
)

// Diagnostic is one problem found in the user's source, with the position
// it is about and a message saying how to fix it.
type Diagnostic struct {
	// Pos is where the problem is; a zero Line means the whole file.
	Pos token.Position
	// Severity says whether the problem fails the run.
	Severity Severity
	// Message says what is wrong and how to fix it.
	Message string
}

// Format renders d as "file:line:col: message", with warnings marked
// "warning: ". The file is made relative to base when it lies under it.
func (d Diagnostic) Format(base string) string {
	var b strings.Builder
	if d.Pos.Filename != "" {
		b.WriteString(relPath(base, d.Pos.Filename))
		if d.Pos.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", d.Pos.Line, d.Pos.Column)
		}
		b.WriteString(": ")
	}
	if d.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// relPath returns path relative to base when it lies under base, and path
// unchanged otherwise.
func relPath(base, path string) string {
	if base == "" || !filepath.IsAbs(path) {
		return path
	}
	rel, err := filepath.Rel(base, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return path
	}
	return rel
}

// diagnostics collects the problems of one run.
type diagnostics struct {
	list []Diagnostic
}

func (ds *diagnostics) errorf(pos token.Position, format string, args ...any) {
	ds.list = append(ds.list, Diagnostic{Pos: pos, Severity: SeverityError, Message: fmt.Sprintf(format, args...)})
}

func (ds *diagnostics) warnf(pos token.Position, format string, args ...any) {
	ds.list = append(ds.list, Diagnostic{Pos: pos, Severity: SeverityWarning, Message: fmt.Sprintf(format, args...)})
}

// hasErrors reports whether any collected diagnostic is an error.
func (ds *diagnostics) hasErrors() bool {
	return countErrors(ds.list) > 0
}

// countErrors counts the errors in list.
func countErrors(list []Diagnostic) int {
	n := 0
	for _, d := range list {
		if d.Severity == SeverityError {
			n++
		}
	}
	return n
}

// sortDiagnostics orders list by file, line and column, keeping the
// collection order of diagnostics at the same position.
func sortDiagnostics(list []Diagnostic) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i].Pos, list[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}
