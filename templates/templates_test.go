package templates

import (
	"bytes"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"golang.org/x/mod/modfile"
)

// render renders the project for module and returns its files by path.
func render(t *testing.T, data Data) map[string][]byte {
	t.Helper()
	files, err := Render(data)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, f := range files {
		m[f.Path] = f.Content
	}
	return m
}

// TestRender checks the rendered project: every file is there, the Go
// files are gofmt-clean whatever the module path, and go.mod says what it
// must.
func TestRender(t *testing.T) {
	for _, data := range []Data{
		{Module: "example.com/hello"},
		{Module: "zz.org/team/app/v2", Version: "v1.2.3", GoVersion: "1.27"},
	} {
		files := render(t, data)
		for _, name := range []string{".gitignore", "README.md", "go.mod", "main.go", "tasks/dbos_gen.go", "tasks/tasks.go", "tasks/tasks_test.go"} {
			if _, ok := files[name]; !ok {
				t.Errorf("%s: no %s", data.Module, name)
			}
		}
		for name, content := range files {
			if !strings.HasSuffix(name, ".go") {
				continue
			}
			formatted, err := format.Source(content)
			if err != nil {
				t.Errorf("%s: %s: %v", data.Module, name, err)
			} else if !bytes.Equal(formatted, content) {
				t.Errorf("%s: %s is not gofmt-clean:\n%s", data.Module, name, content)
			}
		}

		mf, err := modfile.Parse("go.mod", files["go.mod"], nil)
		if err != nil {
			t.Fatalf("%s: go.mod: %v\n%s", data.Module, err, files["go.mod"])
		}
		wantVersion, wantGo := data.Version, data.GoVersion
		if wantVersion == "" {
			wantVersion = PlaceholderVersion
		}
		if wantGo == "" {
			wantGo = DefaultGoVersion
		}
		if mf.Module.Mod.Path != data.Module || mf.Go.Version != wantGo ||
			len(mf.Require) != 1 || mf.Require[0].Mod.Path != "github.com/dbosgen/dbosgen" || mf.Require[0].Mod.Version != wantVersion ||
			len(mf.Tool) != 1 || mf.Tool[0].Path != "github.com/dbosgen/dbosgen/cmd/dbosgen" {
			t.Errorf("%s: go.mod:\n%s", data.Module, files["go.mod"])
		}
		if got, want := bytes.Contains(files["go.mod"], []byte("replace github.com/dbosgen/dbosgen =>")), wantVersion == PlaceholderVersion; got != want {
			t.Errorf("%s: go.mod mentions a replace directive: %v, want %v:\n%s", data.Module, got, want, files["go.mod"])
		}
		if !bytes.Contains(files["main.go"], []byte(`"`+data.Module+`/tasks"`)) {
			t.Errorf("%s: main.go does not import the module's tasks package:\n%s", data.Module, files["main.go"])
		}
		if want := "\n/" + data.Name() + "\n"; !bytes.Contains(files[".gitignore"], []byte(want)) {
			t.Errorf("%s: .gitignore lacks %q:\n%s", data.Module, want, files[".gitignore"])
		}
	}
}

// TestName checks the program name of a module path.
func TestName(t *testing.T) {
	for module, want := range map[string]string{
		"example.com/hello":    "hello",
		"example.com/hello/v2": "hello",
		"gopkg.in/yaml.v3":     "yaml.v3",
		"example.com/a/b-c":    "b-c",
		"example.com/v1":       "v1",
		"example.com/app/v10":  "app",
	} {
		if got := (Data{Module: module}).Name(); got != want {
			t.Errorf("Name of %s = %q, want %q", module, got, want)
		}
	}
}

// TestRenderBadModule checks that an invalid module path is refused.
func TestRenderBadModule(t *testing.T) {
	for _, module := range []string{"", "hello", "example.com/a b"} {
		if _, err := Render(Data{Module: module}); err == nil {
			t.Errorf("Render with module %q succeeded", module)
		}
	}
}

// TestDefaultGoVersion checks that a new project's go line is the one of
// this repository's go.mod, the oldest Go dbosgen supports.
func TestDefaultGoVersion(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.ParseLax("go.mod", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if mf.Go.Version != DefaultGoVersion {
		t.Errorf("DefaultGoVersion is %s, but go.mod says go %s", DefaultGoVersion, mf.Go.Version)
	}
}

// TestFromGenerated checks that FromGenerated gives back a template that
// renders the generated file it came from, for the shipped dbos_gen.go and
// for text that has braces and the module path.
func TestFromGenerated(t *testing.T) {
	const module = "example.com/some-distinctive-name"
	shipped, err := os.ReadFile(filepath.Join("project", "tasks", "dbos_gen.go"+Suffix))
	if err != nil {
		t.Fatal(err)
	}
	generated := render(t, Data{Module: module})["tasks/dbos_gen.go"]
	if got := FromGenerated(generated, module); !bytes.Equal(got, shipped) {
		t.Errorf("FromGenerated of the rendered dbos_gen.go is not its template:\n%s", got)
	}

	src := "x := []T{{A: 1}} // {{.Module}} {{{ }}}\nname := \"" + module + "/tasks.F\"\n"
	tmpl, err := template.New("x").Parse(string(FromGenerated([]byte(src), module)))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, Data{Module: module}); err != nil {
		t.Fatal(err)
	}
	if b.String() != src {
		t.Errorf("round trip gave\n%s\nwant\n%s", b.String(), src)
	}
}

// TestWrite checks that Write writes every rendered file into a folder it
// creates.
func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	paths, err := Write(dir, Data{Module: "example.com/new"})
	if err != nil {
		t.Fatal(err)
	}
	files := render(t, Data{Module: "example.com/new"})
	if len(paths) != len(files) {
		t.Errorf("Write wrote %v, want %d files", paths, len(files))
	}
	for _, p := range paths {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, files[p]) {
			t.Errorf("%s differs from its rendering", p)
		}
	}
}
