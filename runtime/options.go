package dbos

import (
	"fmt"
	"time"
)

// EnqueueOption configures one enqueue or start.
type EnqueueOption func(*enqueueConfig)

type enqueueConfig struct {
	id           string
	priority     int
	dedupID      string
	delay        time.Duration
	timeout      time.Duration
	partitionKey string
	err          error
}

// WithID sets the workflow ID. An ID is an idempotency key: starting or
// enqueueing an ID that exists returns a handle to the existing workflow.
func WithID(id string) EnqueueOption {
	return func(c *enqueueConfig) {
		if id == "" {
			c.setErr(fmt.Errorf("WithID: ID is empty"))
		}
		c.id = id
	}
}

// WithPriority sets the task's priority on its queue: lower numbers run
// first, FIFO within a priority. The default is 0.
func WithPriority(p int) EnqueueOption {
	return func(c *enqueueConfig) { c.priority = p }
}

// WithDeduplicationID rejects the enqueue with ErrDuplicate while another
// task with the same deduplication ID is enqueued or running on the queue.
func WithDeduplicationID(id string) EnqueueOption {
	return func(c *enqueueConfig) {
		if id == "" {
			c.setErr(fmt.Errorf("WithDeduplicationID: ID is empty"))
		}
		c.dedupID = id
	}
}

// WithDelay keeps the task from starting before d has passed.
func WithDelay(d time.Duration) EnqueueOption {
	return func(c *enqueueConfig) {
		if d < 0 {
			c.setErr(fmt.Errorf("WithDelay(%s): must not be negative", d))
		}
		c.delay = d
	}
}

// WithTimeout cancels the task when it runs longer than d from its start;
// GetResult then returns an error matching ErrTimeout.
func WithTimeout(d time.Duration) EnqueueOption {
	return func(c *enqueueConfig) {
		if d <= 0 {
			c.setErr(fmt.Errorf("WithTimeout(%s): must be positive", d))
		}
		c.timeout = d
	}
}

// WithPartitionKey puts the task in a partition of its queue; partition
// limits (PartitionConcurrency, PartitionRateLimit) apply per key.
func WithPartitionKey(key string) EnqueueOption {
	return func(c *enqueueConfig) { c.partitionKey = key }
}

func (c *enqueueConfig) setErr(err error) {
	if c.err == nil {
		c.err = err
	}
}

func newEnqueueConfig(opts []EnqueueOption) (enqueueConfig, error) {
	var c enqueueConfig
	for _, o := range opts {
		o(&c)
	}
	return c, c.err
}
