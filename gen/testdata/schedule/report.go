// Package schedule is the golden case for scheduled workflows: a
// six-field expression, a five-field one with backfill, a descriptor,
// and a result besides error.
package schedule

import (
	"context"
	"time"
)

// Heartbeat runs every ten seconds.
//
//dbos:workflow schedule="*/10 * * * * *"
func Heartbeat(ctx context.Context, at time.Time) error { return nil }

// Nightly runs at 02:30 UTC every day; nights missed while no process ran
// are run at launch.
//
//dbos:workflow schedule="30 2 * * *" backfill=true name=reports.nightly
func Nightly(ctx context.Context, at time.Time) (int, error) { return at.Day(), nil }

// Hourly runs at the top of every hour and does not catch up.
//
//dbos:workflow schedule=@hourly backfill=false max_recovery=3
func Hourly(ctx context.Context, _ time.Time) error { return nil }
