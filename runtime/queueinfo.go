package dbos

import (
	"context"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/executor"
)

// QueueInfo is a queue as an operator sees it, read from the database: the
// limits of its newest declaration by any process, whether it is paused,
// and what its workflows do now.
type QueueInfo struct {
	// Name is the queue's name.
	Name string
	// Declared reports that a process declared the queue (NewQueue, then
	// Launch); DeclaredBy is the executor whose declaration holds, and
	// DeclaredAt when it was made. A queue only enqueued to or paused has
	// no declaration and no limits.
	Declared   bool
	DeclaredBy string
	DeclaredAt time.Time
	// The limits, as the queue options set them; 0 means none.
	Concurrency          int
	WorkerConcurrency    int
	RateLimit            int
	RatePeriod           time.Duration
	PartitionConcurrency int
	PartitionRateLimit   int
	PartitionRatePeriod  time.Duration
	// Paused reports that PauseQueue paused it.
	Paused bool
	// Enqueued counts its ENQUEUED workflows (the depth), Running its
	// PENDING ones.
	Enqueued int
	Running  int
	// StartedLastMinute counts its workflows started in the last minute.
	// StartedInRatePeriod counts those started within the last RatePeriod,
	// the rate limit's use (0 without a rate limit).
	StartedLastMinute   int
	StartedInRatePeriod int
}

// ListQueues returns, by name, every queue that a process declared or
// paused, or that has ENQUEUED or PENDING workflows, with its counts at
// one read of the database. It takes no lock: claims never wait for it.
func ListQueues(ctx context.Context) ([]QueueInfo, error) {
	e, err := executor.ForRead(ctx)
	if err != nil {
		return nil, err
	}
	qs, err := e.ListQueues(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]QueueInfo, len(qs))
	for i, q := range qs {
		out[i] = QueueInfo{
			Name:                 q.Name,
			Declared:             q.DeclaredBy != "",
			DeclaredBy:           q.DeclaredBy,
			DeclaredAt:           q.DeclaredAt,
			Concurrency:          q.Concurrency,
			WorkerConcurrency:    q.WorkerConcurrency,
			RateLimit:            q.RateLimit,
			RatePeriod:           q.RatePeriod,
			PartitionConcurrency: q.PartitionConcurrency,
			PartitionRateLimit:   q.PartitionRateLimit,
			PartitionRatePeriod:  q.PartitionRatePeriod,
			Paused:               q.Paused,
			Enqueued:             q.Enqueued,
			Running:              q.Running,
			StartedLastMinute:    q.StartedLastMinute,
			StartedInRatePeriod:  q.StartedInRatePeriod,
		}
	}
	return out, nil
}
