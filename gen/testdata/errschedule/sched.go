// Package errschedule has bad schedules: bad expressions, wrong
// signatures, schedule= on a step, backfill= without schedule=.
package errschedule

import (
	"context"
	"time"
)

//dbos:workflow schedule="* * *"
func TooFewFields(ctx context.Context, at time.Time) error { return nil }

//dbos:workflow schedule="70 * * * * *"
func SecondsOutOfRange(ctx context.Context, at time.Time) error { return nil }

//dbos:workflow schedule="@fortnightly"
func UnknownDescriptor(ctx context.Context, at time.Time) error { return nil }

//dbos:workflow schedule=""
func EmptySchedule(ctx context.Context, at time.Time) error { return nil }

//dbos:workflow schedule=*/5
func UnquotedSpaces(ctx context.Context, at time.Time) error { return nil }

//dbos:workflow schedule="@every 1m"
func NoTime(ctx context.Context) error { return nil }

//dbos:workflow schedule="@every 1m"
func IntTick(ctx context.Context, at int64) (string, error) { return "", nil }

//dbos:workflow schedule="@every 1m"
func ExtraParam(ctx context.Context, at time.Time, n int) error { return nil }

//dbos:step schedule="@every 1m"
func StepSchedule(ctx context.Context, at time.Time) error { return nil }

//dbos:workflow backfill=true
func BackfillAlone(ctx context.Context, at time.Time) error { return nil }

//dbos:workflow schedule="@daily" backfill=yes
func BackfillWord(ctx context.Context, at time.Time) error { return nil }

//dbos:workflow schedule="CRON_TZ=Europe/Paris"
func ZoneOnly(ctx context.Context, at time.Time) error { return nil }

//dbos:workflow schedule="CRON_TZ=Mars/Olympus 0 0 9 * * *"
func UnknownZone(ctx context.Context, at time.Time) error { return nil }
