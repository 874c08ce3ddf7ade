package gen

import (
	"context"
	"errors"
	"fmt"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/tools/go/packages"
)

// Options configures Run.
type Options struct {
	// Dir is the directory packages are loaded from and diagnostics are
	// reported relative to. Defaults to the current directory.
	Dir string
	// Patterns are the packages to generate for, in the go command's
	// syntax. Defaults to ".".
	Patterns []string
	// Check reports generated files that are out of date, missing or stale
	// instead of writing or removing them.
	Check bool
	// Stderr receives diagnostics and drift reports. Defaults to os.Stderr.
	Stderr io.Writer
}

// ErrDiagnostics is returned (wrapped) by Run when it reported errors in the
// user's code. Nothing is written for a package that has errors.
var ErrDiagnostics = errors.New("errors in annotated code")

// ErrDrift is returned (wrapped) by Run with Options.Check when a generated
// file is out of date, missing, or stale.
var ErrDrift = errors.New("generated files are out of date")

// Run generates dbos_gen.go for every package matching opts.Patterns: it
// writes the file beside each package that has annotated functions and
// removes one dbosgen wrote earlier from a package that has none left.
// Diagnostics are written to opts.Stderr as file:line:col: message.
//
// Run returns an error wrapping ErrDiagnostics when any diagnostic is an
// error, one wrapping ErrDrift when opts.Check found a file to change, and
// other errors when the packages cannot be loaded or files cannot be
// written.
func Run(ctx context.Context, opts Options) error {
	dir := opts.Dir
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("find the current directory: %w", err)
		}
		dir = wd
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", opts.Dir, err)
	}
	patterns := opts.Patterns
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	stderr := opts.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}

	pkgs, err := load(ctx, dir, patterns)
	if err != nil {
		return err
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].PkgPath < pkgs[j].PkgPath })

	var diags []Diagnostic
	var drift []string
	for _, pkg := range pkgs {
		g := generatePackage(pkg)
		diags = append(diags, g.Diags...)
		if countErrors(g.Diags) > 0 || g.Dir == "" {
			continue
		}
		path := filepath.Join(g.Dir, genFileName)
		action, err := syncFile(path, g.Src, opts.Check)
		if err != nil {
			return err
		}
		switch action {
		case actionForeign:
			diags = append(diags, Diagnostic{Pos: token.Position{Filename: path}, Severity: SeverityError,
				Message: "this file was not written by dbosgen, which writes its output here; rename or remove it"})
		case actionWrite:
			if opts.Check {
				drift = append(drift, relPath(dir, path)+": out of date; run go generate")
			}
		case actionRemove:
			if opts.Check {
				drift = append(drift, relPath(dir, path)+": stale, its package has no //dbos:step or //dbos:workflow functions left; run go generate to remove it")
			}
		}
	}

	sortDiagnostics(diags)
	for _, d := range diags {
		fmt.Fprintln(stderr, d.Format(dir))
	}
	for _, d := range drift {
		fmt.Fprintln(stderr, d)
	}
	if n := countErrors(diags); n > 0 {
		return fmt.Errorf("%w: %d error(s); nothing was written for the packages that have them", ErrDiagnostics, n)
	}
	if len(drift) > 0 {
		return fmt.Errorf("%w (%d); run go generate to update them", ErrDrift, len(drift))
	}
	return nil
}

// generated is the outcome of generating one package.
type generated struct {
	// Dir is the package's directory; "" when it has none.
	Dir string
	// Src is the generated file; nil when the package has no annotated
	// function.
	Src []byte
	// Diags are the package's diagnostics.
	Diags []Diagnostic
}

// generatePackage runs scan, analyze and emit on one loaded package.
func generatePackage(pkg *packages.Package) generated {
	g := generated{Dir: packageDir(pkg)}
	if blocking := blockingErrors(pkg); len(blocking) > 0 {
		g.Diags = blocking
		return g
	}
	ds := &diagnostics{}
	m := analyzePackage(pkg, ds)
	g.Diags = ds.list
	if m == nil || ds.hasErrors() {
		return g
	}
	src, err := emit(m)
	if err != nil {
		g.Diags = append(g.Diags, Diagnostic{Pos: m.Funcs[0].Pos, Severity: SeverityError,
			Message: fmt.Sprintf("internal error, please report it: %v", err)})
		return g
	}
	g.Src = src
	return g
}

// packageDir returns the directory holding pkg's sources.
func packageDir(pkg *packages.Package) string {
	if pkg.Dir != "" {
		return pkg.Dir
	}
	for _, files := range [][]string{pkg.GoFiles, pkg.CompiledGoFiles, pkg.IgnoredFiles, pkg.OtherFiles} {
		if len(files) > 0 {
			return filepath.Dir(files[0])
		}
	}
	return ""
}
