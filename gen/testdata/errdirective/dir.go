// Package errdirective has malformed directives.
package errdirective

import "context"

//dbos:stpe
func Typo(ctx context.Context) error { return nil }

//dbos:task
func Unknown(ctx context.Context) error { return nil }

//dbos:step nmae=x
func KeyTypo(ctx context.Context) error { return nil }

//dbos:step timeout=5s
func UnknownKey(ctx context.Context) error { return nil }

//dbos:workflow name
func NoValue(ctx context.Context) error { return nil }

//dbos:workflow name=a name=b
func TwiceKey(ctx context.Context) error { return nil }

//dbos:step name=
func EmptyName(ctx context.Context) error { return nil }

//dbos:step name="open
func OpenQuote(ctx context.Context) error { return nil }

//dbos:step
//dbos:workflow
func Twice(ctx context.Context) error { return nil }
