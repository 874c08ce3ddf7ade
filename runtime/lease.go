package dbos

import (
	"context"
	"time"
)

// leaseLoop renews this executor's lease and takes over the work of
// executors whose lease expired, every LeaseDuration/5.
func (rt *Runtime) leaseLoop() {
	defer rt.loops.Done()
	t := time.NewTicker(rt.cfg.LeaseDuration / 5)
	defer t.Stop()
	lease := leaseState{lastRenewed: time.Now()} // Launch renewed it
	for {
		select {
		case <-rt.stopCh:
			return
		case <-t.C:
			rt.heartbeat(&lease)
		}
	}
}

// leaseState is what the heartbeat remembers between beats.
type leaseState struct {
	lastRenewed time.Time // the last successful renewal
	quietUntil  time.Time // no takeovers before this
}

// heartbeat renews the lease, then takes over the PENDING workflows of dead
// executors: queued ones are back on their queues (this process's
// dispatchers are woken; others' by the notification or their poll), the
// others run here, each resuming from its checkpoints.
//
// After this executor missed a beat (the database was down, or the process
// stalled), other executors may have missed theirs for the same reason and
// let their leases lapse although they are alive: it takes over nothing
// until one more lease has passed, by which time the live ones have renewed.
func (rt *Runtime) heartbeat(lease *leaseState) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(rt.runCtx), rt.cfg.LeaseDuration)
	defer cancel()
	if err := rt.store.RenewLease(ctx, rt.executorID, rt.cfg.LeaseDuration); err != nil {
		rt.log.Warn("dbos: renew executor lease failed", "executor_id", rt.executorID, "err", err)
		return
	}
	now := time.Now()
	if now.Sub(lease.lastRenewed) >= 2*rt.cfg.LeaseDuration/5 { // a beat was missed
		lease.quietUntil = now.Add(rt.cfg.LeaseDuration)
		rt.log.Info("dbos: lease renewed after a gap; no takeovers for one lease", "gap", now.Sub(lease.lastRenewed))
	}
	lease.lastRenewed = now
	rt.stopDisowned(ctx)
	if now.Before(lease.quietUntil) {
		return
	}
	dead, moved, err := rt.store.TakeOverExpired(ctx, rt.executorID)
	if err != nil {
		rt.log.Warn("dbos: take over expired executors failed", "err", err)
		return
	}
	if len(dead) == 0 {
		return
	}
	rt.log.Info("dbos: took over the work of executors whose lease expired", "executors", dead, "workflows", len(moved))
	for _, w := range moved {
		rt.schedule(w)
	}
}

// stopDisowned cancels the context of every workflow running here that this
// executor no longer owns: cancelled from another process (where no
// notification reached this one, as on SQLite) or taken over after this
// executor's lease lapsed. Such a run would be refused at its next
// checkpoint anyway; this ends it sooner.
func (rt *Runtime) stopDisowned(ctx context.Context) {
	var running []string
	rt.active.Range(func(id, _ any) bool {
		running = append(running, id.(string))
		return true
	})
	if len(running) == 0 {
		return
	}
	owned, err := rt.store.OwnedWorkflows(ctx, rt.executorID, running)
	if err != nil {
		rt.log.Warn("dbos: check running workflows failed", "err", err)
		return
	}
	still := make(map[string]bool, len(owned))
	for _, id := range owned {
		still[id] = true
	}
	for _, id := range running {
		if !still[id] {
			rt.log.Info("dbos: stopping a workflow this executor no longer owns", "workflow_id", id)
			rt.stopRunning(id)
		}
	}
}
