package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// The manyqueues workload: manyQueues queues of Concurrency(manyQueueLimit).
const (
	manyQueues     = 100
	manyQueueLimit = 2
)

func init() {
	workloads = append(workloads, &workload{name: "manyqueues", base: 20000, least: 2 * manyQueues,
		backlog: taskNoop, backlogQueue: manyQueueName, run: runManyQueues,
		about: "n no-op tasks already enqueued, spread over 100 queues of Concurrency(2); one worker process runs them all"})
}

// manyQueueName is the queue of task i: the tasks go round the queues.
func manyQueueName(i int) string { return fmt.Sprintf("bench_many_%03d", i%manyQueues) }

// runManyQueues drains the backlog over the 100 queues, then judges how
// evenly they progressed: at the moment half the tasks had completed (by
// the database clock), each queue should have completed its fair share,
// half of its own tasks. "worst queue share" is the least any queue had
// completed then, as % of that fair share (100% is perfectly even).
func runManyQueues(ctx context.Context, c *child) (Values, error) {
	qs := make([]*dbos.Queue, manyQueues)
	for k := range qs {
		qs[k] = dbos.NewQueue(manyQueueName(k), dbos.Concurrency(manyQueueLimit))
	}
	d, err := c.drainBacklog(ctx, qs[0], taskNoop)
	if err != nil {
		return nil, err
	}
	return Values{
		{Name: "tasks/s", Unit: "tasks/s", Value: d.rate()},
		{Name: "worst queue share", Unit: "%", Value: worstQueueShare(d.statuses, manyQueueName)},
		{Name: "reruns", Unit: "tasks", Value: float64(d.reruns)},
	}, nil
}

// worstQueueShare is the least share of its tasks any queue had completed
// when half of all tasks had, as % of half (the fair share). Task i is on
// queue queueOf(i).
func worstQueueShare(sts []dbos.Status, queueOf func(i int) string) float64 {
	ends := make([]time.Time, len(sts))
	total := map[string]int{}
	for i, st := range sts {
		ends[i] = st.CompletedAt
		total[queueOf(i)]++
	}
	slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
	mid := ends[(len(ends)-1)/2]
	done := map[string]int{}
	all := 0
	for i, st := range sts {
		if !st.CompletedAt.After(mid) {
			done[queueOf(i)]++
			all++
		}
	}
	frac := float64(all) / float64(len(sts)) // the fraction of all tasks done at mid
	worst := -1.0
	for q, n := range total {
		share := 100 * float64(done[q]) / (frac * float64(n))
		if worst < 0 || share < worst {
			worst = share
		}
	}
	return worst
}
