package gen

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGoldenCompiles builds and vets every case that has a
// dbos_gen.go.golden, with the golden in place of dbos_gen.go (through the
// go command's -overlay flag), against the real runtime.
func TestGoldenCompiles(t *testing.T) {
	replace := map[string]string{}
	var pkgs []string
	for _, c := range goldenCases(t) {
		golden, err := filepath.Abs(filepath.Join("testdata", c, outputGolden))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(golden); err != nil {
			continue
		}
		replace[filepath.Join(filepath.Dir(golden), genFileName)] = golden
		pkgs = append(pkgs, "./testdata/"+c)
	}
	if len(pkgs) == 0 {
		t.Fatal("no case has a golden output")
	}
	overlay, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		t.Fatal(err)
	}
	overlayFile := filepath.Join(t.TempDir(), "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o666); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", append([]string{"vet", "-overlay=" + overlayFile}, pkgs...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go vet of the goldens failed: %v\n%s", err, out)
	}
}
