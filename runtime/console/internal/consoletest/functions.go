// Package consoletest holds the annotated functions and queues that the web
// console's tests run: an order workflow with steps of visible length and
// child workflows (with grandchildren) for the workflow page's timeline and
// tree, and a workflow that holds at a gate until the test opens it, so
// that it is still running when the test cancels it.
package consoletest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

// The queues the console's tests own.
var (
	// Orders takes the orders and held jobs: at most 4 run at once across
	// every process, and at most 120 start per minute.
	Orders = dbos.NewQueue("console_orders", dbos.Concurrency(4), dbos.RateLimit(120, time.Minute))
	// Packing takes the children of ProcessOrder, at most 8 at once in each
	// process.
	Packing = dbos.NewQueue("console_packing", dbos.WorkerConcurrency(8))
)

// gates hold workflows until a test opens them.
var gates sync.Map // name -> *gate

type gate struct {
	entered chan struct{} // a workflow reached the gate
	open    chan struct{}
}

// NewGate makes the gate named name. Entered receives once for each
// workflow that reaches it; open lets every workflow at it through.
func NewGate(name string) (entered <-chan struct{}, open func()) {
	g := &gate{entered: make(chan struct{}, 64), open: make(chan struct{})}
	gates.Store(name, g)
	return g.entered, sync.OnceFunc(func() { close(g.open) })
}

// wait holds the calling workflow at the named gate, if a test made it,
// until the gate opens or ctx ends.
func wait(ctx context.Context, name string) error {
	v, ok := gates.Load(name)
	if !ok {
		return nil
	}
	g := v.(*gate)
	g.entered <- struct{}{}
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pause waits for d or until ctx ends: it gives a step a length that the
// workflow page's timeline can show.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Order is the input of ProcessOrder.
type Order struct {
	ID       string   `json:"id"`
	Customer string   `json:"customer"`
	Items    []string `json:"items"`
	// Gate, when a test made it, holds the order after it charged.
	Gate string `json:"gate,omitempty"`
}

// Receipt is what ProcessOrder returns.
type Receipt struct {
	Order  string   `json:"order"`
	Packed []string `json:"packed"`
	Charge string   `json:"charge"`
}

// ProcessOrder validates an order, packs each item in a child workflow on
// Packing, charges the customer, waits at the order's gate (if any) and
// returns the receipt. An item named "fail:X" makes its packing fail with
// the message X, and the order with it.
//
//dbos:workflow
func ProcessOrder(ctx context.Context, o Order) (Receipt, error) {
	if _, err := RunValidate(ctx, o); err != nil {
		return Receipt{}, err
	}
	hs := make([]*PackItemHandle, 0, len(o.Items))
	for _, item := range o.Items {
		h, err := EnqueuePackItem(ctx, Packing, item)
		if err != nil {
			return Receipt{}, err
		}
		hs = append(hs, h)
	}
	r := Receipt{Order: o.ID}
	for _, h := range hs {
		p, err := h.GetResult(ctx)
		if err != nil {
			return Receipt{}, err
		}
		r.Packed = append(r.Packed, p)
	}
	charge, err := RunCharge(ctx, o.Customer, len(o.Items))
	if err != nil {
		return Receipt{}, err
	}
	r.Charge = charge
	if err := wait(ctx, o.Gate); err != nil {
		return Receipt{}, err
	}
	return r, nil
}

// Validate checks an order.
//
//dbos:step
func Validate(ctx context.Context, o Order) (int, error) {
	if len(o.Items) == 0 {
		return 0, errors.New("an order needs at least one item")
	}
	return len(o.Items), pause(ctx, 30*time.Millisecond)
}

// PackItem picks and labels one item.
//
//dbos:workflow
func PackItem(ctx context.Context, item string) (string, error) {
	if _, err := RunPick(ctx, item); err != nil {
		return "", err
	}
	return RunLabel(ctx, item)
}

// Pick takes an item from the shelf.
//
//dbos:step
func Pick(ctx context.Context, item string) (string, error) {
	if msg, ok := strings.CutPrefix(item, "fail:"); ok {
		return "", errors.New(msg)
	}
	return item, pause(ctx, 15*time.Millisecond)
}

// Label labels a picked item.
//
//dbos:step
func Label(ctx context.Context, item string) (string, error) {
	return "boxed " + item, pause(ctx, 5*time.Millisecond)
}

// Charge charges the customer for n items.
//
//dbos:step
func Charge(ctx context.Context, customer string, n int) (string, error) {
	return customer + " charged for " + strings.Repeat("*", n), pause(ctx, 40*time.Millisecond)
}

// Hold runs one step, then waits at the named gate until the test opens it
// (and returns "released") or the workflow is cancelled.
//
//dbos:workflow
func Hold(ctx context.Context, gate string) (string, error) {
	if _, err := RunLabel(ctx, gate); err != nil {
		return "", err
	}
	if err := wait(ctx, gate); err != nil {
		return "", err
	}
	return "released", nil
}
