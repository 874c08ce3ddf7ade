package telemetry

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// The instruments' names. Counters and gauges count workflows (unit
// {workflow}); histograms measure seconds. Counters and histograms carry
// MessagingDestination (the queue; absent for a workflow started without
// one) and WorkflowName; failed also WorkflowState (ERROR or DEAD_LETTER);
// the gauges carry MessagingDestination.
const (
	MetricEnqueued  = "dbos.workflows.enqueued"  // workflows created: enqueued on a queue, started, forked
	MetricStarted   = "dbos.workflows.started"   // runs begun, one per attempt (a recovery starts another)
	MetricSucceeded = "dbos.workflows.succeeded" // runs that recorded SUCCESS
	MetricFailed    = "dbos.workflows.failed"    // runs that recorded ERROR or DEAD_LETTER
	MetricCancelled = "dbos.workflows.cancelled" // workflows cancelled by this process (dbos.Cancel) or timed out in its runs
	MetricQueueWait = "dbos.workflow.queue_wait" // from enqueue to the claim that starts it, seconds
	MetricDuration  = "dbos.workflow.duration"   // a run, from its start to its recorded outcome, seconds
	MetricDepth     = "dbos.queue.depth"         // a queue's ENQUEUED workflows, read from the database
	MetricRunning   = "dbos.queue.running"       // a queue's PENDING workflows, read from the database
)

// secondBuckets are the histograms' bucket boundaries, in seconds: from a
// millisecond (a task claimed at once) to an hour (a long backlog).
var secondBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// gaugeTimeout bounds the database read of one collection of the gauges.
const gaugeTimeout = 5 * time.Second

// instruments are the executor's metric instruments, with the attribute
// sets they record, made once per queue and function.
type instruments struct {
	meter                                           metric.Meter
	enqueued, started, succeeded, failed, cancelled metric.Int64Counter
	queueWait, duration                             metric.Float64Histogram
	depth, running                                  metric.Int64ObservableGauge

	mu   sync.RWMutex
	byFn map[seriesKey]*series
}

type seriesKey struct{ queue, name string }

// series are the options that record a measurement of one queue and
// function: built once, so that recording allocates nothing.
type series struct {
	m           *instruments
	add         []metric.AddOption
	record      []metric.RecordOption
	failedError []metric.AddOption // with WorkflowState ERROR
	failedDead  []metric.AddOption // with WorkflowState DEAD_LETTER
}

func newInstruments(m metric.Meter) (*instruments, error) {
	in := &instruments{meter: m, byFn: map[seriesKey]*series{}}
	var err error
	counter := func(name, desc string) metric.Int64Counter {
		if err != nil {
			return nil
		}
		var c metric.Int64Counter
		c, err = m.Int64Counter(name, metric.WithUnit("{workflow}"), metric.WithDescription(desc))
		if err != nil {
			err = fmt.Errorf("telemetry: make counter %s: %w", name, err)
		}
		return c
	}
	histogram := func(name, desc string) metric.Float64Histogram {
		if err != nil {
			return nil
		}
		var h metric.Float64Histogram
		h, err = m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc), metric.WithExplicitBucketBoundaries(secondBuckets...))
		if err != nil {
			err = fmt.Errorf("telemetry: make histogram %s: %w", name, err)
		}
		return h
	}
	gauge := func(name, desc string) metric.Int64ObservableGauge {
		if err != nil {
			return nil
		}
		var g metric.Int64ObservableGauge
		g, err = m.Int64ObservableGauge(name, metric.WithUnit("{workflow}"), metric.WithDescription(desc))
		if err != nil {
			err = fmt.Errorf("telemetry: make gauge %s: %w", name, err)
		}
		return g
	}
	in.enqueued = counter(MetricEnqueued, "Workflows created: enqueued on a queue, started directly or forked.")
	in.started = counter(MetricStarted, "Workflow runs begun, one per attempt: a workflow resumed after a crash starts again.")
	in.succeeded = counter(MetricSucceeded, "Workflow runs that recorded SUCCESS.")
	in.failed = counter(MetricFailed, "Workflow runs that recorded ERROR or DEAD_LETTER (dbos.workflow.state).")
	in.cancelled = counter(MetricCancelled, "Workflows cancelled by this process (dbos.Cancel), or timed out while running here.")
	in.queueWait = histogram(MetricQueueWait, "Time from a workflow's enqueue to the claim that starts it.")
	in.duration = histogram(MetricDuration, "Time a workflow run took, from its start to its recorded outcome.")
	in.depth = gauge(MetricDepth, "Workflows of the queue waiting to start (ENQUEUED), as the database holds them.")
	in.running = gauge(MetricRunning, "Workflows of the queue running (PENDING), as the database holds them.")
	if err != nil {
		return nil, err
	}
	return in, nil
}

// registerGauges registers the callback that observes both gauges with
// one call of read per collection.
func (in *instruments) registerGauges(read func(context.Context) ([]QueueCounts, error)) (metric.Registration, error) {
	r, err := in.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, gaugeTimeout)
		defer cancel()
		counts, err := read(ctx)
		if err != nil {
			return fmt.Errorf("telemetry: read the queues' depths: %w", err)
		}
		for _, c := range counts {
			set := metric.WithAttributeSet(attribute.NewSet(MessagingDestination.String(c.Queue)))
			o.ObserveInt64(in.depth, c.Enqueued, set)
			o.ObserveInt64(in.running, c.Pending, set)
		}
		return nil
	}, in.depth, in.running)
	if err != nil {
		return nil, fmt.Errorf("telemetry: register the queue gauges: %w", err)
	}
	return r, nil
}

// series returns the recording options of queue and function name.
func (in *instruments) series(queue, name string) *series {
	k := seriesKey{queue, name}
	in.mu.RLock()
	s := in.byFn[k]
	in.mu.RUnlock()
	if s != nil {
		return s
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if s := in.byFn[k]; s != nil {
		return s
	}
	attrs := []attribute.KeyValue{WorkflowName.String(name)}
	if queue != "" {
		attrs = append(attrs, MessagingDestination.String(queue))
	}
	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	withState := func(state string) []metric.AddOption {
		return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(append(attrs[:len(attrs):len(attrs)], WorkflowState.String(state))...))}
	}
	s = &series{
		m:           in,
		add:         []metric.AddOption{set},
		record:      []metric.RecordOption{set},
		failedError: withState(store.StateError),
		failedDead:  withState(store.StateDeadLetter),
	}
	in.byFn[k] = s
	return s
}

// Measuring reports whether measurements are recorded now: a caller that
// must work to make one (count a batch's rows) asks first.
func (t *Telemetry) Measuring() bool { return t.metrics() != nil }

// Enqueued counts n workflows of function name created on queue ("" for
// none): enqueued, started or forked.
func (t *Telemetry) Enqueued(queue, name string, n int) {
	if m := t.metrics(); m != nil && n > 0 {
		m.enqueued.Add(context.Background(), int64(n), m.series(queue, name).add...)
	}
}

// Cancelled counts a workflow of function name on queue that this process
// cancelled (dbos.Cancel): a run that then sees its cancellation counts
// nothing (Run.End with recorded false).
func (t *Telemetry) Cancelled(queue, name string) {
	if m := t.metrics(); m != nil {
		m.cancelled.Add(context.Background(), 1, m.series(queue, name).add...)
	}
}

// QueueWait measures how long a workflow of function name waited on queue
// between its enqueue and the claim that starts it.
func (t *Telemetry) QueueWait(queue, name string, wait time.Duration) {
	if m := t.metrics(); m != nil {
		m.queueWait.Record(context.Background(), max(wait, 0).Seconds(), m.series(queue, name).record...)
	}
}
