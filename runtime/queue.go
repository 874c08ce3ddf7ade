package dbos

import (
	"fmt"
	"sync"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Queue is a named queue of durable tasks. Declare queues at package level
// with NewQueue, like routes: Launch starts a dispatcher for every declared
// queue, and every process that declares a queue of the same name shares it
// through the database, limits included.
type Queue struct {
	name string
	cfg  queueConfig
}

type queueConfig struct {
	concurrency          int
	workerConcurrency    int
	rateLimit            int
	ratePeriod           time.Duration
	partitionConcurrency int
	partitionRateLimit   int
	partitionRatePeriod  time.Duration
	err                  error // first option error, reported by Launch
}

// QueueOption configures a Queue declared with NewQueue.
type QueueOption func(*queueConfig)

// Concurrency caps the number of the queue's tasks running at once across
// every process sharing the database. n must be at least 1. Without it any
// number may run. Concurrency(1) runs tasks strictly one at a time, in order.
func Concurrency(n int) QueueOption {
	return func(c *queueConfig) {
		c.checkCount("Concurrency", n)
		c.concurrency = n
	}
}

// WorkerConcurrency caps the number of the queue's tasks running at once in
// this process. n must be at least 1 and not above Concurrency.
func WorkerConcurrency(n int) QueueOption {
	return func(c *queueConfig) {
		c.checkCount("WorkerConcurrency", n)
		c.workerConcurrency = n
	}
}

// RateLimit allows at most limit task starts in any window of length period,
// across every process, counted from the start times the database records.
func RateLimit(limit int, period time.Duration) QueueOption {
	return func(c *queueConfig) {
		c.checkRate("RateLimit", limit, period)
		c.rateLimit, c.ratePeriod = limit, period
	}
}

// PartitionConcurrency caps the tasks running at once per partition key
// (WithPartitionKey), across every process, so one busy key never holds back
// another. Tasks enqueued without a key share the partition "". n must be
// at least 1.
func PartitionConcurrency(n int) QueueOption {
	return func(c *queueConfig) {
		c.checkCount("PartitionConcurrency", n)
		c.partitionConcurrency = n
	}
}

// PartitionRateLimit allows at most limit starts per partition key in any
// window of length period, across every process.
func PartitionRateLimit(limit int, period time.Duration) QueueOption {
	return func(c *queueConfig) {
		c.checkRate("PartitionRateLimit", limit, period)
		c.partitionRateLimit, c.partitionRatePeriod = limit, period
	}
}

// checkCount records an error for a count option below 1.
func (c *queueConfig) checkCount(option string, n int) {
	if n < 1 {
		c.setErr(fmt.Errorf("%s(%d): must be at least 1", option, n))
	}
}

// checkRate records an error for a rate option out of range.
func (c *queueConfig) checkRate(option string, limit int, period time.Duration) {
	if limit < 1 {
		c.setErr(fmt.Errorf("%s(%d, %s): limit must be at least 1", option, limit, period))
	}
	if period <= 0 {
		c.setErr(fmt.Errorf("%s(%d, %s): period must be positive", option, limit, period))
	}
}

func (c *queueConfig) setErr(err error) {
	if c.err == nil {
		c.err = err
	}
}

func (c *queueConfig) validate() error {
	if c.err != nil {
		return c.err
	}
	if c.concurrency > 0 && c.workerConcurrency > c.concurrency {
		return fmt.Errorf("WorkerConcurrency(%d) is above Concurrency(%d)", c.workerConcurrency, c.concurrency)
	}
	return nil
}

var queues = struct {
	sync.Mutex
	list []*Queue
}{}

// NewQueue declares a queue. Call it at package level; options are checked
// when the runtime launches, and a bad option fails Launch with an error
// naming the queue and the option.
//
// Launch stores the declaration in the database, and every process's claims
// apply the limits stored there. When processes declare the same queue with
// different limits, the newest declaration (the latest Launch) wins for
// every process, and the change is logged.
func NewQueue(name string, opts ...QueueOption) *Queue {
	q := &Queue{name: name}
	for _, o := range opts {
		o(&q.cfg)
	}
	if name == "" {
		q.cfg.setErr(fmt.Errorf("queue name is empty"))
	}
	queues.Lock()
	queues.list = append(queues.list, q)
	queues.Unlock()
	return q
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// declaredQueues returns the declaration of every queue declared so far,
// checking options and that no two declarations share a name.
func declaredQueues() ([]store.QueueConfig, error) {
	queues.Lock()
	defer queues.Unlock()
	seen := map[string]bool{}
	out := make([]store.QueueConfig, 0, len(queues.list))
	for _, q := range queues.list {
		if err := q.cfg.validate(); err != nil {
			return nil, fmt.Errorf("queue %q: %w", q.name, err)
		}
		if seen[q.name] {
			return nil, fmt.Errorf("queue %q is declared twice in this program; declare it once and share the *dbos.Queue", q.name)
		}
		seen[q.name] = true
		out = append(out, q.decl())
	}
	return out, nil
}

// decl is the queue's declaration as the store records it.
func (q *Queue) decl() store.QueueConfig {
	c := q.cfg
	return store.QueueConfig{
		Name:                 q.name,
		Concurrency:          c.concurrency,
		WorkerConcurrency:    c.workerConcurrency,
		RateLimit:            c.rateLimit,
		RatePeriod:           c.ratePeriod,
		PartitionConcurrency: c.partitionConcurrency,
		PartitionRateLimit:   c.partitionRateLimit,
		PartitionRatePeriod:  c.partitionRatePeriod,
	}
}
