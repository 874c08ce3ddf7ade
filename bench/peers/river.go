package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// taskArgs is River's job: a no-op, or a sleep of Sleep.
type taskArgs struct {
	I     int           `json:"i"`
	Sleep time.Duration `json:"sleep,omitempty"`
}

func (taskArgs) Kind() string { return "bench_task" }

type taskWorker struct {
	river.WorkerDefaults[taskArgs]
}

func (taskWorker) Work(ctx context.Context, job *river.Job[taskArgs]) error {
	return body(ctx, job.Args.Sleep)
}

// riverSys is a River client working the default queue, with its events
// subscribed so that the run can wait for its jobs.
type riverSys struct {
	pool   *pgxpool.Pool
	client *river.Client[pgx.Tx]
	events <-chan *river.Event
	unsub  func()
}

// riverMaxWorkers is River's MaxWorkers for an unlimited queue, as River's
// own benchmark command sets it.
const riverMaxWorkers = 2000

// newRiver migrates River's schema and starts a client: tuned as River's
// own benchmark command runs it (FetchCooldown 2 ms, FetchPollInterval
// 20 ms). limit > 0 sets MaxWorkers: a limit per client (per process),
// since open-source River has no global concurrency limit.
func newRiver(ctx context.Context, url string, limit int) (*riverSys, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := migrateRiver(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, taskWorker{})
	maxWorkers := riverMaxWorkers
	if limit > 0 {
		maxWorkers = limit
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: maxWorkers}},
		Workers:           workers,
		FetchCooldown:     2 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
	})
	if err != nil {
		pool.Close()
		return nil, err
	}
	events, unsub := client.SubscribeConfig(&river.SubscribeConfig{
		ChanSize: 1 << 20,
		Kinds:    []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed},
	})
	if err := client.Start(ctx); err != nil {
		unsub()
		pool.Close()
		return nil, err
	}
	return &riverSys{pool: pool, client: client, events: events, unsub: unsub}, nil
}

func migrateRiver(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

func (r *riverSys) enqueue(ctx context.Context, i int, sleep time.Duration) error {
	_, err := r.client.Insert(ctx, taskArgs{I: i, Sleep: sleep}, nil)
	return err
}

// await waits for n more jobs to complete.
func (r *riverSys) await(ctx context.Context, n int) error {
	for range n {
		select {
		case ev := <-r.events:
			if ev.Kind != river.EventKindJobCompleted {
				return fmt.Errorf("job %d failed", ev.Job.ID)
			}
		case <-ctx.Done():
			return errors.New("timed out waiting for River's jobs")
		}
	}
	return nil
}

func (r *riverSys) close() {
	r.unsub()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = r.client.Stop(ctx)
	r.pool.Close()
}

// riverBacklog inserts n jobs with InsertMany (1,000 a call) while no
// client works them.
func riverBacklog(ctx context.Context, url string, n int, sleep time.Duration) error {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrateRiver(ctx, pool); err != nil {
		return err
	}
	ins, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return err
	}
	for i := 0; i < n; i += 1000 {
		batch := make([]river.InsertManyParams, 0, 1000)
		for j := i; j < min(i+1000, n); j++ {
			batch = append(batch, river.InsertManyParams{Args: taskArgs{I: j, Sleep: sleep}})
		}
		if _, err := ins.InsertMany(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

// riverSpan reads, from River's table, the first attempt's start and the
// last job's end: the drain's span by the database clock, as dbosbench
// measures its own.
func riverSpan(ctx context.Context, r *riverSys) (time.Duration, error) {
	var first, last time.Time
	err := r.pool.QueryRow(ctx, "SELECT min(attempted_at), max(finalized_at) FROM river_job WHERE state = 'completed'").Scan(&first, &last)
	return last.Sub(first), err
}
