package dbos

import (
	"fmt"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/executor"
)

// EnqueueOption configures one enqueue or start (EnqueueF, StartF,
// EnqueueFBatch).
type EnqueueOption func(*executor.EnqueueOptions)

// WithID sets the workflow ID. An ID is an idempotency key: starting or
// enqueueing an ID that exists returns a handle to the existing workflow.
func WithID(id string) EnqueueOption {
	return func(c *executor.EnqueueOptions) {
		if id == "" {
			c.SetErr(fmt.Errorf("WithID: ID is empty"))
		}
		c.ID = id
	}
}

// WithPriority sets the task's priority on its queue: lower numbers run
// first, FIFO within a priority. The default is 0.
func WithPriority(p int) EnqueueOption {
	return func(c *executor.EnqueueOptions) { c.Priority = p }
}

// WithDeduplicationID rejects the enqueue with ErrDuplicate while another
// task with the same deduplication ID is enqueued or running on the queue.
func WithDeduplicationID(id string) EnqueueOption {
	return func(c *executor.EnqueueOptions) {
		if id == "" {
			c.SetErr(fmt.Errorf("WithDeduplicationID: ID is empty"))
		}
		c.DedupID = id
	}
}

// WithDelay keeps the task from starting before d has passed.
func WithDelay(d time.Duration) EnqueueOption {
	return func(c *executor.EnqueueOptions) {
		if d < 0 {
			c.SetErr(fmt.Errorf("WithDelay(%s): must not be negative", d))
		}
		c.Delay = d
	}
}

// WithTimeout cancels the task when it runs longer than d from its start;
// GetResult then returns an error matching ErrTimeout.
func WithTimeout(d time.Duration) EnqueueOption {
	return func(c *executor.EnqueueOptions) {
		if d <= 0 {
			c.SetErr(fmt.Errorf("WithTimeout(%s): must be positive", d))
		}
		c.Timeout = d
	}
}

// WithPartitionKey puts the task in a partition of its queue; partition
// limits (PartitionConcurrency, PartitionRateLimit) apply per key.
func WithPartitionKey(key string) EnqueueOption {
	return func(c *executor.EnqueueOptions) { c.PartitionKey = key }
}
