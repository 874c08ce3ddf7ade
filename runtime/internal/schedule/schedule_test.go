package schedule

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // CRON_TZ=Europe/Paris on any machine
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func mustParse(t *testing.T, expr string) Schedule {
	t.Helper()
	s, err := Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNext: the tick after a time, in UTC whatever the process's local
// zone, for six-field, five-field, descriptor, @every and CRON_TZ
// expressions; a time on a tick gets the next one.
func TestNext(t *testing.T) {
	local := time.Local
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	time.Local = paris // a process in another zone computes the same ticks
	t.Cleanup(func() { time.Local = local })
	tests := []struct {
		expr, after, want string
	}{
		{"* * * * * *", "2026-12-06T17:00:03.5Z", "2026-12-06T17:00:04Z"},
		{"* * * * * *", "2026-12-06T17:00:04Z", "2026-12-06T17:00:05Z"},
		{"*/10 * * * * *", "2026-12-06T17:00:03.5Z", "2026-12-06T17:00:10Z"},
		{"30 2 * * *", "2026-12-06T17:00:00Z", "2026-12-07T02:30:00Z"},
		{"0 30 9 * * MON-FRI", "2026-12-05T10:00:00Z", "2026-12-07T09:30:00Z"}, // a Saturday
		{"@hourly", "2026-12-06T17:00:00Z", "2026-12-06T18:00:00Z"},
		{"@daily", "2026-12-06T17:00:00Z", "2026-12-07T00:00:00Z"},
		{"@every 1m", "2026-12-06T17:00:30.9Z", "2026-12-06T17:01:00Z"},
		{"@every 1m", "2026-12-06T17:00:00Z", "2026-12-06T17:01:00Z"},
		{"@every 90s", "2026-12-06T17:00:10Z", "2026-12-06T17:01:30Z"},
		{"CRON_TZ=Europe/Paris 0 0 9 * * *", "2026-12-06T17:00:00Z", "2026-12-07T08:00:00Z"},
	}
	for _, tc := range tests {
		got := mustParse(t, tc.expr).Next(utc(tc.after))
		if want := utc(tc.want); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("Parse(%q).Next(%s) = %v; want %v in UTC", tc.expr, tc.after, got, want)
		}
	}
}

// TestEveryAligned: two processes launched at different times agree on
// the ticks of an @every schedule.
func TestEveryAligned(t *testing.T) {
	s := mustParse(t, "@every 10s")
	a := s.Next(utc("2026-12-06T17:00:01.123Z"))
	b := s.Next(utc("2026-12-06T17:00:07.999Z"))
	if !a.Equal(b) || a.Second()%10 != 0 {
		t.Fatalf("@every 10s: launched at :01.123 the next tick is %v, at :07.999 it is %v; want the same multiple of 10s", a, b)
	}
}

// TestParseErrors: a bad expression is an error naming it, never a panic.
func TestParseErrors(t *testing.T) {
	for _, expr := range []string{"", "* * *", "70 * * * * *", "@fortnightly", "TZ=UTC", "CRON_TZ=Mars/Olympus * * * * *"} {
		_, err := Parse(expr)
		if err == nil || !strings.Contains(err.Error(), expr) {
			t.Errorf("Parse(%q) = %v; want an error quoting it", expr, err)
		}
	}
}

// TestTicks: the ticks in a window, oldest first; a long window gives the
// latest max and counts the rest.
func TestTicks(t *testing.T) {
	s := mustParse(t, "* * * * * *")
	after := utc("2026-12-06T17:00:00Z")
	ticks, skipped := s.Ticks(after, after.Add(5500*time.Millisecond), 10)
	if len(ticks) != 5 || skipped != 0 || !ticks[0].Equal(after.Add(time.Second)) || !ticks[4].Equal(after.Add(5*time.Second)) {
		t.Fatalf("Ticks over 5.5s = %v, skipped %d; want 17:00:01 to 17:00:05", ticks, skipped)
	}
	ticks, skipped = s.Ticks(after, after.Add(15*time.Second), 10)
	if len(ticks) != 10 || skipped != 5 || !ticks[0].Equal(after.Add(6*time.Second)) || !ticks[9].Equal(after.Add(15*time.Second)) {
		t.Fatalf("Ticks over 15s, at most 10 = %v, skipped %d; want 17:00:06 to 17:00:15, 5 skipped", ticks, skipped)
	}
	// A year of seconds: the latest 10, read without walking the year.
	until := after.AddDate(1, 0, 0)
	ticks, skipped = s.Ticks(after, until, 10)
	if len(ticks) != 10 || !ticks[9].Equal(until) || skipped < 100 {
		t.Fatalf("Ticks over a year, at most 10 = %v, skipped %d; want the 10 before %v, at least 100 skipped", ticks, skipped, until)
	}
	if ticks, _ := s.Ticks(after, after, 10); len(ticks) != 0 {
		t.Fatalf("Ticks over an empty window = %v; want none", ticks)
	}
}

// TestID: a tick's ID names the function and the tick, in UTC, whatever
// zone the tick is given in.
func TestID(t *testing.T) {
	at := utc("2026-12-06T17:00:01Z")
	paris := at.In(time.FixedZone("CET", 3600))
	if got, want := ID("app.Report", paris), "sched:app.Report@2026-12-06T17:00:01Z"; got != want {
		t.Fatalf("ID = %q; want %q", got, want)
	}
}
