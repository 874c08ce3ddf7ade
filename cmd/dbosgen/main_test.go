package main

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/dbosgen/dbosgen/templates"
)

// update makes TestEndToEnd refresh the generated files of the starter
// project's templates (templates/project/.../dbos_gen.go.tmpl) from the
// generator's output instead of failing when they are stale:
//
//	go test ./cmd/dbosgen -run TestEndToEnd -update
var update = flag.Bool("update", false, "TestEndToEnd: refresh the generated files in templates/project from the generator's output")

// runAsMainEnv makes the test binary run as the dbosgen command, the way
// stringer's tests re-execute themselves.
const runAsMainEnv = "DBOSGEN_TEST_RUN_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// dbosgen runs the test binary as the dbosgen command in dir and returns
// its exit code and combined output.
func dbosgen(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), runAsMainEnv+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	default:
		t.Fatalf("run dbosgen %s: %v", strings.Join(args, " "), err)
		return 0, ""
	}
}

// writeModule writes a standard-library-only module example.com/m with the
// given files into a temporary directory and returns it.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module example.com/m\n\ngo 1.26\n"
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	return dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
}

const appSource = `package app

import "context"

//go:generate go tool dbosgen

// Greet greets.
//
//dbos:step
func Greet(ctx context.Context, name string) (string, error) { return "hello " + name, nil }
`

// TestUsageExitCode checks that bad flags, and flags after the packages,
// exit 2 with the usage.
func TestUsageExitCode(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {".", "-check"}} {
		code, out := dbosgen(t, t.TempDir(), args...)
		if code != 2 || !strings.Contains(out, "usage: dbosgen [-check] [packages]") {
			t.Errorf("dbosgen %s: exit %d, output %q; want 2 and the usage", strings.Join(args, " "), code, out)
		}
	}
}

// TestCheckExitCodes checks -check: 1 while the generated file is missing
// or stale, 0 when it is fresh; and exit 1 for errors in annotated code.
func TestCheckExitCodes(t *testing.T) {
	dir := writeModule(t, map[string]string{"app/app.go": appSource})
	app := filepath.Join(dir, "app")

	if code, out := dbosgen(t, app, "-check"); code != 1 || !strings.Contains(out, "dbos_gen.go: out of date") {
		t.Fatalf("-check before generating: exit %d, output %q; want 1 and a drift report", code, out)
	}
	if code, out := dbosgen(t, app); code != 0 || out != "" {
		t.Fatalf("generate: exit %d, output %q; want 0 and no output", code, out)
	}
	if code, out := dbosgen(t, app, "-check"); code != 0 {
		t.Fatalf("-check of a fresh file: exit %d, output %q; want 0", code, out)
	}
	if code, out := dbosgen(t, dir, "-check", "./..."); code != 0 {
		t.Fatalf("-check ./... of a fresh file: exit %d, output %q; want 0", code, out)
	}

	writeFile(t, filepath.Join(app, "app.go"), strings.Replace(appSource, "name string", "name, greeting string", 1))
	if code, out := dbosgen(t, app, "-check"); code != 1 || !strings.Contains(out, "dbos_gen.go: out of date") {
		t.Fatalf("-check of a stale file: exit %d, output %q; want 1 and a drift report", code, out)
	}

	writeFile(t, filepath.Join(app, "app.go"), strings.Replace(appSource, "//dbos:step", "//dbos:stpe", 1))
	code, out := dbosgen(t, app)
	if code != 1 || !strings.Contains(out, "app.go:9:1: unknown directive //dbos:stpe; did you mean //dbos:step?") {
		t.Fatalf("bad directive: exit %d, output %q; want 1 and the diagnostic", code, out)
	}
}

// TestWarningExitCode checks that warnings alone do not fail the run.
func TestWarningExitCode(t *testing.T) {
	src := appSource + "\n// dbos:workflow\nfunc Other(ctx context.Context) error { return nil }\n"
	dir := writeModule(t, map[string]string{"app/app.go": src})
	code, out := dbosgen(t, filepath.Join(dir, "app"))
	if code != 0 || !strings.Contains(out, `warning: "// dbos:workflow" is an ordinary comment`) {
		t.Fatalf("exit %d, output %q; want 0 and the warning", code, out)
	}
}

// repoRoot returns the root of this repository.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at the repository root %s: %v", root, err)
	}
	return root
}

// copyDir copies the files under src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		writeFile(t, filepath.Join(dst, rel), string(b))
		return nil
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// goCommand runs the go command in dir and fails the test when it fails.
func goCommand(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := goCommandEnv(t, dir, nil, args...)
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return out
}

// goCommandEnv runs the go command in dir with env added to the
// environment and returns its combined output and error.
func goCommandEnv(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOWORK=off")
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestEndToEnd builds and runs user-like modules pointed at this
// repository: testdata/e2e, and the starter project dbosgen init writes.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs modules with go generate; skipped in -short mode")
	}
	t.Run("testdata", testEndToEndTestdata)
	t.Run("init", testEndToEndInit)
}

// testEndToEndTestdata copies the user-like module testdata/e2e to a
// temporary directory, points it at this repository, runs go generate
// (which runs "go tool dbosgen"), builds the program and runs it against
// SQLite.
func testEndToEndTestdata(t *testing.T) {
	root := repoRoot(t)
	tmp := t.TempDir()
	mod := filepath.Join(tmp, "e2e")
	copyDir(t, filepath.Join(root, "testdata", "e2e"), mod)
	gomod, err := os.ReadFile(filepath.Join(mod, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mod, "go.mod"), string(gomod)+"\nreplace github.com/dbosgen/dbosgen => "+root+"\n")

	goCommand(t, mod, "mod", "tidy")
	goCommand(t, mod, "generate", "./...")
	gen, err := os.ReadFile(filepath.Join(mod, "tasks", "dbos_gen.go"))
	if err != nil {
		t.Fatalf("go generate wrote no tasks/dbos_gen.go: %v", err)
	}
	if !strings.HasPrefix(string(gen), "// Code generated by dbosgen. DO NOT EDIT.") {
		t.Fatalf("tasks/dbos_gen.go lacks the generated header:\n%s", gen)
	}
	goCommand(t, mod, "tool", "dbosgen", "-check", "./...")
	goCommand(t, mod, "vet", "./...")
	prog := filepath.Join(tmp, "e2e-prog")
	goCommand(t, mod, "build", "-o", prog, ".")

	cmd := exec.CommandContext(t.Context(), prog, filepath.Join(tmp, "e2e.sqlite"))
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run the generated program: %v\n%s", err, out)
	}
	want := "1 ALPHA\n2 BETA\n3 GAMMA\ne2e-batch e2e.ProcessTasks SUCCESS\ncheck failed: empty batch\nbatch 4 DELTA\nbatch 5 EPSILON\n"
	if string(out) != want {
		t.Fatalf("program output:\n%s\nwant:\n%s", out, want)
	}
}

// starterModule is the module path TestEndToEnd gives the starter project.
// It is distinctive, since -update replaces every occurrence of it in the
// generated files with {{.Module}}.
const starterModule = "example.com/dbosgen-starter-e2e"

// testEndToEndInit runs dbosgen init into a temporary directory, points the
// new module at this repository, and runs the commands its README gives:
// go mod tidy, go generate, go test and go run; and go vet. Before go
// generate, "go tool dbosgen -check ./..." must find the dbos_gen.go that
// init wrote fresh. With -update it instead copies the generator's output
// back into templates/project.
func testEndToEndInit(t *testing.T) {
	root := repoRoot(t)
	tmp := t.TempDir()
	proj := filepath.Join(tmp, "starter")
	if code, out := dbosgen(t, tmp, "init", "-module", starterModule, proj); code != 0 {
		t.Fatalf("dbosgen init: exit %d, output:\n%s", code, out)
	}
	gomod, err := os.ReadFile(filepath.Join(proj, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"module " + starterModule + "\n",
		"\ntool github.com/dbosgen/dbosgen/cmd/dbosgen\n",
		"\nrequire github.com/dbosgen/dbosgen " + templates.PlaceholderVersion + "\n",
	} {
		if !strings.Contains(string(gomod), want) {
			t.Fatalf("go.mod lacks %q:\n%s", want, gomod)
		}
	}
	written := generatedFiles(t, proj)
	if len(written) == 0 {
		t.Fatal("dbosgen init wrote no dbos_gen.go")
	}
	writeFile(t, filepath.Join(proj, "go.mod"), string(gomod)+"\nreplace github.com/dbosgen/dbosgen => "+root+"\n")

	goCommand(t, proj, "mod", "tidy")
	if *update {
		refreshTemplates(t, root, proj, written) // runs go generate
		goCommand(t, proj, "tool", "dbosgen", "-check", "./...")
	} else {
		if out, err := goCommandEnv(t, proj, nil, "tool", "dbosgen", "-check", "./..."); err != nil {
			t.Fatalf("the dbos_gen.go dbosgen init wrote is not what the generator writes (%v):\n%s\n"+
				"Refresh templates/project with: go test ./cmd/dbosgen -run TestEndToEnd -update", err, out)
		}
		goCommand(t, proj, "generate", "./...")
		for rel, want := range written {
			got, err := os.ReadFile(filepath.Join(proj, rel))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("go generate changed %s, which dbosgen -check found fresh", rel)
			}
		}
	}
	goCommand(t, proj, "vet", "./...")
	goCommand(t, proj, "test", "./...")

	// go run . uses $DBOS_DATABASE_URL; point it at a file of the test's own.
	env := []string{"DBOS_DATABASE_URL=sqlite:" + filepath.Join(tmp, "run.sqlite")}
	out, err := goCommandEnv(t, proj, env, "run", ".")
	if err != nil {
		t.Fatalf("go run . in the starter project: %v\n%s", err, out)
	}
	want := regexp.MustCompile(`^workflow [0-9a-f-]{36} processed 6 tasks:
  task 1 -> DURABLE
  task 2 -> WORKFLOWS
  task 3 -> AND
  task 4 -> QUEUES
  task 5 -> IN
  task 6 -> GO
$`)
	if !want.MatchString(out) {
		t.Fatalf("go run . printed:\n%s\nwant it to match:\n%s", out, want)
	}
}

// generatedFiles returns the content of every dbos_gen.go under dir, by
// slash-separated path relative to dir.
func generatedFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "dbos_gen.go" {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// refreshTemplates, for -update, removes the dbos_gen.go files dbosgen init
// wrote into proj, runs go generate there, and writes what the generator
// produced back into templates/project under root as templates (see
// templates.FromGenerated), failing when the generator wrote a
// dbos_gen.go the templates do not have.
func refreshTemplates(t *testing.T, root, proj string, written map[string][]byte) {
	t.Helper()
	for rel := range written {
		if err := os.Remove(filepath.Join(proj, rel)); err != nil {
			t.Fatal(err)
		}
	}
	goCommand(t, proj, "generate", "./...")
	fresh := generatedFiles(t, proj)
	for rel := range written {
		if _, ok := fresh[rel]; !ok {
			t.Errorf("go generate wrote no %s; remove templates/project/%s%s", rel, rel, templates.Suffix)
		}
	}
	for rel, src := range fresh {
		if _, ok := written[rel]; !ok {
			t.Errorf("go generate wrote %s, which templates/project lacks; create an empty templates/project/%s%s and rerun", rel, rel, templates.Suffix)
			continue
		}
		tmpl := templates.FromGenerated(src, starterModule)
		path := filepath.Join(root, "templates", "project", filepath.FromSlash(rel)+templates.Suffix)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, tmpl) {
			continue
		}
		writeFile(t, path, string(tmpl))
		t.Logf("refreshed %s", path)
	}
}

// TestInitNotEmpty checks that dbosgen init refuses a folder that is not
// empty, naming it, and writes nothing into it.
func TestInitNotEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "taken")
	writeFile(t, filepath.Join(dir, "notes.txt"), "mine\n")
	code, out := dbosgen(t, t.TempDir(), "init", dir)
	if code != 2 || !strings.Contains(out, dir+" exists and is not empty") {
		t.Fatalf("exit %d, output %q; want 2 and an error naming %s", code, out, dir)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
		t.Fatalf("the folder now holds %d entries (err %v); want only notes.txt", len(entries), err)
	}

	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, "")
	if code, out := dbosgen(t, t.TempDir(), "init", file); code != 2 || !strings.Contains(out, file+" exists and is not a folder") {
		t.Fatalf("init on a file: exit %d, output %q; want 2 and an error naming %s", code, out, file)
	}
}

// TestInitBadModule checks that dbosgen init refuses an invalid module
// path, from -module or from the folder's name, and creates nothing.
func TestInitBadModule(t *testing.T) {
	tmp := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-module", "example.com/bad path"}, `bad -module path: malformed module path "example.com/bad path": invalid char ' '`},
		{[]string{"-module", "hello"}, `bad -module path: malformed module path "hello": missing dot in first path element`},
		{[]string{"-module", "example.com/../x"}, `bad -module path`},
		{nil, `the module path "example.com/my app" made from the folder's name is not valid`},
	} {
		dir := filepath.Join(tmp, "my app")
		code, out := dbosgen(t, tmp, append(append([]string{"init"}, c.args...), dir)...)
		if code != 2 || !strings.Contains(out, c.want) {
			t.Errorf("init %s: exit %d, output %q; want 2 and %q", strings.Join(c.args, " "), code, out, c.want)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("init %s created %s (stat: %v)", strings.Join(c.args, " "), dir, err)
		}
	}
}

// TestInitDefaultModule checks that dbosgen init names the module after
// the folder by default, creates a missing folder, and says what to run
// next.
func TestInitDefaultModule(t *testing.T) {
	tmp := t.TempDir()
	code, out := dbosgen(t, tmp, "init", filepath.Join("new", "hello"))
	if code != 0 || !strings.Contains(out, "wrote module example.com/hello into") || !strings.Contains(out, "go generate ./...") {
		t.Fatalf("exit %d, output %q; want 0 and the next commands", code, out)
	}
	gomod, err := os.ReadFile(filepath.Join(tmp, "new", "hello", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(gomod), "module example.com/hello\n") {
		t.Fatalf("go.mod:\n%s\nwant module example.com/hello", gomod)
	}
	for _, name := range []string{"main.go", "README.md", ".gitignore", "tasks/tasks.go", "tasks/tasks_test.go", "tasks/dbos_gen.go"} {
		if _, err := os.Stat(filepath.Join(tmp, "new", "hello", name)); err != nil {
			t.Error(err)
		}
	}
}

// TestUsageListsInit checks that dbosgen -h shows both forms of the
// command.
func TestUsageListsInit(t *testing.T) {
	code, out := dbosgen(t, t.TempDir(), "-h")
	if code != 0 || !strings.Contains(out, "usage: dbosgen [-check] [packages]\n       dbosgen init [-module PATH] DIR\n") {
		t.Fatalf("exit %d, output %q; want 0 and both usages", code, out)
	}
	for _, args := range [][]string{{"init"}, {"init", "a", "b"}, {"init", "a", "-module", "example.com/a"}, {"init", "-nope", "a"}} {
		if code, out := dbosgen(t, t.TempDir(), args...); code != 2 || !strings.Contains(out, "dbosgen init [-module PATH] DIR") {
			t.Errorf("dbosgen %s: exit %d, output %q; want 2 and the usage", strings.Join(args, " "), code, out)
		}
	}
}

// TestDbosgenVersion checks the version a new project requires.
func TestDbosgenVersion(t *testing.T) {
	const v = "v1.2.3"
	for _, c := range []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"installed", &debug.BuildInfo{Main: debug.Module{Path: dbosgenModule, Version: v}}, v},
		{"tool of a module", &debug.BuildInfo{Main: debug.Module{Path: "example.com/m", Version: "(devel)"},
			Deps: []*debug.Module{{Path: "golang.org/x/mod", Version: "v0.42.0"}, {Path: dbosgenModule, Version: v}}}, v},
		{"checkout", &debug.BuildInfo{Main: debug.Module{Path: dbosgenModule, Version: "(devel)"}}, templates.PlaceholderVersion},
		{"dirty checkout", &debug.BuildInfo{Main: debug.Module{Path: dbosgenModule, Version: "v0.0.0-20260101000000-0123456789ab+dirty"}}, templates.PlaceholderVersion},
		{"replaced", &debug.BuildInfo{Main: debug.Module{Path: "example.com/m"},
			Deps: []*debug.Module{{Path: dbosgenModule, Version: v, Replace: &debug.Module{Path: "../dbosgen"}}}}, templates.PlaceholderVersion},
		{"no build information", nil, templates.PlaceholderVersion},
	} {
		if got := dbosgenVersion(c.info, c.info != nil); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}
