// Package errsignature has annotated functions whose signatures cannot be
// steps or workflows.
package errsignature

import "context"

// T is a receiver type.
type T struct{}

//dbos:step
func NoContext(n int) error { return nil }

//dbos:step
func ContextSecond(n int, ctx context.Context) error { return nil }

//dbos:step
func NoParams() error { return nil }

//dbos:step
func NoResults(ctx context.Context) {}

//dbos:step
func ErrorFirst(ctx context.Context) (error, int) { return nil, 0 }

//dbos:workflow
func TwoValues(ctx context.Context) (int, string, error) { return 0, "", nil }

//dbos:step
func Variadic(ctx context.Context, names ...string) error { return nil }

//dbos:step
func (T) Method(ctx context.Context) error { return nil }

//dbos:workflow
func Generic[V any](ctx context.Context, v V) (V, error) { return v, nil }

//dbos:step
func init() {}

//dbos:step
func TwoContexts(ctx context.Context, other context.Context) error { return nil }
