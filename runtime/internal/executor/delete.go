package executor

import (
	"context"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// DeleteWorkflows deletes the finished workflows among those f lists (all
// matches when f.Limit is 0), with their steps; see dbos.DeleteWorkflows.
// Call it on an executor from ForRead.
func (e *Executor) DeleteWorkflows(ctx context.Context, f store.ListFilter) (int, error) {
	return e.store.DeleteWorkflows(ctx, f, 0)
}
