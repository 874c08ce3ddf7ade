package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

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
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out.String())
	}
	return out.String()
}

// TestEndToEnd copies the user-like module testdata/e2e to a temporary
// directory, points it at this repository, runs go generate (which runs
// "go tool dbosgen"), builds the program and runs it against SQLite.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a module with go generate; skipped in -short mode")
	}
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
