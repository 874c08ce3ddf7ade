package dbos

import "github.com/dbosgen/dbosgen/runtime/internal/store"

// eventLoop turns notifications from other processes into local wake-ups:
// an enqueue wakes that queue's dispatcher; a completion wakes the
// workflow's waiters, stops its run here if any (cancelled elsewhere) and,
// on a limited queue, wakes the dispatcher (a slot freed), except for the
// echo of a completion or cancel of this process (see notifier.echo);
// another process's hunger for a queue's tasks makes this one give way.
func (rt *Runtime) eventLoop(events <-chan store.Event) {
	defer rt.loops.Done()
	for {
		select {
		case <-rt.stopCh:
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			switch ev.Kind {
			case store.EventEnqueued:
				if d := rt.dispatchers[ev.Queue]; d != nil {
					d.wake()
				}
			case store.EventCompleted:
				rt.waiters.notify(ev.WorkflowID)
				if rt.notifier.echo(ev.WorkflowID) {
					// This process's own completion or cancel, acted on
					// already; a run of the workflow here now is a newer
					// one (resumed since).
					break
				}
				rt.stopRunning(ev.WorkflowID) // cancelled elsewhere, if it runs here
				if d := rt.dispatchers[ev.Queue]; d != nil && d.limited() {
					d.wake()
				}
			case store.EventHungry:
				if d := rt.dispatchers[ev.Queue]; d != nil && !rt.notifier.hungerEcho(ev.Queue) {
					d.yield()
				}
			case store.EventResync:
				rt.notifier.forgetEchoes()
				rt.waiters.notifyAll()
				for _, d := range rt.dispatchers {
					d.wake()
				}
			}
		}
	}
}
