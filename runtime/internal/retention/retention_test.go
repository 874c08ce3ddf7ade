package retention

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

func TestInterval(t *testing.T) {
	for r, want := range map[time.Duration]time.Duration{
		2 * time.Second:         2 * time.Second,
		time.Hour:               time.Minute,
		time.Millisecond:        100 * time.Millisecond,
		30 * 24 * time.Hour:     time.Minute,
		1500 * time.Millisecond: 1500 * time.Millisecond,
	} {
		if got := Interval(r); got != want {
			t.Errorf("Interval(%s) = %s, want %s", r, got, want)
		}
	}
}

// fakeStore answers DeleteExpired from a script and records the calls.
type fakeStore struct {
	store.Store
	calls  chan store.ExpireParams
	answer func(ctx context.Context) (int, bool, error)
}

func (f *fakeStore) DeleteExpired(ctx context.Context, p store.ExpireParams) (int, bool, error) {
	f.calls <- p
	return f.answer(ctx)
}

// TestSweeperRunsAndStops: the sweeper sweeps at once and then every
// interval, testdb.Buffer what it deleted (Info) and what failed (Warn), and stops,
// interrupting a sweep, when stop closes.
func TestSweeperRunsAndStops(t *testing.T) {
	var out testdb.Buffer
	results := make(chan func(ctx context.Context) (int, bool, error), 3)
	results <- func(context.Context) (int, bool, error) { return 7, true, nil }
	results <- func(context.Context) (int, bool, error) { return 0, true, errors.New("database is down") }
	results <- func(ctx context.Context) (int, bool, error) { <-ctx.Done(); return 1, true, ctx.Err() }
	f := &fakeStore{calls: make(chan store.ExpireParams, 3), answer: func(ctx context.Context) (int, bool, error) { return (<-results)(ctx) }}
	s := &Sweeper{Store: f, ExecutorID: "e", Retention: 150 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&out, nil))}
	stop := make(chan struct{})
	done := make(chan struct{})
	began := time.Now()
	go func() { s.Run(stop); close(done) }()
	for i := range 3 {
		select {
		case p := <-f.calls:
			if p.Retention != s.Retention || p.ExecutorID != "e" {
				t.Errorf("sweep %d: %+v", i, p)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("sweep %d did not come", i)
		}
	}
	if took := time.Since(began); took < 2*Interval(s.Retention) {
		t.Errorf("three sweeps took %s, want two intervals of %s between them", took, Interval(s.Retention))
	}
	close(stop)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after stop closed")
	}
	got := out.String()
	for _, want := range []string{
		`level=INFO msg="dbos: retention deleted finished workflows" deleted=7 retention=150ms`,
		`level=WARN msg="dbos: retention sweep failed; retrying at the next sweep" deleted=0 err="database is down"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("testdb.Buffer lack %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "\n") != 2 {
		t.Errorf("want two log lines (the interrupted sweep testdb.Buffer nothing):\n%s", got)
	}
}
