package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// The end-to-end tests, against databases, are in
// runtime/internal/ctltest; these test the parts that need none.

func TestParseState(t *testing.T) {
	for in, want := range map[string]dbos.State{
		"SUCCESS": dbos.StateSuccess, "pending": dbos.StatePending, " Enqueued ": dbos.StateEnqueued,
		"dead_letter": dbos.StateDeadLetter, "dead-letter": dbos.StateDeadLetter, "CANCELLED": dbos.StateCancelled, "error": dbos.StateError,
	} {
		if got, err := parseState(in); err != nil || got != want {
			t.Errorf("parseState(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := parseState("DONE")
	if err == nil || !strings.Contains(err.Error(), "ENQUEUED, PENDING, SUCCESS, ERROR, CANCELLED, DEAD_LETTER") {
		t.Errorf("parseState(DONE): %v", err)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"1h":                        now.Add(-time.Hour),
		"90s":                       now.Add(-90 * time.Second),
		"2026-12-01T10:00:00Z":      time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		"2026-12-01T10:00:00+02:00": time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC),
		"2026-12-01T10:00:00.5Z":    time.Date(2026, 12, 1, 10, 0, 0, 5e8, time.UTC),
		"2026-12-01 10:00:00":       time.Date(2026, 12, 1, 10, 0, 0, 0, time.Local),
		"2026-12-01T10:00:00":       time.Date(2026, 12, 1, 10, 0, 0, 0, time.Local),
		"2026-12-01":                time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local),
	} {
		if got, err := parseSince(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "-1h", "0s", "2026-13-01"} {
		if _, err := parseSince(in, now); err == nil {
			t.Errorf("parseSince(%q): no error", in)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, c := range []struct {
		args, pos []string
		step      int
	}{
		{[]string{"id", "-from-step", "3"}, []string{"id"}, 3},
		{[]string{"-from-step", "3", "id"}, []string{"id"}, 3},
		{[]string{"a", "-from-step=2", "b"}, []string{"a", "b"}, 2},
		{[]string{"-from-step", "4", "--", "-id", "-from-step"}, []string{"-id", "-from-step"}, 4},
		{[]string{"a", "--", "-b"}, []string{"a", "-b"}, 0},
		{nil, nil, 0},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		step := fs.Int("from-step", 0, "")
		pos, err := parseInterspersed(fs, c.args)
		if err != nil || !slices.Equal(pos, c.pos) || *step != c.step {
			t.Errorf("parseInterspersed(%q) = %q, -from-step %d, %v; want %q, %d", c.args, pos, *step, err, c.pos, c.step)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db?sslmode=disable": "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgres://u@h/db?password=secret&sslmode=x":   "postgres://u@h/db?password=xxxxx&sslmode=x",
		"host=h user=u password=secret dbname=d":        "host=h user=u password=xxxxx dbname=d",
		"sqlite:dbos.sqlite":                            "sqlite:dbos.sqlite",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDocShowsEveryCommand: the package documentation (go doc) and -h list
// every command with its synopsis, as the command table has it.
func TestDocShowsEveryCommand(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &stdout, &stderr); code != 0 {
		t.Fatalf("dbosctl -h: exit %d: %s", code, stderr.String())
	}
	for _, leaf := range leaves(root, []string{"dbosctl"}) {
		line := usageLine(leaf.cmd, leaf.path)
		if !strings.Contains(string(doc), "//\t"+line+"\n") {
			t.Errorf("doc.go lacks the usage line %q", line)
		}
		if !strings.Contains(stdout.String(), strings.TrimPrefix(line, "dbosctl ")) {
			t.Errorf("dbosctl -h lacks %q", line)
		}
		if leaf.cmd.summary == "" || leaf.cmd.doc == "" {
			t.Errorf("%s: no summary or doc", line)
		}
	}
}
