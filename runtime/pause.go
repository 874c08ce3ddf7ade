package dbos

import (
	"context"

	"github.com/dbosgen/dbosgen/runtime/internal/executor"
)

// PauseQueue pauses the queue named name in every process sharing the
// database: from their next claim on, no process starts any of its tasks.
// Tasks already running finish; enqueues are accepted and wait as
// ENQUEUED. The pause is stored in the database: it holds across restarts
// and new deployments (a Launch declaring the queue does not clear it)
// until ResumeQueue. Pausing a paused queue changes nothing.
//
// A queue no process has declared yet can be paused too (the pause is
// stored, and the queue starts paused once declared): check the name, as a
// misspelt one pauses nothing that runs. It is not a durable step: called
// in a workflow it runs again when the workflow is replayed.
func PauseQueue(ctx context.Context, name string) error {
	return setQueuePaused(ctx, name, true)
}

// ResumeQueue resumes a queue paused with PauseQueue, in every process
// sharing the database: their dispatchers claim its waiting tasks at once
// (on SQLite, which has no notifications, at their next poll). Resuming a
// queue that is not paused changes nothing.
func ResumeQueue(ctx context.Context, name string) error {
	return setQueuePaused(ctx, name, false)
}

func setQueuePaused(ctx context.Context, name string, paused bool) error {
	e, err := executor.ForRead(ctx)
	if err != nil {
		return err
	}
	return e.SetQueuePaused(ctx, name, paused)
}
