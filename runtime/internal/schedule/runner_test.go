package schedule

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeDB is the database of a runner under test: the ticks created, by
// call, and the last tick noted.
type fakeDB struct {
	mu      sync.Mutex
	calls   [][]time.Time
	last    time.Time
	found   bool
	failFor time.Duration // creations fail until this long after start
	slow    time.Duration // the first creation takes this long
	start   time.Time
}

func (db *fakeDB) create(ctx context.Context, e Entry, ticks []time.Time) error {
	db.mu.Lock()
	first := len(db.calls) == 0
	db.mu.Unlock()
	if time.Since(db.start) < db.failFor {
		return errors.New("database down")
	}
	if first && db.slow > 0 {
		time.Sleep(db.slow)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	db.calls = append(db.calls, ticks)
	db.last, db.found = ticks[len(ticks)-1], true
	return nil
}

func (db *fakeDB) lastTick(ctx context.Context, name string) (time.Time, bool, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.last, db.found, nil
}

// ticks returns every tick created, in creation order.
func (db *fakeDB) ticks() []time.Time {
	db.mu.Lock()
	defer db.mu.Unlock()
	var out []time.Time
	for _, c := range db.calls {
		out = append(out, c...)
	}
	return out
}

// runFor runs a runner of one entry over db for d of the bubble's fake
// time, launched at the bubble's now plus offset.
func runFor(t *testing.T, db *fakeDB, e Entry, offset, d time.Duration) {
	time.Sleep(offset)
	db.start = time.Now()
	r := &Runner{
		Entries:  []Entry{e},
		Create:   db.create,
		LastTick: db.lastTick,
		Ctx:      t.Context(),
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Retry:    time.Second,
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { r.Run(stop); close(done) }()
	time.Sleep(d)
	close(stop)
	<-done
}

// wantSeconds checks that ticks are every whole second from first to
// last, each once.
func wantSeconds(t *testing.T, ticks []time.Time, first, last time.Time) {
	t.Helper()
	n := int(last.Sub(first)/time.Second) + 1
	if len(ticks) != n {
		t.Fatalf("%d ticks %v; want the %d from %v to %v", len(ticks), ticks, n, first, last)
	}
	for i, at := range ticks {
		if want := first.Add(time.Duration(i) * time.Second); !at.Equal(want) {
			t.Fatalf("tick %d is %v; want %v (all: %v)", i, at, want, ticks)
		}
	}
}

func everySecond(t *testing.T, backfill bool) Entry {
	return Entry{Name: "app.Tick", Schedule: mustParse(t, "* * * * * *"), Backfill: backfill}
}

// TestRunnerTicks: launched mid-second, a runner creates each tick after
// its launch once, at its time, one per call.
func TestRunnerTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := &fakeDB{}
		launch := time.Now().Add(300 * time.Millisecond)
		runFor(t, db, everySecond(t, false), 300*time.Millisecond, 10*time.Second)
		wantSeconds(t, db.ticks(), launch.Truncate(time.Second).Add(time.Second), launch.Add(10*time.Second).Truncate(time.Second))
		if len(db.calls) != 10 {
			t.Fatalf("%d calls; want one per tick, 10", len(db.calls))
		}
	})
}

// TestRunnerSlowDatabase: a creation that takes 2.5s makes the next ticks
// late, not lost: they are created together, each once.
func TestRunnerSlowDatabase(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := &fakeDB{slow: 2500 * time.Millisecond}
		start := time.Now()
		runFor(t, db, everySecond(t, false), 0, 10*time.Second)
		wantSeconds(t, db.ticks(), start.Add(time.Second), start.Add(10*time.Second))
		if len(db.calls[1]) != 2 {
			t.Fatalf("calls %v; want the two ticks due during the slow one (from 1s to 3.5s) created together next", db.calls)
		}
	})
}

// TestRunnerOutage: while creations fail, nothing is skipped: once the
// database answers, every tick due is created, once.
func TestRunnerOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := &fakeDB{failFor: 4500 * time.Millisecond}
		start := time.Now()
		runFor(t, db, everySecond(t, false), 0, 10*time.Second)
		wantSeconds(t, db.ticks(), start.Add(time.Second), start.Add(10*time.Second))
	})
}

// TestRunnerBackfill: with backfill, a runner first creates the ticks
// after the last one noted; without, it skips them.
func TestRunnerBackfill(t *testing.T) {
	for _, backfill := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			db := &fakeDB{last: start.Add(-5 * time.Second), found: true}
			runFor(t, db, everySecond(t, backfill), 0, 3*time.Second)
			first := start.Add(time.Second)
			if backfill {
				first = start.Add(-4 * time.Second)
				if len(db.calls[0]) != 5 {
					t.Fatalf("backfill calls %v; want the 5 missed ticks created together first", db.calls)
				}
			}
			wantSeconds(t, db.ticks(), first, start.Add(3*time.Second))
		})
	}
}

// TestRunnerBackfillBound: a backfill creates at most MaxBackfill ticks,
// the latest.
func TestRunnerBackfillBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		db := &fakeDB{last: start.Add(-24 * time.Hour), found: true}
		runFor(t, db, everySecond(t, true), 0, 500*time.Millisecond)
		ticks := db.ticks()
		wantSeconds(t, ticks, start.Add(-(MaxBackfill-1)*time.Second), start)
	})
}

// TestRunnerFirstLaunchBackfill: with backfill but no tick ever noted
// (the schedule's first launch), nothing is backfilled.
func TestRunnerFirstLaunchBackfill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		db := &fakeDB{}
		runFor(t, db, everySecond(t, true), 0, 2*time.Second)
		wantSeconds(t, db.ticks(), start.Add(time.Second), start.Add(2*time.Second))
	})
}

// TestRunnerStopCreatesDue: a tick due by the clock when the runner
// stops is created, even if the runner's timer has not fired yet (the
// wall clock stepped forward), so a process never leaves a gap behind it.
func TestRunnerStopCreatesDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := &fakeDB{}
		start := time.Now()
		var mu sync.Mutex
		var step time.Duration // how far the wall clock stepped forward
		r := &Runner{
			Entries:  []Entry{everySecond(t, false)},
			Create:   db.create,
			LastTick: db.lastTick,
			Ctx:      t.Context(),
			Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
			Retry:    time.Second,
			Now: func() time.Time {
				mu.Lock()
				defer mu.Unlock()
				return time.Now().Add(step)
			},
		}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { r.Run(stop); close(done) }()
		time.Sleep(1500 * time.Millisecond) // tick 1 is created; the timer of tick 2 waits
		mu.Lock()
		step = 600 * time.Millisecond // the clock reads 2.1s: tick 2 is due
		mu.Unlock()
		close(stop)
		<-done
		wantSeconds(t, db.ticks(), start.Add(time.Second), start.Add(2*time.Second))
	})
}
