// Package collisions is the golden case for user names that collide with
// what generated code declares or refers to: parameters named like the
// generated locals, a context parameter not named ctx, unnamed and blank
// parameters, and package-level names that shadow imports.
package collisions

import (
	stdcontext "context"
	stdtime "time"
)

// context and time are package-level names, so the generated file must
// import "context" and "time" under other names.
type context struct{}

const time = "noon"

// args is a package-level type named like a generated local.
type args struct {
	N int `json:"n"`
}

// Locals has parameters named like every generated local and import.
//
//dbos:step
func Locals(c stdcontext.Context, q string, tx float32, input []byte, opts []string, h int, err string, result bool, out float64, id string, ctx string, dbos int) (args, error) {
	return args{}, nil
}

// Blank has a blank context, unnamed and blank parameters.
//
//dbos:workflow
func Blank(_ stdcontext.Context, _ int, p0 string, _ stdtime.Duration) (stdtime.Duration, error) {
	return 0, nil
}

// Unnamed has no parameter names at all.
//
//dbos:step
func Unnamed(stdcontext.Context, int, string) error {
	return nil
}

// Shadow has a parameter named like its result type and like a predeclared
// identifier.
//
//dbos:step
func Shadow(ctx stdcontext.Context, args args, string string, len int) (args, error) {
	return args, nil
}

// Fields has parameters whose FArgs field names collide: x and X
// capitalise alike, _x does not become exported, arg4 is named like the
// positional field of the unnamed fifth parameter.
//
//dbos:step
func Fields(ctx stdcontext.Context, arg4 int, x int, X string, _x bool, _ float64) error {
	return nil
}
