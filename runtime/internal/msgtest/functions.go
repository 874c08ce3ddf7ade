// Package msgtest holds the annotated functions that the behaviour tests of
// durable sleep, messages and events (dbos.Sleep, dbos.Topic, dbos.Event)
// run on both engines, in this process and in real worker processes.
package msgtest

import (
	"context"
	"fmt"
	"os"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

// WorkQueue is the queue a test process enqueues on and a worker process
// runs.
var WorkQueue = dbos.NewQueue("msgtest_work")

// Inbox carries the messages Receive3 receives.
var Inbox = dbos.NewTopic[string]("msgtest_inbox")

// Numbers is a topic of ints under the name of Inbox's strings, to make a
// message that cannot be decoded.
var Numbers = dbos.NewTopic[int]("msgtest_inbox")

// Progress is the event Publish sets.
var Progress = dbos.NewEvent[string]("msgtest_progress")

// ProgressNumber reads Progress as an int: its strings cannot be decoded.
var ProgressNumber = dbos.NewEvent[int]("msgtest_progress")

// say prints a marker line for a test process reading a worker's output.
func say(format string, args ...any) {
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}

// SleepFor sleeps for ms milliseconds with dbos.Sleep and returns when it
// woke, in Unix milliseconds. It announces "sleeping" before it sleeps.
//
//dbos:workflow
func SleepFor(ctx context.Context, ms int) (int64, error) {
	say("sleeping")
	if err := dbos.Sleep(ctx, time.Duration(ms)*time.Millisecond); err != nil {
		if sleepReturned != nil {
			sleepReturned <- err
		}
		return 0, err
	}
	return time.Now().UnixMilli(), nil
}

// sleepReturned, when set by a test, receives the error SleepFor's Sleep
// returned.
var sleepReturned chan error

// Receive3 receives three messages on Inbox and returns them in order,
// announcing "got <message>" after each.
//
//dbos:workflow
func Receive3(ctx context.Context) ([]string, error) {
	var got []string
	for range 3 {
		m, ok, err := Inbox.Recv(ctx, time.Hour) // longer than any test
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("no message within an hour after %q", got)
		}
		say("got %s", m)
		got = append(got, m)
	}
	return got, nil
}

// RecvOnce receives one message on Inbox within timeoutMs, announcing
// "receiving" first; it returns "timeout" when none came.
//
//dbos:workflow
func RecvOnce(ctx context.Context, timeoutMs int) (string, error) {
	say("receiving")
	m, ok, err := Inbox.Recv(ctx, time.Duration(timeoutMs)*time.Millisecond)
	if err != nil {
		return "", err
	}
	if !ok {
		return "timeout", nil
	}
	return m, nil
}

// RecvNumber receives one message on Numbers (an int).
//
//dbos:workflow
func RecvNumber(ctx context.Context) (int, error) {
	n, _, err := Numbers.Recv(ctx, time.Minute)
	return n, err
}

// SendTo sends message to workflow dest on Inbox, as a step of this
// workflow.
//
//dbos:workflow
func SendTo(ctx context.Context, dest, message string) error {
	return Inbox.Send(ctx, dest, message)
}

// Publish sets Progress to value, then to value+" done", and returns.
//
//dbos:workflow
func Publish(ctx context.Context, value string) error {
	if err := Progress.Set(ctx, value); err != nil {
		return err
	}
	return Progress.Set(ctx, value+" done")
}

// Noop does nothing: a workflow to send messages to.
//
//dbos:workflow
func Noop(ctx context.Context) error { return nil }

// SleepInStep calls dbos.Sleep from a step's body, where it is not
// allowed.
//
//dbos:step
func SleepInStep(ctx context.Context) error {
	return dbos.Sleep(ctx, time.Millisecond)
}

// CallSleepInStep runs SleepInStep.
//
//dbos:workflow
func CallSleepInStep(ctx context.Context) error {
	return RunSleepInStep(ctx)
}

// ReceiveN receives n messages on Inbox and returns how many it received.
//
//dbos:workflow
func ReceiveN(ctx context.Context, n int) (int, error) {
	for i := range n {
		if _, ok, err := Inbox.Recv(ctx, time.Minute); err != nil || !ok {
			return i, fmt.Errorf("message %d of %d: ok %v, %w", i+1, n, ok, err)
		}
	}
	return n, nil
}
