package sentinel

import (
	"fmt"
	"testing"
)

// TestCodesRoundTrip: every coded sentinel has a code of its own that
// leads back to it through wrapping, and an error that wraps none has no
// code.
func TestCodesRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range codes {
		if seen[c.code] {
			t.Errorf("code %q is used twice", c.code)
		}
		seen[c.code] = true
		wrapped := fmt.Errorf("step 3: %w", c.err)
		if got := Code(wrapped); got != c.code {
			t.Errorf("Code(%v) = %q, want %q", wrapped, got, c.code)
		}
		if got := ForCode(c.code); got != c.err {
			t.Errorf("ForCode(%q) = %v, want %v", c.code, got, c.err)
		}
	}
	if got := Code(fmt.Errorf("mentions %s but wraps nothing", ErrNotFound)); got != "" {
		t.Errorf("an error that only quotes a sentinel got code %q", got)
	}
	if ForCode("") != nil || ForCode("no such code") != nil {
		t.Errorf("ForCode of an unknown code is not nil")
	}
}
