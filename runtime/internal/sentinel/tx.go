package sentinel

import "errors"

// ErrOtherDatabase is the error of a write in the caller's transaction
// (EnqueueFTx) when that transaction is on another database than the
// runtime's. It is not recorded with steps (EnqueueFTx is refused inside a
// workflow), so it has no code.
var ErrOtherDatabase = errors.New("dbos: the transaction is not on the runtime's database")
