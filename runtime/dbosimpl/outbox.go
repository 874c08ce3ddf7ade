package dbosimpl

import (
	"context"
	"fmt"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/executor"
)

// EnqueueTx writes a call of fn with the encoded input on queue q in tx,
// the caller's own open transaction (see dbos.Tx for the types it may
// have), and returns its handle: the call is enqueued if and only if the
// caller commits tx. Options, workflow-ID idempotency and deduplication
// are Enqueue's. It is refused inside a workflow (use Enqueue there) and
// with a nil q. Generated EnqueueFTx functions encode the arguments and
// call it.
func EnqueueTx(ctx context.Context, tx dbos.Tx, q *dbos.Queue, fn *Function, input []byte, opts ...dbos.EnqueueOption) (Handle, error) {
	e, err := executor.From(ctx)
	if err != nil {
		return Handle{}, err
	}
	if q == nil {
		return Handle{}, fmt.Errorf("enqueue %s in the caller's transaction: the queue is nil; declare one with dbos.NewQueue", fn.Name)
	}
	return handle(e.EnqueueTx(ctx, tx, q.Name(), fn, input, executor.Apply(opts)))
}
