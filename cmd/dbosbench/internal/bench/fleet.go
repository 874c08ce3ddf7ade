package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// The fleet workload: fleetWorkers worker processes and one producer
// process share one unlimited queue.
const (
	fleetQueueName = "bench_fleet"
	fleetWorkers   = 3
)

// readyLine is what a worker process prints on stdout once its runtime
// runs.
const readyLine = "DBOSBENCH_READY"

func init() {
	workloads = append(workloads, &workload{name: "fleet", base: 10000, least: 3 * producers, run: runFleet, orchestrate: orchestrateFleet,
		engines: []string{EnginePostgres},
		about:   "3 worker processes and a producer process (16 goroutines enqueue n no-op tasks and await them) on one unlimited queue; vs the same in one process"})
}

// orchestrateFleet runs one fleet run: the workers start and report ready,
// the producer enqueues and awaits every task (the timed part), then the
// workers are told to stop (their stdin closes) and report how many tasks
// each ran. Then the same tasks run in one process, producers and queue
// together as in the producers workload, on another fresh database: the
// one-process figure of the same sitting.
func orchestrateFleet(ctx context.Context, o *Options, engine string, spec childSpec, label string) (vs Values, err error) {
	workers := make([]*proc, 0, fleetWorkers)
	defer func() { // on failure, the workers must not outlive the run
		for _, p := range workers {
			p.stdin.Close()
			if err != nil {
				p.cancel()
			}
			_, _ = p.wait()
		}
	}()
	for k := range fleetWorkers {
		s := spec
		s.Role = "work"
		p, err := o.start(ctx, fmt.Sprintf("%s worker %d", label, k+1), s, true)
		if err != nil {
			return nil, err
		}
		workers = append(workers, p)
		select {
		case <-p.ready:
		case <-p.scanned:
			return nil, fmt.Errorf("worker %d exited before it was ready", k+1)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	spec.Role = "measure"
	fleet, err := o.child(ctx, label+" producer", spec)
	if err != nil {
		return nil, fmt.Errorf("producer: %w", err)
	}
	runs := make([]float64, len(workers))
	var errs []error
	for k, p := range workers {
		p.stdin.Close()
		wv, err := p.wait()
		if err != nil {
			errs = append(errs, fmt.Errorf("worker %d: %w", k+1, err))
		}
		for _, v := range wv {
			if v.Name == "ran" {
				runs[k] = v.Value
			}
		}
	}
	workers = nil
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	spec.Role = "single"
	single, err := o.onFreshDatabase(ctx, engine, func(dbURL string) (Values, error) {
		spec.URL = dbURL
		return o.child(ctx, label+" one process", spec)
	})
	if err != nil {
		return nil, fmt.Errorf("one process: %w", err)
	}
	fleetRate, singleRate := valueOf(fleet, "tasks/s"), valueOf(single, "tasks/s")
	fair := float64(spec.N) / fleetWorkers
	least, most := runs[0], runs[0]
	for _, r := range runs {
		least, most = min(least, r), max(most, r)
	}
	vs = Values{
		{Name: "tasks/s", Unit: "tasks/s", Value: fleetRate},
		{Name: "one process tasks/s", Unit: "tasks/s", Value: singleRate},
	}
	if singleRate > 0 {
		vs = append(vs, Value{Name: "% of one process", Unit: "%", Value: 100 * fleetRate / singleRate})
	}
	var total float64
	for _, r := range runs {
		total += r
	}
	return append(vs,
		Value{Name: "least worker share", Unit: "%", Value: 100 * least / fair},
		Value{Name: "most worker share", Unit: "%", Value: 100 * most / fair},
		Value{Name: "reruns", Unit: "tasks", Value: total - float64(spec.N)},
	), nil
}

// runFleet is each fleet process's part, by its role: "work" runs the
// queue until its stdin closes and reports how many tasks it ran;
// "measure" (the producer) runs no queue: it declares the queue only after
// Launch; "single" both produces and runs.
func runFleet(ctx context.Context, c *child) (Values, error) {
	var q *dbos.Queue
	if c.spec.Role != "measure" {
		q = dbos.NewQueue(fleetQueueName)
	}
	if err := c.launch(ctx); err != nil {
		return nil, err
	}
	if c.spec.Role == "work" {
		fmt.Println(readyLine)
		eof := make(chan struct{})
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			close(eof)
		}()
		select {
		case <-eof:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return Values{{Name: "ran", Unit: "tasks", Value: float64(ran.n.Load())}}, nil
	}
	if q == nil {
		q = dbos.NewQueue(fleetQueueName)
	}
	took, err := produceNoops(ctx, q, c.spec.N)
	if err != nil {
		return nil, err
	}
	return Values{{Name: "tasks/s", Unit: "tasks/s", Value: rate(c.spec.N, took)}}, nil
}

// valueOf is the value named name in vs; 0 when absent.
func valueOf(vs Values, name string) float64 {
	for _, v := range vs {
		if v.Name == name {
			return v.Value
		}
	}
	return 0
}
