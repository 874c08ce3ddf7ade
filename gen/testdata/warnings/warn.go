// Package warnings has comments that look like directives but are not; they
// are warnings, and the valid function is still generated.
package warnings

import "context"

// Real is a real step.
//
//dbos:step
func Real(ctx context.Context) error { return nil }

// dbos:step
func SpaceAfterSlashes(ctx context.Context) error { return nil }

// DBOS:workflow name=x
func UpperCase(ctx context.Context) error { return nil }

// dbos: step
func SpaceAfterColon(ctx context.Context) error { return nil }

// Prose that mentions dbos:step in passing is left alone.
func Prose() {}
