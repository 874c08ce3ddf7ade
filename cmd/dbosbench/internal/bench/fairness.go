package bench

import (
	"context"
	"fmt"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// The fairness workload: one big partition key and fairSmallKeys small
// ones of fairSmallTasks tasks each, on a PartitionConcurrency(2) queue.
const (
	fairnessQueueName = "bench_fairness"
	fairSmallKeys     = 100
	fairSmallTasks    = 5
	fairPartitionCap  = 2
	fairBigKey        = "big"
)

func init() {
	workloads = append(workloads, &workload{name: "fairness", base: 5000 + fairSmallKeys*fairSmallTasks, least: 100 + fairSmallKeys*fairSmallTasks,
		backlog: taskNoop, backlogQueue: func(int) string { return fairnessQueueName }, run: runFairness,
		backlogOpts: func(i, n int) []dbos.EnqueueOption { return []dbos.EnqueueOption{dbos.WithPartitionKey(fairKey(i, n))} },
		about:       "n no-op tasks already enqueued on a PartitionConcurrency(2) queue: all but 500 on one key, enqueued first, then 100 keys of 5"})
}

// fairKey is the partition key of task i of n: the first tasks are the
// big key's, the last fairSmallKeys*fairSmallTasks the small keys', 5 each.
func fairKey(i, n int) string {
	if big := n - fairSmallKeys*fairSmallTasks; i >= big {
		return fmt.Sprintf("small-%03d", (i-big)/fairSmallTasks)
	}
	return fairBigKey
}

// runFairness drains the backlog, then compares the time every small key
// took to finish (from the first start of any task to its key's last
// completion, by the database clock) with the big key's: "worst small key"
// is the slowest small key's time as % of the big key's (goal: at most 10%).
func runFairness(ctx context.Context, c *child) (Values, error) {
	q := dbos.NewQueue(fairnessQueueName, dbos.PartitionConcurrency(fairPartitionCap))
	d, err := c.drainBacklog(ctx, q, taskNoop)
	if err != nil {
		return nil, err
	}
	last := map[string]time.Time{}
	for i, st := range d.statuses {
		if k := fairKey(i, d.n); st.CompletedAt.After(last[k]) {
			last[k] = st.CompletedAt
		}
	}
	big := last[fairBigKey].Sub(d.firstStart)
	var worst time.Duration
	for k, t := range last {
		if k != fairBigKey {
			worst = max(worst, t.Sub(d.firstStart))
		}
	}
	vs := Values{
		{Name: "tasks/s", Unit: "tasks/s", Value: d.rate()},
		{Name: "big key", Unit: "s", Value: big.Seconds()},
		{Name: "worst small key", Unit: "s", Value: worst.Seconds()},
	}
	if big > 0 {
		vs = append(vs, Value{Name: "worst small / big", Unit: "%", Value: 100 * worst.Seconds() / big.Seconds()})
	}
	return append(vs, Value{Name: "reruns", Unit: "tasks", Value: float64(d.reruns)}), nil
}
