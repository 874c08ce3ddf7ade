// Package names is the golden case for the name= key and for unexported
// functions, whose generated names are unexported too.
package names

import "context"

// Charge is registered under a name of its own.
//
//dbos:step name=billing.charge
func Charge(ctx context.Context, cents int64) (string, error) {
	return "ok", nil
}

// Refund is registered under a quoted name with spaces.
//
//dbos:workflow name="billing refund v2"
func Refund(ctx context.Context, id string) (bool, error) {
	return true, nil
}

// audit is unexported, so its generated names are too.
//
//dbos:step
func audit(ctx context.Context, event string) error {
	return nil
}

// useAudit keeps audit's generated functions used.
func useAudit(ctx context.Context) error {
	return runAudit(ctx, "used")
}
