// Package scheduletest holds the scheduled workflows of the schedule
// tests: every process that launches with this package linked in creates
// their ticks, so no other test package may link it.
package scheduletest

import (
	"context"
	"os"
	"time"
)

//go:generate go tool dbosgen

// EverySecond runs every second, and returns the process that ran it.
// Ticks missed while no process ran are skipped.
//
//dbos:workflow schedule="* * * * * *" name=scheduletest.every_second
func EverySecond(ctx context.Context, at time.Time) (int, error) {
	return os.Getpid(), nil
}

// EverySecondBackfill runs every second, and returns the process that ran
// it. A launching process creates the ticks missed since the last one.
//
//dbos:workflow schedule="* * * * * *" backfill=true name=scheduletest.every_second_backfill
func EverySecondBackfill(ctx context.Context, at time.Time) (int, error) {
	return os.Getpid(), nil
}
