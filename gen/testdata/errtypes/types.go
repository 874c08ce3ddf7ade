// Package errtypes has annotated functions with parameter and result types
// JSON cannot encode, or that do not resolve.
package errtypes

import (
	"context"
	"io"
	"unsafe"
)

// Job has a field JSON cannot encode.
type Job struct {
	Name string
	Done chan bool
	// skipped is unexported, so encoding/json ignores it.
	skipped chan int
	// Ignored is tagged out.
	Ignored func() `json:"-"`
}

// Point is a map key JSON cannot encode.
type Point struct{ X, Y int }

//dbos:step
func Chan(ctx context.Context, ch chan int) error { return nil }

//dbos:step
func Func(ctx context.Context, f func()) error { return nil }

//dbos:step
func Pointer(ctx context.Context, p unsafe.Pointer) error { return nil }

//dbos:step
func Complex(ctx context.Context) (complex128, error) { return 0, nil }

//dbos:step
func Nested(ctx context.Context, jobs []Job) error { return nil }

//dbos:step
func MapKey(ctx context.Context, grid map[Point]string) error { return nil }

//dbos:step
func Unresolved(ctx context.Context, x Missing) error { return nil }

//dbos:step
func UnresolvedImport(ctx context.Context) (nothere.T, error) { return nil, nil }

// Reader returns an interface JSON cannot decode into: a warning.
//
//dbos:step
func Reader(ctx context.Context) (io.Reader, error) { return nil, nil }
