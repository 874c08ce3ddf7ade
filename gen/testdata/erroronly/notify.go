// Package erroronly is the golden case for functions that return only an
// error.
package erroronly

import (
	"context"
	"errors"
)

// Notify sends a message and returns only an error.
//
//dbos:step
func Notify(ctx context.Context, to string, body string) error {
	if to == "" {
		return errors.New("no recipient")
	}
	return nil
}

// Cleanup takes no parameters and returns only an error.
//
//dbos:workflow
func Cleanup(ctx context.Context) error {
	return RunNotify(ctx, "ops", "cleanup done")
}
