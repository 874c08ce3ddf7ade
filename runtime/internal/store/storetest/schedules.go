package storetest

import (
	"testing"
	"time"
)

// testTicks: LastTick finds nothing for a schedule never noted, then the
// latest tick RecordTick noted, from any store; an earlier tick noted late
// (a backfill, a slow process) never moves it back.
func testTicks(t *testing.T, open Opener) {
	ctx := testContext(t)
	s, other := open(t), open(t)
	name := unique("sched")
	if at, found, err := s.LastTick(ctx, name); err != nil || found {
		t.Fatalf("LastTick of a schedule never noted = %v, %v, %v; want not found", at, found, err)
	}
	t0 := time.Date(2026, 12, 6, 17, 0, 1, 0, time.UTC)
	for _, at := range []time.Time{t0, t0.Add(2 * time.Second), t0.Add(time.Second)} {
		if err := s.RecordTick(ctx, name, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.RecordTick(ctx, unique("sched"), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	at, found, err := other.LastTick(ctx, name)
	if want := t0.Add(2 * time.Second); err != nil || !found || !at.Equal(want) || at.Location() != time.UTC {
		t.Fatalf("LastTick = %v, %v, %v; want %v in UTC", at, found, err, want)
	}
}
