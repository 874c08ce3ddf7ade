package dbos

import (
	"context"

	"github.com/dbosgen/dbosgen/runtime/internal/executor"
)

// DeleteWorkflows deletes, with their steps, the messages sent to them
// and not received, and their events, the finished workflows
// (SUCCESS, ERROR, CANCELLED, DEAD_LETTER) among those ListWorkflows(ctx,
// f) would return, except that f.Limit 0 means every match, and returns how
// many it deleted. Whatever f says, it never deletes an ENQUEUED or PENDING
// workflow, nor a finished one whose parent (Status.ParentID) is still
// ENQUEUED or PENDING: the parent may still read its result. A deleted
// workflow is gone: WorkflowStatus and Retrieve report ErrNotFound, and a
// dead-lettered or cancelled one can no longer be resumed.
//
// It deletes in transactions of at most 1,000 workflows, which hold no
// queue back; on error, those deleted before it stay deleted. To keep the
// newest workflows of a kind and delete the rest, skip them with f.Offset;
// to delete by age, use f.CompletedBefore (or Config.Retention, which does
// so continuously).
func DeleteWorkflows(ctx context.Context, f ListFilter) (deleted int, err error) {
	e, err := executor.ForRead(ctx)
	if err != nil {
		return 0, err
	}
	return e.DeleteWorkflows(ctx, f.store())
}
