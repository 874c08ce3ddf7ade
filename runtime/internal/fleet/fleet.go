// Package fleet says why work waits: from what the live executors recorded
// about themselves with their leases (store.Executor: their application
// version, the functions they register with their fingerprints, the
// queues they run), whether any of them can run a workflow, and if none
// can, why not. Read when a status is read and by the heartbeat's
// warnings, never on a hot path.
package fleet

import (
	"fmt"
	"slices"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Why returns why w waits for an executor that can run it, given the live
// executors, or "" when it does not: it is finished, runs under a live
// executor, or one of live can run it (claim it, or take it over).
//
// An ENQUEUED workflow needs a live executor that runs its queue,
// registers its function with its fingerprint and, when it started
// before, runs the version it started under. A PENDING workflow whose
// executor is not live (dead, or none: released) needs the same without
// the queue (a queued one goes back to its queue first, at the next
// takeover of any executor).
func Why(w store.Workflow, live []store.Executor) string {
	switch w.State {
	case store.StateEnqueued:
	case store.StatePending:
		if w.ExecutorID != "" && slices.ContainsFunc(live, func(e store.Executor) bool { return e.ID == w.ExecutorID }) {
			return ""
		}
	default:
		return ""
	}
	where := ""
	candidates := live
	if w.Queue != "" {
		where = fmt.Sprintf(" running queue %q", w.Queue)
		candidates = keep(candidates, func(e store.Executor) bool { return slices.Contains(e.Queues, w.Queue) })
		if len(candidates) == 0 {
			return fmt.Sprintf("no live executor runs queue %q", w.Queue)
		}
	}
	candidates = keep(candidates, func(e store.Executor) bool { _, ok := e.Functions[w.Name]; return ok })
	if len(candidates) == 0 {
		return fmt.Sprintf("no live executor%s registers %s", where, w.Name)
	}
	if w.Signature != "" {
		candidates = keep(candidates, func(e store.Executor) bool { return e.Functions[w.Name] == w.Signature })
		if len(candidates) == 0 {
			return fmt.Sprintf("no live executor%s registers %s with this signature (the call's input was encoded for other parameters)", where, w.Name)
		}
	}
	if w.AppVersion != "" {
		candidates = keep(candidates, func(e store.Executor) bool { return e.AppVersion == w.AppVersion })
		if len(candidates) == 0 {
			return fmt.Sprintf("no live executor of version %s%s registers %s (it started under version %s)", w.AppVersion, where, w.Name, w.AppVersion)
		}
	}
	return ""
}

// keep returns the executors of es for which ok holds.
func keep(es []store.Executor, ok func(store.Executor) bool) []store.Executor {
	var out []store.Executor
	for _, e := range es {
		if ok(e) {
			out = append(out, e)
		}
	}
	return out
}
