package gen

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeModule writes a module example.com/m with the given files (path ->
// content) into a temporary directory and returns it. Its packages use
// only the standard library, so loading them needs no network.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module example.com/m\n\ngo 1.26\n"
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const stepSource = `package app

import "context"

//dbos:step
func Double(ctx context.Context, n int) (int, error) { return 2 * n, nil }
`

// runIn runs the generator in dir and returns what it printed and its
// error.
func runIn(t *testing.T, dir string, check bool, patterns ...string) (string, error) {
	t.Helper()
	var stderr bytes.Buffer
	err := Run(context.Background(), Options{Dir: dir, Patterns: patterns, Check: check, Stderr: &stderr})
	return stderr.String(), err
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRunWritesAndChecks covers the life of a generated file: written,
// left alone when fresh, reported but not rewritten by -check when stale,
// then rewritten.
func TestRunWritesAndChecks(t *testing.T) {
	dir := writeModule(t, map[string]string{"app/app.go": stepSource})
	gen := filepath.Join(dir, "app", genFileName)

	if out, err := runIn(t, dir, true, "./..."); !errors.Is(err, ErrDrift) || !strings.Contains(out, "app/dbos_gen.go: out of date") {
		t.Fatalf("check before generating: err %v, output %q; want ErrDrift naming app/dbos_gen.go", err, out)
	}
	if _, err := os.Stat(gen); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("check wrote %s", gen)
	}

	if out, err := runIn(t, dir, false, "./..."); err != nil || out != "" {
		t.Fatalf("generate: err %v, output %q", err, out)
	}
	first := readFile(t, gen)
	if !strings.HasPrefix(first, generatedHeader+"\n\n//go:build !dbosgen\n") || !strings.Contains(first, "func RunDouble(ctx context.Context, n int) (int, error)") {
		t.Fatalf("unexpected generated file:\n%s", first)
	}
	if out, err := runIn(t, filepath.Join(dir, "app"), true); err != nil || out != "" {
		t.Fatalf("check of a fresh file: err %v, output %q", err, out)
	}

	// Change the signature: the old generated file no longer compiles with
	// it, which must not stop regeneration.
	changed := strings.Replace(stepSource, "n int", "n int, m int", 1)
	if err := os.WriteFile(filepath.Join(dir, "app", "app.go"), []byte(changed), 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := runIn(t, dir, true, "./app"); !errors.Is(err, ErrDrift) {
		t.Fatalf("check after a change: err %v, want ErrDrift", err)
	}
	if readFile(t, gen) != first {
		t.Fatal("check rewrote the generated file")
	}
	if out, err := runIn(t, dir, false, "./app"); err != nil {
		t.Fatalf("regenerate: %v\n%s", err, out)
	}
	if got := readFile(t, gen); !strings.Contains(got, "func RunDouble(ctx context.Context, n int, m int) (int, error)") {
		t.Fatalf("regenerated file does not have the new signature:\n%s", got)
	}
}

// TestRunRemovesStaleFile checks that a generated file whose package lost
// its annotated functions is reported by -check and removed by a run.
func TestRunRemovesStaleFile(t *testing.T) {
	dir := writeModule(t, map[string]string{"app/app.go": stepSource})
	gen := filepath.Join(dir, "app", genFileName)
	if out, err := runIn(t, dir, false, "./app"); err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	plain := strings.Replace(stepSource, "//dbos:step\n", "", 1)
	if err := os.WriteFile(filepath.Join(dir, "app", "app.go"), []byte(plain), 0o666); err != nil {
		t.Fatal(err)
	}
	if out, err := runIn(t, dir, true, "./app"); !errors.Is(err, ErrDrift) || !strings.Contains(out, "stale") {
		t.Fatalf("check: err %v, output %q; want ErrDrift reporting a stale file", err, out)
	}
	if _, err := os.Stat(gen); err != nil {
		t.Fatalf("check removed the file: %v", err)
	}
	if out, err := runIn(t, dir, false, "./app"); err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	if _, err := os.Stat(gen); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale %s was not removed (stat: %v)", gen, err)
	}
}

// TestRunLeavesForeignFile checks that dbosgen never overwrites a
// dbos_gen.go it did not write.
func TestRunLeavesForeignFile(t *testing.T) {
	foreign := "package app\n\n// Written by hand.\n"
	dir := writeModule(t, map[string]string{"app/app.go": stepSource, "app/dbos_gen.go": foreign})
	out, err := runIn(t, dir, false, "./app")
	if !errors.Is(err, ErrDiagnostics) || !strings.Contains(out, "app/dbos_gen.go: this file was not written by dbosgen") {
		t.Fatalf("err %v, output %q; want ErrDiagnostics about the foreign file", err, out)
	}
	if got := readFile(t, filepath.Join(dir, "app", genFileName)); got != foreign {
		t.Fatalf("foreign file changed to:\n%s", got)
	}
}

// TestRunReportsAllErrors checks that errors in several packages are all
// reported, that nothing is written for a package with errors, and that a
// package without errors is still generated.
func TestRunReportsAllErrors(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"good/good.go": strings.Replace(stepSource, "package app", "package good", 1),
		"bad1/bad.go":  "package bad1\n\n//dbos:stpe\nfunc F() {}\n",
		"bad2/bad.go":  "package bad2\n\nimport \"context\"\n\n//dbos:step\nfunc G(ctx context.Context) {}\n",
	})
	out, err := runIn(t, dir, false, "./...")
	if !errors.Is(err, ErrDiagnostics) {
		t.Fatalf("err %v, want ErrDiagnostics", err)
	}
	want := []string{
		"bad1/bad.go:3:1: unknown directive //dbos:stpe; did you mean //dbos:step?",
		"bad2/bad.go:6:28: G must return error as its last result",
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	for _, p := range []string{"bad1", "bad2"} {
		if _, err := os.Stat(filepath.Join(dir, p, genFileName)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s/%s was written despite errors", p, genFileName)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "good", genFileName)); err != nil {
		t.Errorf("good/%s was not written: %v", genFileName, err)
	}
}

// TestRunSyntaxError checks that a package that does not parse is an
// error, not an empty generation that would remove the generated file.
func TestRunSyntaxError(t *testing.T) {
	dir := writeModule(t, map[string]string{"app/app.go": stepSource})
	if out, err := runIn(t, dir, false, "./app"); err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "app", "app.go"), []byte(stepSource+"\nfunc {\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	out, err := runIn(t, dir, false, "./app")
	if !errors.Is(err, ErrDiagnostics) || !strings.Contains(out, "app/app.go:8:") {
		t.Fatalf("err %v, output %q; want ErrDiagnostics at app/app.go:8", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "app", genFileName)); err != nil {
		t.Fatalf("the generated file was removed after a syntax error: %v", err)
	}
}
