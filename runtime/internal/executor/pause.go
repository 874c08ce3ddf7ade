package executor

import (
	"context"
	"fmt"
)

// SetQueuePaused pauses or resumes a queue for every process sharing the
// database; see dbos.PauseQueue and dbos.ResumeQueue. A resume wakes this
// process's dispatcher of the queue and, through the notifier (after the
// commit), every other process's; on SQLite they see it at their next
// poll. Call it on an executor from ForRead.
func (e *Executor) SetQueuePaused(ctx context.Context, name string, paused bool) error {
	was, declared, err := e.store.SetQueuePaused(ctx, name, paused)
	if err != nil {
		return err
	}
	if paused {
		switch {
		case was:
		case declared:
			e.log.Info(fmt.Sprintf("dbos: queue %q paused by executor %s", name, e.executorID), "queue", name, "executor_id", e.executorID)
		default:
			e.log.Info(fmt.Sprintf("dbos: queue %q paused by executor %s before any process declared it", name, e.executorID), "queue", name, "executor_id", e.executorID)
		}
		return nil
	}
	if d := e.queues.Get(name); d != nil {
		d.Wake()
	}
	e.notifier.Enqueued(name)
	if was {
		e.log.Info(fmt.Sprintf("dbos: queue %q resumed by executor %s", name, e.executorID), "queue", name, "executor_id", e.executorID)
	}
	return nil
}
