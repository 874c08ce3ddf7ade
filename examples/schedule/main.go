// Command schedule runs a scheduled workflow: Heartbeat runs at every
// second's tick, once across every process running this program on the
// same database, with the tick's time as its input. The program exits
// after three ticks.
//
//	go run ./examples/schedule
//
// It runs on embedded SQLite (dbos.sqlite in the working directory) unless
// $DBOS_DATABASE_URL names another database, for example
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable. Start it
// in two terminals at once against Postgres: each tick runs in one of
// them.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

// beats hears of each tick this process ran, for main to stop after a
// few. A real program would not need it: it runs until it is stopped.
var beats = make(chan string, 16)

// Beat is the work of one tick: a checkpointed step, run once per tick
// even if the process crashes midway through Heartbeat.
//
//dbos:step
func Beat(ctx context.Context, at time.Time) (string, error) {
	return fmt.Sprintf("beat at %s", at.Format(time.TimeOnly)), nil
}

// Heartbeat runs every second (the cron expression's first field is the
// seconds). at is the tick: whole seconds, in UTC.
//
//dbos:workflow schedule="* * * * * *"
func Heartbeat(ctx context.Context, at time.Time) (string, error) {
	msg, err := RunBeat(ctx, at)
	if err != nil {
		return "", err
	}
	select {
	case beats <- msg:
	default:
	}
	return msg, nil
}

func main() {
	if err := run(context.Background(), 3); err != nil {
		fmt.Fprintln(os.Stderr, "schedule:", err)
		os.Exit(1)
	}
}

// run launches the runtime, which starts Heartbeat's clock, and returns
// after n ticks ran in this process.
func run(ctx context.Context, n int) error {
	rt, err := dbos.Launch(ctx, dbos.Config{})
	if err != nil {
		return err
	}
	defer rt.Shutdown(ctx)
	for range n {
		select {
		case msg := <-beats:
			fmt.Println(msg)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
