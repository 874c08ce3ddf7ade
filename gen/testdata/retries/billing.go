// Package retries is the golden case for the retry and recovery keys:
// retries=, backoff= and max_backoff= on steps, max_recovery= on steps and
// workflows, alone and combined with name=.
package retries

import (
	"context"
	"errors"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

var chargeQueue = dbos.NewQueue("retries_charges", dbos.Concurrency(4))

// Charge is one payment to collect.
type Charge struct {
	Account string `json:"account"`
	Cents   int64  `json:"cents"`
}

// Receipt is what collecting a Charge produced.
type Receipt struct {
	Account string `json:"account"`
	ID      string `json:"id"`
}

var errDeclined = errors.New("declined")

// CallGateway collects one charge from the payment gateway, retrying
// transient failures.
//
//dbos:step retries=5 backoff=100ms max_backoff=5s
func CallGateway(ctx context.Context, c Charge) (Receipt, error) {
	if c.Cents < 0 {
		return Receipt{}, errDeclined
	}
	return Receipt{Account: c.Account, ID: "r-" + c.Account}, nil
}

// Notify sends a receipt by mail; the runtime's default backoff applies.
//
//dbos:step retries=3
func Notify(ctx context.Context, r Receipt) error {
	return nil
}

// Audit records a receipt, with an unusual schedule.
//
//dbos:step name=billing.audit retries=2 backoff=1500ms max_backoff=90m max_recovery=3
func Audit(ctx context.Context, r Receipt) error {
	return nil
}

// Probe is never retried, but it may be recovered once when enqueued or
// started, since it then runs as a one-step workflow.
//
//dbos:step max_recovery=1
func Probe(ctx context.Context) error {
	return nil
}

// Tick waits an odd number of nanoseconds before its one retry.
//
//dbos:step retries=1 backoff=1500ns max_backoff=1s
func Tick(ctx context.Context) error {
	return nil
}

// ChargeAll charges every account on a queue and notifies each.
//
//dbos:workflow max_recovery=10 name=billing.charge
func ChargeAll(ctx context.Context, charges []Charge) ([]Receipt, error) {
	handles := make([]*CallGatewayHandle, 0, len(charges))
	for _, c := range charges {
		h, err := EnqueueCallGateway(ctx, chargeQueue, c)
		if err != nil {
			return nil, err
		}
		handles = append(handles, h)
	}
	receipts := make([]Receipt, 0, len(handles))
	for _, h := range handles {
		r, err := h.GetResult(ctx)
		if err != nil {
			return nil, err
		}
		if err := RunNotify(ctx, r); err != nil {
			return nil, err
		}
		if err := RunAudit(ctx, r); err != nil {
			return nil, err
		}
		receipts = append(receipts, r)
	}
	return receipts, nil
}

// Plain has no keys: its descriptor sets only Name and Kind.
//
//dbos:workflow
func Plain(ctx context.Context) error {
	return nil
}
