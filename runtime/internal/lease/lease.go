// Package lease keeps an executor's lease: a heartbeat that renews it, takes
// over the PENDING work of executors whose lease expired, and stops runs
// here of workflows this executor no longer owns.
package lease

import (
	"context"
	"log/slog"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Keeper keeps one executor's lease.
type Keeper struct {
	Store      store.Store
	ExecutorID string
	// Duration is how long the executor is presumed alive after each
	// renewal; the heartbeat beats every Duration/5.
	Duration time.Duration
	Log      *slog.Logger
	// Ctx is the executor's run context; the heartbeat's store calls
	// run on context.WithoutCancel(Ctx).
	Ctx context.Context
	// Schedule puts a workflow taken over to work.
	Schedule func(store.Workflow)
	// Running lists the workflows running in this process.
	Running func() []string
	// Stop stops the run here of a workflow the executor no longer owns.
	Stop func(id string)
}

// Run beats until stop closes. The caller renewed the lease just before.
func (k *Keeper) Run(stop <-chan struct{}) {
	t := time.NewTicker(k.Duration / 5)
	defer t.Stop()
	lease := leaseState{lastRenewed: time.Now()}
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			k.heartbeat(&lease)
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
func (k *Keeper) heartbeat(lease *leaseState) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(k.Ctx), k.Duration)
	defer cancel()
	if err := k.Store.RenewLease(ctx, k.ExecutorID, k.Duration); err != nil {
		k.Log.Warn("dbos: renew executor lease failed", "executor_id", k.ExecutorID, "err", err)
		return
	}
	now := time.Now()
	if now.Sub(lease.lastRenewed) >= 2*k.Duration/5 { // a beat was missed
		lease.quietUntil = now.Add(k.Duration)
		k.Log.Info("dbos: lease renewed after a gap; no takeovers for one lease", "gap", now.Sub(lease.lastRenewed))
	}
	lease.lastRenewed = now
	k.stopDisowned(ctx)
	if now.Before(lease.quietUntil) {
		return
	}
	dead, moved, err := k.Store.TakeOverExpired(ctx, k.ExecutorID)
	if err != nil {
		k.Log.Warn("dbos: take over expired executors failed", "err", err)
		return
	}
	if len(dead) == 0 {
		return
	}
	k.Log.Info("dbos: took over the work of executors whose lease expired", "executors", dead, "workflows", len(moved))
	for _, w := range moved {
		k.Schedule(w)
	}
}

// stopDisowned cancels the context of every workflow running here that this
// executor no longer owns: cancelled from another process (where no
// notification reached this one, as on SQLite) or taken over after this
// executor's lease lapsed. Such a run would be refused at its next
// checkpoint anyway; this ends it sooner.
func (k *Keeper) stopDisowned(ctx context.Context) {
	running := k.Running()
	if len(running) == 0 {
		return
	}
	owned, err := k.Store.OwnedWorkflows(ctx, k.ExecutorID, running)
	if err != nil {
		k.Log.Warn("dbos: check running workflows failed", "err", err)
		return
	}
	still := make(map[string]bool, len(owned))
	for _, id := range owned {
		still[id] = true
	}
	for _, id := range running {
		if !still[id] {
			k.Log.Info("dbos: stopping a workflow this executor no longer owns", "workflow_id", id)
			k.Stop(id)
		}
	}
}
