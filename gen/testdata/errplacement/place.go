// Package errplacement has directives attached to things that are not
// package-level functions.
package errplacement

import "context"

//dbos:step

func Floating(ctx context.Context) error { return nil }

//dbos:workflow
var handler = func(ctx context.Context) error { return nil }

//dbos:step
type Worker struct{}

var (
	//dbos:step
	grouped = 1
)

func Body(ctx context.Context) error {
	//dbos:step
	return nil
}

//dbos:step
