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
	for {
		select {
		case <-rt.stopCh:
			return
		case <-t.C:
			rt.heartbeat()
		}
	}
}

// heartbeat renews the lease, then takes over the PENDING workflows of dead
// executors: queued ones are back on their queues (this process's
// dispatchers are woken; others' by the notification or their poll), the
// others run here, each resuming from its checkpoints.
func (rt *Runtime) heartbeat() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(rt.runCtx), rt.cfg.LeaseDuration)
	defer cancel()
	if err := rt.store.RenewLease(ctx, rt.executorID, rt.cfg.LeaseDuration); err != nil {
		rt.log.Warn("dbos: renew executor lease failed", "executor_id", rt.executorID, "err", err)
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
		if w.Queue == "" {
			rt.spawn(w)
		} else if d := rt.dispatchers[w.Queue]; d != nil {
			d.wake()
		}
	}
}
