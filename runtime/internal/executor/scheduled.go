package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/registry"
	"github.com/dbosgen/dbosgen/runtime/internal/schedule"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/telemetry"
)

// scheduled returns the clocks of the scheduled functions this executor
// registers (none for a client-only one), or an error naming a schedule
// that does not parse.
func (e *Executor) scheduled() (*schedule.Runner, error) {
	if e.cfg.ClientOnly {
		return nil, nil
	}
	var entries []schedule.Entry
	for _, fn := range registry.All() {
		if fn.Schedule == "" {
			continue
		}
		s, err := schedule.Parse(fn.Schedule)
		if err != nil {
			return nil, fmt.Errorf("scheduled workflow %s: %w; fix its //dbos:workflow schedule= and run go generate", fn.Name, err)
		}
		entries = append(entries, schedule.Entry{Name: fn.Name, Schedule: s, Backfill: fn.Backfill})
	}
	if len(entries) == 0 {
		return nil, nil
	}
	return &schedule.Runner{
		Entries:  entries,
		Create:   e.startTicks,
		LastTick: e.store.LastTick,
		Ctx:      e.runCtx,
		Log:      e.log,
		Retry:    e.cfg.PollInterval,
		Launched: time.Now(),
	}, nil
}

// startTicks starts the workflows of a scheduled function at ticks, as
// StartF would (PENDING under this executor, at its version), with one
// insert: the ID of each is the tick's (schedule.ID), so a tick another
// process created already is left as it is, and runs there. It then
// notes the last tick, for backfills.
func (e *Executor) startTicks(ctx context.Context, ent schedule.Entry, ticks []time.Time) (err error) {
	fn, ok := registry.Lookup(ent.Name)
	if !ok {
		return fmt.Errorf("scheduled workflow %s is not registered", ent.Name)
	}
	id := "" // the span's workflow: one, or a batch of backfilled ticks
	if len(ticks) == 1 {
		id = schedule.ID(fn.Name, ticks[0])
	}
	send := e.tel.Send(ctx, telemetry.OpStart, fn.Name, "", id, len(ticks))
	defer func() { send.End(err) }()
	var opts EnqueueOptions
	ps := make([]store.InsertParams, len(ticks))
	for i, at := range ticks {
		input, err := json.Marshal(fn.TickArgs(at))
		if err != nil {
			return fmt.Errorf("encode the input of %s at tick %s: %w", fn.Name, at.Format(time.RFC3339), err)
		}
		ps[i] = opts.row(schedule.ID(fn.Name, at), fn, "", input, e.executorID, e.cfg.AppVersion)
		ps[i].TraceContext = send.TraceContext()
	}
	res, err := e.store.InsertWorkflows(ctx, ps)
	if err != nil {
		return err
	}
	created := 0
	for i, r := range res {
		switch {
		case r.Err != nil:
			e.log.Error(fmt.Sprintf("dbos: cannot start %s at tick %s: %v", fn.Name, ticks[i].Format(time.RFC3339), r.Err), "name", fn.Name, "workflow_id", ps[i].ID)
		case r.Created:
			created++
			e.schedule(r.Workflow)
		case r.Workflow.Name != fn.Name:
			e.log.Error(fmt.Sprintf("dbos: the ID %q of the tick %s of %s is taken by a workflow of %s; that tick does not run", ps[i].ID, ticks[i].Format(time.RFC3339), fn.Name, r.Workflow.Name),
				"name", fn.Name, "workflow_id", ps[i].ID)
		}
	}
	if created == 0 {
		return nil // the processes that created them noted them
	}
	e.tel.Enqueued("", fn.Name, created)
	return e.store.RecordTick(ctx, fn.Name, ticks[len(ticks)-1])
}
