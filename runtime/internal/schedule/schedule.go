// Package schedule is the clock of scheduled workflows (//dbos:workflow
// schedule="..."): it parses their cron expressions, computes their ticks,
// and, in every process that runs work, has the workflow of each tick
// created at that tick. The tick's ID (see ID) is derived from the
// function's registered name and the tick time, so however many
// processes create a tick, one workflow exists for it: the database's
// primary key decides which process's insert wins, and that process runs
// it. Ticks are whole seconds, computed in UTC unless the expression
// starts with CRON_TZ=<zone>, so every process agrees on them whatever
// its clock's jitter.
package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser accepts five fields, or six with seconds first, and descriptors
// (@hourly, @daily, @every 10m, ...): the generator's parser in package
// gen accepts the same.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule is a parsed cron expression.
type Schedule struct {
	expr string
	spec cron.Schedule
	// every is the period of an "@every <duration>" expression, whose
	// ticks are the multiples of every since the Unix epoch (so that every
	// process has the same ones); 0 for the others.
	every time.Duration
}

// Parse parses a cron expression: "sec min hour dom month dow", the same
// without sec (at second 0), or a descriptor such as @hourly or
// @every 10m. An expression without CRON_TZ=<zone> (or TZ=<zone>) first
// is in UTC.
func Parse(expr string) (Schedule, error) {
	spec := expr
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		if !strings.Contains(strings.TrimSpace(spec), " ") {
			return Schedule{}, fmt.Errorf("parse schedule %q: the time zone is followed by no schedule; write CRON_TZ=<zone> <cron expression>", expr)
		}
	} else {
		spec = "CRON_TZ=UTC " + spec
	}
	s, err := parser.Parse(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf("parse schedule %q: %w", expr, err)
	}
	out := Schedule{expr: expr, spec: s}
	if d, ok := s.(cron.ConstantDelaySchedule); ok {
		out.every = d.Delay
	}
	return out, nil
}

// String returns the expression as written.
func (s Schedule) String() string { return s.expr }

// Next returns the first tick strictly after t, in UTC.
func (s Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		period := int64(s.every / time.Second)
		sec := t.Unix() // the whole second at or before t
		next := (sec/period + 1) * period
		if sec < 0 && sec%period != 0 {
			next -= period // floor division
		}
		return time.Unix(next, 0).UTC()
	}
	return s.spec.Next(t).UTC()
}

// Ticks returns the ticks after after and at or before until, oldest
// first: the latest max of them, with how many earlier ones it left out
// (counted up to 10*max).
// It reads only about as many ticks as it returns, however far apart
// after and until are.
func (s Schedule) Ticks(after, until time.Time, max int) (ticks []time.Time, skipped int) {
	if max <= 0 || !until.After(after) {
		return nil, 0
	}
	// Find a start late enough that (start, until] holds about max ticks:
	// a window of max times the shortest gap seen, doubled until it holds
	// max ticks or reaches after.
	first := s.Next(after)
	if first.After(until) {
		return nil, 0
	}
	gap := s.Next(first).Sub(first)
	start := after
	for w := time.Duration(max) * gap; w > 0 && until.Sub(after) > w; w *= 2 {
		if n := s.count(until.Add(-w), until, max); n >= max {
			start = until.Add(-w)
			break
		}
	}
	for t := s.Next(start); !t.After(until); t = s.Next(t) {
		ticks = append(ticks, t)
	}
	if start.Equal(after) {
		return trim(ticks, max)
	}
	// Count the left-out ticks before start only when that is cheap.
	ticks, skipped = trim(ticks, max)
	skipped += s.count(after, start, 10*max)
	return ticks, skipped
}

// count counts the ticks in (after, until], stopping at limit.
func (s Schedule) count(after, until time.Time, limit int) int {
	n := 0
	for t := s.Next(after); !t.After(until) && n < limit; t = s.Next(t) {
		n++
	}
	return n
}

// trim keeps the latest max ticks.
func trim(ticks []time.Time, max int) ([]time.Time, int) {
	if len(ticks) <= max {
		return ticks, 0
	}
	return ticks[len(ticks)-max:], len(ticks) - max
}

// ID is the workflow ID of the tick at of the scheduled function name:
// "sched:" + name + "@" + the tick in RFC 3339, in UTC.
func ID(name string, at time.Time) string {
	return "sched:" + name + "@" + at.UTC().Format(time.RFC3339)
}
