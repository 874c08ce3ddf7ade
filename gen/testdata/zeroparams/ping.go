// Package zeroparams is the golden case for functions with no parameters
// besides the context.
package zeroparams

import "context"

// Ping takes nothing and returns a value.
//
//dbos:step
func Ping(ctx context.Context) (string, error) {
	return "pong", nil
}

// Tick takes nothing and returns only an error.
//
//dbos:workflow
func Tick(ctx context.Context) error {
	_, err := RunPing(ctx)
	return err
}
