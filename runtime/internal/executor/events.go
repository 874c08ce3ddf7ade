package executor

import "github.com/dbosgen/dbosgen/runtime/internal/store"

// eventLoop turns notifications from other processes into local wake-ups:
// an enqueue wakes that queue's dispatcher; a completion wakes the
// workflow's waiters, stops its run here if any (cancelled elsewhere) and,
// on a limited queue, wakes the dispatcher (a slot freed) (the store drops
// this process's own completions and cancels, see store.Store.Events);
// another process's hunger for a queue's tasks makes this one give way; a
// message or an event wakes whoever here waits for it.
func (e *Executor) eventLoop(events <-chan store.Event) {
	for {
		select {
		case <-e.stopCh:
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			switch ev.Kind {
			case store.EventEnqueued:
				if d := e.queues.Get(ev.Queue); d != nil {
					d.Heard()
				}
			case store.EventCompleted:
				// Another process's completion or cancel: the store drops
				// this one's own, acted on already (a run of the workflow
				// here now would be a newer one, resumed since).
				if end := ev.End; end != nil {
					e.waiters.Heard(ev.WorkflowID, func() *store.Workflow {
						return &store.Workflow{ID: ev.WorkflowID, State: end.State, Output: end.Output, Error: end.Error}
					})
				} else {
					e.waiters.Notify(ev.WorkflowID)
				}
				e.stopRunning(ev.WorkflowID) // cancelled elsewhere, if it runs here
				if d := e.queues.Get(ev.Queue); d != nil && d.Limited() {
					d.Wake()
				}
			case store.EventHungry:
				if d := e.queues.Get(ev.Queue); d != nil && !e.notifier.HungerEcho(ev.Queue) {
					d.Yield()
				}
			case store.EventMessage:
				e.inboxes.Notify(ev.WorkflowID)
			case store.EventSet:
				e.events.Notify(ev.WorkflowID)
			case store.EventResync:
				e.notifier.ForgetEchoes()
				e.waiters.NotifyAll()
				e.inboxes.NotifyAll()
				e.events.NotifyAll()
				e.queues.WakeAll()
			}
		}
	}
}
