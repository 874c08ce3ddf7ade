// Package errnames has names that collide: two functions registered under
// one name, and a generated name the package already declares.
package errnames

import "context"

//dbos:step name=shared
func First(ctx context.Context) error { return nil }

//dbos:step name=shared
func Second(ctx context.Context) error { return nil }

//dbos:workflow
func Send(ctx context.Context) error { return nil }

// RunSend is declared by the user, but dbosgen generates it for Send.
func RunSend() {}
