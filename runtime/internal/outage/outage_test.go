package outage

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestOutageLoggedAtBeginningAndEnd: many failed calls log one warning,
// the first success after them one more, and successes without failures
// none.
func TestOutageLoggedAtBeginningAndEnd(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var o Tracker
	o.Succeeded(log)
	for range 5 {
		o.Failed(log, "checkpoint step", errors.New("connection refused"), time.Millisecond)
	}
	o.Succeeded(log)
	o.Succeeded(log)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "database call failed") || !strings.Contains(lines[0], "connection refused") ||
		!strings.Contains(lines[1], "database answers again") || !strings.Contains(lines[1], "failed_calls=5") {
		t.Errorf("logged:\n%s\nwant the outage's beginning (with its error) and its end (with 5 failed calls)", buf.String())
	}
}
