package storekit

import (
	"errors"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// ErrStepExists is what ReceiveInTx returns to roll back its transaction
// when the receive's step was recorded already: the message stays.
var ErrStepExists = errors.New("step recorded already")

// ReceiveInTx is the body of an engine's ReceiveMessage transaction: take
// deletes and returns the oldest waiting message (ok false when none
// waits); record records a step in the same transaction (the engine's
// fenced step insert). It records also, then st with the message as its
// output. received reports that a message was taken; when st was
// recorded already it returns ErrStepExists, with saved the recorded step,
// so that the caller rolls back (keeping the message) and reports saved.
func ReceiveInTx(take func() (payload []byte, ok bool, err error), record func(store.Step) (store.Step, bool, error), st store.Step, also []store.Step) (saved store.Step, received bool, err error) {
	payload, ok, err := take()
	if err != nil || !ok {
		return store.Step{}, false, err
	}
	for _, a := range also {
		if _, _, err := record(a); err != nil {
			return store.Step{}, false, err
		}
	}
	st.Output = payload
	saved, recorded, err := record(st)
	if err != nil {
		return store.Step{}, false, err
	}
	if !recorded {
		return saved, true, ErrStepExists
	}
	return saved, true, nil
}
