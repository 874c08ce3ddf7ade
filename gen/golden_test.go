package gen

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Golden files of a case directory under testdata.
const (
	outputGolden      = "dbos_gen.go.golden"
	diagnosticsGolden = "diagnostics.golden"
)

// goldenCases returns the case directories under testdata.
func goldenCases(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, e := range entries {
		if e.IsDir() {
			cases = append(cases, e.Name())
		}
	}
	if len(cases) == 0 {
		t.Fatal("no cases under testdata")
	}
	return cases
}

// loadCases loads every case package in one go list call, keyed by case
// name.
func loadCases(t *testing.T, cases []string) map[string]*packages.Package {
	t.Helper()
	patterns := make([]string, len(cases))
	for i, c := range cases {
		patterns[i] = "./testdata/" + c
	}
	pkgs, err := load(context.Background(), "", patterns)
	if err != nil {
		t.Fatal(err)
	}
	byCase := map[string]*packages.Package{}
	for _, p := range pkgs {
		byCase[filepath.Base(p.PkgPath)] = p
	}
	return byCase
}

// TestGolden generates every case under testdata and compares the output
// with dbos_gen.go.golden and the diagnostics with diagnostics.golden. A
// case has the golden files for what it produces and no others.
func TestGolden(t *testing.T) {
	cases := goldenCases(t)
	pkgs := loadCases(t, cases)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			pkg := pkgs[c]
			if pkg == nil {
				t.Fatalf("case %s did not load", c)
			}
			g := generatePackage(pkg)
			sortDiagnostics(g.Diags)
			var diags strings.Builder
			for _, d := range g.Diags {
				diags.WriteString(filepath.ToSlash(d.Format(wd)) + "\n")
			}
			dir := filepath.Join("testdata", c)
			checkGolden(t, filepath.Join(dir, diagnosticsGolden), []byte(diags.String()))
			checkGolden(t, filepath.Join(dir, outputGolden), g.Src)
		})
	}
}

// checkGolden compares got with the golden file at path; empty got means
// the file must not exist. With -update it rewrites or removes the file.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(path)
	exists := err == nil
	if *update {
		switch {
		case len(got) > 0:
			if err := os.WriteFile(path, got, 0o666); err != nil {
				t.Fatal(err)
			}
		case exists:
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	switch {
	case len(got) == 0 && exists:
		t.Errorf("%s exists but the case produced nothing for it; run go test ./gen -update", path)
	case len(got) > 0 && !exists:
		t.Errorf("%s is missing; got:\n%s\nrun go test ./gen -update", path, got)
	case !bytes.Equal(got, want):
		t.Errorf("%s differs; run go test ./gen -update and review the diff.\n%s", path, firstDifference(want, got))
	}
}

// firstDifference shows the first line where got differs from want, with
// a few lines of context from each.
func firstDifference(want, got []byte) string {
	w := strings.Split(string(want), "\n")
	g := strings.Split(string(got), "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	excerpt := func(lines []string) string {
		from, to := max(i-3, 0), min(i+4, len(lines))
		var b strings.Builder
		for n := from; n < to; n++ {
			mark := "  "
			if n == i {
				mark = "> "
			}
			fmt.Fprintf(&b, "%s%4d %s\n", mark, n+1, lines[n])
		}
		return b.String()
	}
	return fmt.Sprintf("first difference at line %d\nwant:\n%sgot:\n%s", i+1, excerpt(w), excerpt(g))
}
