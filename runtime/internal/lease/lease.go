// Package lease keeps an executor's lease: a heartbeat that renews it
// (recording what the executor runs), takes over the PENDING work of
// executors whose lease expired (and work released for an executor that
// can run it), stops runs here of workflows this executor no longer owns,
// and now and then warns of work that no live executor can run.
package lease

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/fleet"
	"github.com/dbosgen/dbosgen/runtime/internal/outage"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Keeper keeps one executor's lease.
type Keeper struct {
	Store store.Store
	// Self is what the executor records with its lease: its ID, version,
	// functions and queues.
	Self store.Executor
	// Runs is what the executor runs: takeovers move only those of the
	// orphaned workflows (and the queued ones back to their queues).
	Runs *store.Runs
	// TakeOver says whether the executor takes work over; a client-only
	// one does not.
	TakeOver bool
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
	// Outage, when set, logs failed renewals once per outage (with the
	// executor's other database calls) instead of each one.
	Outage *outage.Tracker
}

// Warnings of waiting work.
const (
	// waitChecksEvery is how many leases pass between two reads of the
	// work that waits (store.WaitingWork).
	waitChecksEvery = 2
	// warnEvery spaces the warnings about one function, version, queue
	// and reason.
	warnEvery = 5 * time.Minute
)

// Run beats until stop closes. The caller renewed the lease just before.
func (k *Keeper) Run(stop <-chan struct{}) {
	t := time.NewTicker(k.Duration / 5)
	defer t.Stop()
	now := time.Now()
	lease := leaseState{lastRenewed: now, nextWaitCheck: now.Add(waitChecksEvery * k.Duration), warned: map[string]time.Time{}}
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
	lastRenewed   time.Time            // the last successful renewal
	quietUntil    time.Time            // no takeovers before this
	nextWaitCheck time.Time            // when to look for work nobody can run
	warned        map[string]time.Time // when each warning about waiting work was last logged
}

// heartbeat renews the lease, then takes over the orphaned PENDING
// workflows (see store.TakeOverExpired): queued ones are back on their
// queues (this process's dispatchers are woken; others' by the
// notification or their poll), the others this executor runs run here,
// each resuming from its checkpoints.
//
// After this executor missed a beat (the database was down, or the process
// stalled), other executors may have missed theirs for the same reason and
// let their leases lapse although they are alive: it takes over nothing
// until one more lease has passed, by which time the live ones have renewed.
func (k *Keeper) heartbeat(lease *leaseState) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(k.Ctx), k.Duration)
	defer cancel()
	if err := k.Store.RenewLease(ctx, k.Self, k.Duration); err != nil {
		if k.Outage != nil {
			k.Outage.Failed(k.Log, "renew the lease of executor "+k.Self.ID, err, k.Duration/5)
		} else {
			k.Log.Warn("dbos: renew executor lease failed", "executor_id", k.Self.ID, "err", err)
		}
		return
	}
	if k.Outage != nil {
		k.Outage.Succeeded(k.Log)
	}
	now := time.Now()
	if now.Sub(lease.lastRenewed) >= 2*k.Duration/5 { // a beat was missed
		lease.quietUntil = now.Add(k.Duration)
		k.Log.Info("dbos: lease renewed after a gap; no takeovers for one lease", "gap", now.Sub(lease.lastRenewed))
	}
	lease.lastRenewed = now
	k.stopDisowned(ctx)
	if now.After(lease.nextWaitCheck) {
		lease.nextWaitCheck = now.Add(waitChecksEvery * k.Duration)
		k.warnWaiting(ctx, lease, now)
	}
	if !k.TakeOver || now.Before(lease.quietUntil) {
		return
	}
	to, err := k.Store.TakeOverExpired(ctx, k.Self.ID, k.Runs)
	if err != nil {
		k.Log.Warn("dbos: take over expired executors failed", "err", err)
		return
	}
	k.logTakeOver(to)
	for _, w := range to.Moved {
		k.Schedule(w)
	}
}

// logTakeOver logs what a takeover did: a warning per executor whose
// workflows it moved, naming them.
func (k *Keeper) logTakeOver(to store.TakeOver) {
	if len(to.Moved) == 0 {
		if len(to.Dead) > 0 {
			k.Log.Info("dbos: executors' leases expired; nothing of theirs for this executor to take over", "executor_id", k.Self.ID, "dead", to.Dead)
		}
		return
	}
	var order []string
	byFrom := map[string][]store.Workflow{}
	for i, w := range to.Moved {
		if _, ok := byFrom[to.From[i]]; !ok {
			order = append(order, to.From[i])
		}
		byFrom[to.From[i]] = append(byFrom[to.From[i]], w)
	}
	for _, from := range order {
		ws := byFrom[from]
		ids := make([]string, len(ws))
		here, queued := 0, 0
		for i, w := range ws {
			ids[i] = w.ID
			if w.State == store.StateEnqueued {
				queued++
			} else {
				here++
			}
		}
		// A dead executor's work is news (a crash); work released for
		// whoever runs it (a client's resume or fork, another version's
		// restart) is routine.
		whose, level := fmt.Sprintf("of executor %s, whose lease expired", from), slog.LevelWarn
		if from == "" {
			whose, level = "that no executor owned (released for an executor that can run them)", slog.LevelInfo
		}
		k.Log.Log(context.Background(), level, fmt.Sprintf("dbos: took over %s %s: %d run here, %d back on their queues", Workflows(len(ws)), whose, here, queued),
			"executor_id", k.Self.ID, "from", from, "workflows", ids)
	}
}

// warnWaiting warns of work that waits for an executor no live one is:
// for each function, version, queue and reason, at most once per
// warnEvery.
func (k *Keeper) warnWaiting(ctx context.Context, lease *leaseState, now time.Time) {
	groups, err := k.Store.WaitingWork(ctx)
	if err != nil {
		k.Log.Warn("dbos: read waiting work failed", "err", err)
		return
	}
	if len(groups) == 0 {
		return
	}
	live, err := k.Store.LiveExecutors(ctx)
	if err != nil {
		k.Log.Warn("dbos: read live executors failed", "err", err)
		return
	}
	for key, at := range lease.warned {
		if now.Sub(at) >= warnEvery {
			delete(lease.warned, key)
		}
	}
	for _, g := range groups {
		why := fleet.Why(g.Workflow(), live)
		if why == "" {
			continue
		}
		key := g.Name + "\x00" + g.AppVersion + "\x00" + g.Queue + "\x00" + why
		if _, ok := lease.warned[key]; ok {
			continue
		}
		lease.warned[key] = now
		verb := "waits"
		if g.Count != 1 {
			verb = "wait"
		}
		k.Log.Warn(fmt.Sprintf("dbos: %s of %s %s: %s", Workflows(g.Count), g.Name, verb, why),
			"name", g.Name, "app_version", g.AppVersion, "queue", g.Queue, "state", g.State, "count", g.Count, "reason", why)
	}
}

// Workflows is "1 workflow" or "n workflows", for logs.
func Workflows(n int) string {
	if n == 1 {
		return "1 workflow"
	}
	return fmt.Sprintf("%d workflows", n)
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
	owned, err := k.Store.OwnedWorkflows(ctx, k.Self.ID, running)
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
			k.Stop(id)
		}
	}
}
