package bench

import (
	"context"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// limitedProducers is how many goroutines enqueue in the limitedprod
// workload, while the queue runs.
const limitedProducers = 4

const limitedProdQueueName = "bench_limitedprod"

func init() {
	workloads = append(workloads, &workload{name: "limitedprod", base: 2000, least: 20, run: runLimitedProd,
		about: "4 goroutines enqueue n tasks of 5 ms on a Concurrency(10) queue while it runs, and await them (ideal: 2000 tasks/s)"})
}

// runLimitedProd: like limited, but the tasks arrive while the queue runs,
// from 4 producers in the same process; timed from the first enqueue to the
// last result. "peak running" is the most task bodies that ran at once
// (the limit is 10).
func runLimitedProd(ctx context.Context, c *child) (Values, error) {
	q := dbos.NewQueue(limitedProdQueueName, dbos.Concurrency(limitedConcurrency))
	if err := c.launch(ctx); err != nil {
		return nil, err
	}
	n := c.spec.N
	took, err := produceAndAwait(ctx, n, limitedProducers,
		func(ctx context.Context, i int) (*SleepHandle, error) { return EnqueueSleep(ctx, q, limitedTask) },
		func(ctx context.Context, _ int, h *SleepHandle) error { return h.GetResult(ctx) })
	if err != nil {
		return nil, err
	}
	ideal := float64(limitedConcurrency) / limitedTask.Seconds()
	return Values{
		{Name: "tasks/s", Unit: "tasks/s", Value: rate(n, took)},
		{Name: "% of ideal", Unit: "%", Value: 100 * rate(n, took) / ideal},
		{Name: "peak running", Unit: "tasks", Value: float64(sleeping.peak.Load())},
		{Name: "task body", Unit: "ms", Value: millis(meanSleep())},
	}, nil
}
