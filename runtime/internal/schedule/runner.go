package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// MaxBackfill is the most missed ticks of one scheduled function a
// launching process creates with backfill=true: the latest ones; the
// earlier ones are skipped and logged. It also bounds the ticks a live
// process creates at once after falling behind (a database outage, a
// suspended process, a jump of the clock).
const MaxBackfill = 1000

// Entry is one scheduled function.
type Entry struct {
	// Name is the function's registered name.
	Name string
	// Schedule is its parsed schedule= expression.
	Schedule Schedule
	// Backfill says whether the ticks missed while no process ran are
	// created at launch.
	Backfill bool
}

// Runner creates the workflows of scheduled functions at their ticks.
type Runner struct {
	// Entries are the scheduled functions this process registers.
	Entries []Entry
	// Create creates the workflows of e's ticks, oldest first, and notes
	// the last one (so that LastTick finds it). Creating a tick that
	// exists already (another process was first) is not an error.
	Create func(ctx context.Context, e Entry, ticks []time.Time) error
	// LastTick returns the latest tick of name noted by any process.
	LastTick func(ctx context.Context, name string) (time.Time, bool, error)
	// Ctx is the context of the runner's database calls; cancelled when
	// the executor stops.
	Ctx context.Context
	// Log receives the ticks skipped and the failures.
	Log *slog.Logger
	// Retry is the longest wait before trying a failed creation again.
	Retry time.Duration
	// Launched is when the process launched: the first tick each clock
	// creates is the first after it (zero: when Run starts).
	Launched time.Time
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Run runs one clock per entry until stop is closed.
func (r *Runner) Run(stop <-chan struct{}) {
	now := r.Launched
	if now.IsZero() {
		now = r.now()
	}
	var wg sync.WaitGroup
	for _, e := range r.Entries {
		wg.Go(func() { r.run(e, now, stop) })
	}
	wg.Wait()
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// run is the clock of one entry, launched at launched: with backfill, it
// first creates the ticks missed since the last one noted; then each tick
// after launched, at its time. A tick is created however late the clock
// gets to it (after a slow or failed database call), even as the process
// stops: never skipped, up to MaxBackfill behind, and never created twice
// by this process.
func (r *Runner) run(e Entry, launched time.Time, stop <-chan struct{}) {
	if e.Backfill {
		r.backfill(e, launched, stop)
	}
	next := e.Schedule.Next(launched) // the first tick not yet created
	for {
		if !r.sleepUntil(next, stop) {
			return
		}
		ticks, skipped := e.Schedule.Ticks(next.Add(-time.Second), r.now(), MaxBackfill)
		if skipped > 0 {
			r.Log.Warn(fmt.Sprintf("dbos: schedule of %s fell %d ticks behind; skipping the earliest %d", e.Name, skipped+len(ticks), skipped),
				"name", e.Name, "schedule", e.Schedule.String(), "skipped", skipped)
		}
		if len(ticks) == 0 { // the clock stepped back
			continue
		}
		if !r.create(e, ticks, stop) {
			return
		}
		next = e.Schedule.Next(ticks[len(ticks)-1])
	}
}

// backfill creates the ticks of e after the last one noted, up to now.
func (r *Runner) backfill(e Entry, now time.Time, stop <-chan struct{}) {
	var last time.Time
	var found bool
	ok := r.retry(e, "read the last tick", stop, func() (err error) {
		last, found, err = r.LastTick(r.Ctx, e.Name)
		return err
	})
	if !ok || !found {
		return // stopped, or never ran: nothing was missed
	}
	ticks, skipped := e.Schedule.Ticks(last, now, MaxBackfill)
	if skipped > 0 {
		r.Log.Warn(fmt.Sprintf("dbos: backfill of %s: %d ticks were missed since %s; creating the latest %d", e.Name, skipped+len(ticks), last.Format(time.RFC3339), MaxBackfill),
			"name", e.Name, "schedule", e.Schedule.String(), "skipped", skipped)
	}
	if len(ticks) > 0 {
		r.Log.Info(fmt.Sprintf("dbos: backfill of %s: creating %d missed ticks", e.Name, len(ticks)), "name", e.Name, "from", ticks[0], "to", ticks[len(ticks)-1])
		r.create(e, ticks, stop)
	}
}

// create creates ticks, trying again after a failure until it succeeds
// or stop is closed; it reports whether it succeeded.
func (r *Runner) create(e Entry, ticks []time.Time, stop <-chan struct{}) bool {
	return r.retry(e, "create the workflows of its ticks", stop, func() error {
		return r.Create(r.Ctx, e, ticks)
	})
}

// retry calls f until it succeeds (true) or stop is closed (false),
// waiting between attempts from 100ms, doubling, up to r.Retry.
func (r *Runner) retry(e Entry, what string, stop <-chan struct{}, f func() error) bool {
	wait := 100 * time.Millisecond
	for failures := 0; ; failures++ {
		err := f()
		if err == nil {
			if failures > 0 {
				r.Log.Info(fmt.Sprintf("dbos: schedule of %s: %s succeeded after %d failures", e.Name, what, failures), "name", e.Name)
			}
			return true
		}
		select {
		case <-stop:
			return false
		default:
		}
		if failures == 0 {
			r.Log.Warn(fmt.Sprintf("dbos: schedule of %s: cannot %s: %v; trying again until it succeeds", e.Name, what, err), "name", e.Name, "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-stop:
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, max(r.Retry, wait))
	}
}

// sleepUntil waits until the clock reads at least t (true), or until stop
// is closed (false, unless t is due by then: every tick due when the
// process stops is created, however late its clock got to it).
func (r *Runner) sleepUntil(t time.Time, stop <-chan struct{}) bool {
	for {
		d := t.Sub(r.now())
		if d <= 0 {
			return true
		}
		timer := time.NewTimer(d)
		select {
		case <-stop:
			timer.Stop()
			return !t.After(r.now())
		case <-timer.C:
		}
	}
}
