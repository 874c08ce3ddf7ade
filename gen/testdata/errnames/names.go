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

// SendArgs and EnqueueSendBatch are declared by the user, but dbosgen
// generates them for Send.
type SendArgs struct{}

func EnqueueSendBatch() {}

// Mail and MailBatch both get an EnqueueMailBatch: one for Mail's batch,
// one for enqueueing MailBatch.
//
//dbos:step
func Mail(ctx context.Context) error { return nil }

//dbos:step
func MailBatch(ctx context.Context) error { return nil }

// ForkSend is declared by the user, but dbosgen generates it for Send.
func ForkSend() {}
