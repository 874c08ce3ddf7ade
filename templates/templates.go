// Package templates holds the starter project that "dbosgen init" writes:
// a module with a queue, a step and a workflow in package tasks, their
// generated dbos_gen.go, a test, a main that runs the workflow, a README
// and a .gitignore.
//
// The project's files live under project/ as text/template sources named
// "<file>.tmpl", embedded in the dbosgen binary. The suffix keeps the go
// command from building, vetting or generating them as part of this
// repository; Write drops it. They are filled with a Data, so
// {{.Module}} is the new module's path. Text outside actions is copied as
// is, except "{{", which starts an action: a template that needs "{{"
// (as Go's composite literals may) writes it {{"{{"}}, or splits the
// braces over lines.
//
// # The generated file
//
// project/tasks/dbos_gen.go.tmpl is dbosgen's own output for
// project/tasks/tasks.go.tmpl, with the module path replaced by
// {{.Module}} (see FromGenerated), so that a new project builds at once,
// before its go.mod can resolve dbosgen to run the generator. The
// end-to-end test of cmd/dbosgen fails when that template is stale: it runs
// "go tool dbosgen -check ./..." in a freshly written project. After a
// change to the generator's output (or to tasks.go.tmpl), refresh it from
// the repository root with
//
//	go test ./cmd/dbosgen -run TestEndToEnd -update
//
// which writes a project, runs go generate in it, and copies every
// dbos_gen.go it produced back here through FromGenerated.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"

	"golang.org/x/mod/module"
)

// PlaceholderVersion is the version of dbosgen a project requires when the
// running dbosgen has no published version (it was built from a checkout).
// A replace directive pointing at a copy of dbosgen satisfies it.
const PlaceholderVersion = "v0.0.0-00010101000000-000000000000"

// DefaultGoVersion is the go line of a new project: the oldest Go version
// dbosgen itself supports (the go line of its own go.mod).
const DefaultGoVersion = "1.26.0"

// Suffix ends the name of every template file.
const Suffix = ".tmpl"

// root is the folder of project in the embedded files.
const root = "project"

//go:embed all:project
var files embed.FS

// Project returns the template files of the starter project, each named
// by its path in the project plus Suffix (for example
// "tasks/tasks.go.tmpl").
func Project() fs.FS {
	sub, err := fs.Sub(files, root)
	if err != nil {
		panic(err) // root is a constant folder that is embedded
	}
	return sub
}

// Data fills the templates.
type Data struct {
	// Module is the module path of the new project, such as
	// "example.com/hello". Required.
	Module string
	// GoVersion is the version on go.mod's go line. Defaults to
	// DefaultGoVersion.
	GoVersion string
	// Version is the version of github.com/dbosgen/dbosgen go.mod requires.
	// Defaults to PlaceholderVersion.
	Version string
}

// Name is the name go build gives the program: the last element of the
// module path, or the one before it when the last is a major version
// (v2, v3, ...), such as "hello" for example.com/hello/v2.
func (d Data) Name() string {
	elem := path.Base(d.Module)
	if isMajorVersion(elem) && path.Dir(d.Module) != "." {
		elem = path.Base(path.Dir(d.Module))
	}
	return elem
}

// isMajorVersion reports whether elem is a major version element, v2 or
// above, as the go command decides when naming programs.
func isMajorVersion(elem string) bool {
	if len(elem) < 2 || elem[0] != 'v' || elem[1] == '0' || elem == "v1" {
		return false
	}
	for _, c := range elem[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Placeholder reports whether Version is PlaceholderVersion, which only a
// replace directive satisfies.
func (d Data) Placeholder() bool { return d.Version == PlaceholderVersion }

// withDefaults returns d with its defaults filled in, or an error when its
// module path is not valid.
func (d Data) withDefaults() (Data, error) {
	if err := module.CheckPath(d.Module); err != nil {
		return d, err
	}
	if d.GoVersion == "" {
		d.GoVersion = DefaultGoVersion
	}
	if d.Version == "" {
		d.Version = PlaceholderVersion
	}
	return d, nil
}

// File is one rendered file of the project.
type File struct {
	// Path is the file's slash-separated path in the project, such as
	// "tasks/tasks.go".
	Path string
	// Content is the rendered file.
	Content []byte
}

// Render fills every template with data and returns the project's files,
// sorted by path.
func Render(data Data) ([]File, error) {
	data, err := data.withDefaults()
	if err != nil {
		return nil, err
	}
	var out []File
	err = fs.WalkDir(Project(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !strings.HasSuffix(name, Suffix) {
			return fmt.Errorf("template %s: name does not end in %s", name, Suffix)
		}
		src, err := fs.ReadFile(Project(), name)
		if err != nil {
			return err
		}
		t, err := template.New(name).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return err
		}
		out = append(out, File{Path: strings.TrimSuffix(name, Suffix), Content: b.Bytes()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("render the starter project: %w", err)
	}
	return out, nil
}

// Write renders the project with data and writes its files into dir,
// creating dir and its subfolders as needed and replacing files of the
// same names. It returns the files' slash-separated paths in dir.
// Checking that dir is new or empty is the caller's business.
func Write(dir string, data Data) ([]string, error) {
	rendered, err := Render(data)
	if err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(rendered))
	for _, f := range rendered {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			return paths, err
		}
		if err := os.WriteFile(p, f.Content, 0o666); err != nil {
			return paths, err
		}
		paths = append(paths, f.Path)
	}
	return paths, nil
}

// FromGenerated turns src, a file dbosgen generated in a project whose
// module path is modulePath, back into a template: it escapes every "{{"
// and replaces every occurrence of modulePath with {{.Module}}. Rendering
// the result with Data{Module: modulePath} gives src back.
//
// modulePath should be distinctive (as the end-to-end test's is), since
// every occurrence of it is replaced.
func FromGenerated(src []byte, modulePath string) []byte {
	r := strings.NewReplacer("{{", `{{"{{"}}`, modulePath, "{{.Module}}")
	return []byte(r.Replace(string(src)))
}
