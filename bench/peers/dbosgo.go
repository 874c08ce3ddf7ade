package main

import (
	"context"
	"time"

	"github.com/dbos-inc/dbos-transact-golang/dbos"
	_ "github.com/dbos-inc/dbos-transact-golang/dbos/driver/sqlite" // DBOS Go on SQLite
)

// dbosTask is DBOS Go's enqueued unit: a workflow running one checkpointed
// step, the nearest equivalent of enqueueing a dbosgen step.
type dbosTask struct {
	I     int           `json:"i"`
	Sleep time.Duration `json:"sleep"`
}

func dbosWorkflow(ctx dbos.Context, t dbosTask) (int, error) {
	return dbos.RunAsStep(ctx, func(ctx context.Context) (int, error) {
		return t.I, body(ctx, t.Sleep)
	})
}

// dbosSys is a DBOS Go context running one queue.
type dbosSys struct {
	ctx   dbos.Context
	queue dbos.Queue
}

// newDBOS launches DBOS Go on url (a Postgres URL or sqlite:PATH) with one
// queue, polled every poll (its default is 1 s); limit > 0 sets the queue's
// global concurrency.
func newDBOS(ctx context.Context, url string, limit int, poll time.Duration) (*dbosSys, error) {
	dctx, err := dbos.NewContext(ctx, dbos.Config{DatabaseURL: url, AppName: "dbosbench-peers"})
	if err != nil {
		return nil, err
	}
	dbos.RegisterWorkflow(dctx, dbosWorkflow)
	var opts []dbos.QueueOption
	if limit > 0 {
		opts = append(opts, dbos.WithGlobalConcurrency(limit))
	}
	if poll > 0 {
		opts = append(opts, dbos.WithQueueBasePollingInterval(poll))
	}
	q, err := dbos.RegisterQueue(dctx, "bench_queue", opts...)
	if err != nil {
		return nil, err
	}
	if err := dbos.Launch(dctx); err != nil {
		return nil, err
	}
	return &dbosSys{ctx: dctx, queue: q}, nil
}

func (d *dbosSys) enqueue(i int, sleep time.Duration) (dbos.WorkflowHandle[int], error) {
	return dbos.RunWorkflow(d.ctx, dbosWorkflow, dbosTask{I: i, Sleep: sleep}, dbos.WithQueue(d.queue))
}

func (d *dbosSys) close() { _ = dbos.Shutdown(d.ctx, 10*time.Second) }
