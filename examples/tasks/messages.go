package tasks

import (
	"context"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// Approval is a reviewer's decision about an order, sent to the order's
// workflow on the Approvals topic.
type Approval struct {
	Approved bool   `json:"approved"`
	By       string `json:"by"`
}

// Approvals is the topic reviewers send their decisions on, to the ID of
// the Order workflow they decide.
var Approvals = dbos.NewTopic[Approval]("approvals")

// OrderStatus is the event an Order workflow publishes as it goes, for
// anyone who knows its ID to read.
var OrderStatus = dbos.NewEvent[string]("order_status")

// Order publishes the status "awaiting approval", waits up to wait for a
// decision on Approvals, publishes the outcome ("approved by X",
// "rejected by X" or "expired") and returns it. The wait is durable: after
// a crash the workflow waits only what was left of it, and a decision
// received before the crash is not lost.
//
//dbos:workflow
func Order(ctx context.Context, item string, wait time.Duration) (string, error) {
	if err := OrderStatus.Set(ctx, "awaiting approval"); err != nil {
		return "", err
	}
	a, ok, err := Approvals.Recv(ctx, wait)
	if err != nil {
		return "", err
	}
	status := "expired"
	switch {
	case ok && a.Approved:
		status = "approved by " + a.By
	case ok:
		status = "rejected by " + a.By
	}
	if err := OrderStatus.Set(ctx, status); err != nil {
		return "", err
	}
	return item + ": " + status, nil
}

// Remind sleeps for after, durably (a crash does not restart the wait),
// then returns a reminder of note.
//
//dbos:workflow
func Remind(ctx context.Context, after time.Duration, note string) (string, error) {
	if err := dbos.Sleep(ctx, after); err != nil {
		return "", err
	}
	return "reminder: " + note, nil
}
