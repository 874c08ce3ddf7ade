package oteltest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/telemetry"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

const (
	squareName = "github.com/dbosgen/dbosgen/runtime/internal/oteltest.Square"
	holdName   = "github.com/dbosgen/dbosgen/runtime/internal/oteltest.Hold"
)

// meter reads a manual reader's measurements.
type meter struct {
	t      *testing.T
	reader *sdkmetric.ManualReader
}

func newMeter(t *testing.T) (*meter, *sdkmetric.MeterProvider) {
	r := sdkmetric.NewManualReader()
	return &meter{t: t, reader: r}, sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
}

func (m *meter) collect() metricdata.ResourceMetrics {
	m.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := m.reader.Collect(context.Background(), &rm); err != nil {
		m.t.Fatal(err)
	}
	return rm
}

func metricOf(rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m
			}
		}
	}
	return metricdata.Metrics{}
}

// count is the value of counter name for a function on a queue.
func (m *meter) count(rm metricdata.ResourceMetrics, name, fn, queue string) int64 {
	want := attribute.NewSet(telemetry.WorkflowName.String(fn), telemetry.MessagingDestination.String(queue))
	sum, _ := metricOf(rm, name).Data.(metricdata.Sum[int64])
	for _, dp := range sum.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Value
		}
	}
	return 0
}

// gauge is the value of a queue gauge for a queue, -1 when not observed.
func (m *meter) gauge(rm metricdata.ResourceMetrics, name, queue string) int64 {
	want := attribute.NewSet(telemetry.MessagingDestination.String(queue))
	g, _ := metricOf(rm, name).Data.(metricdata.Gauge[int64])
	for _, dp := range g.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Value
		}
	}
	return -1
}

// histogramCount is how many measurements histogram name holds for a
// function on a queue.
func (m *meter) histogramCount(rm metricdata.ResourceMetrics, name, fn, queue string) uint64 {
	want := attribute.NewSet(telemetry.WorkflowName.String(fn), telemetry.MessagingDestination.String(queue))
	h, _ := metricOf(rm, name).Data.(metricdata.Histogram[float64])
	for _, dp := range h.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Count
		}
	}
	return 0
}

// TestQueueMetrics: N tasks enqueued on a paused queue show in its depth
// gauge; once the queue is resumed and they ran, the succeeded counter of
// the queue and function reads N, the depth and running gauges read 0,
// and the histograms hold N queue waits and N run times.
func TestQueueMetrics(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testQueueMetrics(t, "sqlite:"+testdb.SQLitePath(t)) })
	t.Run("postgres", func(t *testing.T) { testQueueMetrics(t, testdb.NewPostgresDatabase(t)) })
}

func testQueueMetrics(t *testing.T, url string) {
	const n = 25
	m, mp := newMeter(t)
	rt := launch(t, url, dbos.Config{MeterProvider: mp})
	ctx := testCtx(t, rt)
	queue := Metered.Name()
	if err := dbos.PauseQueue(ctx, queue); err != nil {
		t.Fatal(err)
	}
	handles := make([]*SquareHandle, n)
	for i := range handles {
		h, err := EnqueueSquare(ctx, Metered, i)
		if err != nil {
			t.Fatal(err)
		}
		handles[i] = h
	}
	rm := m.collect()
	if got := m.gauge(rm, telemetry.MetricDepth, queue); got != n {
		t.Errorf("depth of the paused queue = %d, want %d", got, n)
	}
	if got := m.gauge(rm, telemetry.MetricRunning, queue); got != 0 {
		t.Errorf("running on the paused queue = %d, want 0", got)
	}
	if got := m.count(rm, telemetry.MetricEnqueued, squareName, queue); got != n {
		t.Errorf("enqueued = %d, want %d", got, n)
	}

	if err := dbos.ResumeQueue(ctx, queue); err != nil {
		t.Fatal(err)
	}
	for i, h := range handles {
		if r, err := h.GetResult(ctx); err != nil || r != i*i {
			t.Fatalf("Square(%d) = %d, %v", i, r, err)
		}
	}
	// A run counts its outcome once recorded, just after its waiters woke.
	testdb.WaitFor(t, fmt.Sprintf("succeeded to read %d", n), func() bool {
		return m.count(m.collect(), telemetry.MetricSucceeded, squareName, queue) == n
	})
	rm = m.collect()
	for _, c := range []struct {
		name string
		want int64
	}{{telemetry.MetricStarted, n}, {telemetry.MetricFailed, 0}, {telemetry.MetricCancelled, 0}} {
		if got := m.count(rm, c.name, squareName, queue); got != c.want {
			t.Errorf("%s = %d, want %d", c.name, got, c.want)
		}
	}
	for _, name := range []string{telemetry.MetricDepth, telemetry.MetricRunning} {
		if got := m.gauge(rm, name, queue); got != 0 {
			t.Errorf("%s = %d after the tasks ran, want 0", name, got)
		}
	}
	for _, name := range []string{telemetry.MetricQueueWait, telemetry.MetricDuration} {
		if got := m.histogramCount(rm, name, squareName, queue); got != n {
			t.Errorf("%s holds %d measurements, want %d", name, got, n)
		}
	}
}

// TestCancelledCountedOnce: a workflow cancelled before it starts, one
// cancelled while it runs (whose run then stops) and one that times out
// count one cancellation each: the first two where dbos.Cancel cancels
// them, the last where its run records it.
func TestCancelledCountedOnce(t *testing.T) {
	m, mp := newMeter(t)
	rt := launch(t, "sqlite:"+testdb.SQLitePath(t), dbos.Config{MeterProvider: mp})
	ctx := testCtx(t, rt)
	queue := Metered.Name()

	// Before it starts.
	if err := dbos.PauseQueue(ctx, queue); err != nil {
		t.Fatal(err)
	}
	waiting, err := EnqueueSquare(ctx, Metered, 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := dbos.Cancel(ctx, waiting.ID()); err != nil {
		t.Fatal(err)
	}
	if err := dbos.Cancel(ctx, waiting.ID()); err != nil { // finished: changes nothing
		t.Fatal(err)
	}
	if err := dbos.ResumeQueue(ctx, queue); err != nil {
		t.Fatal(err)
	}

	// While it runs.
	running, err := EnqueueHold(ctx, Metered)
	if err != nil {
		t.Fatal(err)
	}
	receive(t, Held, "Hold to start")
	if err := running.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if err := running.GetResult(ctx); !errors.Is(err, dbos.ErrCancelled) {
		t.Fatalf("GetResult = %v, want ErrCancelled", err)
	}

	// Timed out.
	late, err := EnqueueHold(ctx, Metered, dbos.WithTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	receive(t, Held, "Hold to start again")
	if err := late.GetResult(ctx); !errors.Is(err, dbos.ErrTimeout) {
		t.Fatalf("GetResult = %v, want ErrTimeout", err)
	}

	if err := rt.Shutdown(ctx); err != nil { // every run ended and counted
		t.Fatal(err)
	}
	rm := m.collect()
	if got := m.count(rm, telemetry.MetricCancelled, squareName, queue); got != 1 {
		t.Errorf("cancelled Square = %d, want 1", got)
	}
	if got := m.count(rm, telemetry.MetricCancelled, holdName, queue); got != 2 {
		t.Errorf("cancelled Hold = %d, want 2 (one by Cancel, one timed out)", got)
	}
	if got := m.count(rm, telemetry.MetricStarted, holdName, queue); got != 2 {
		t.Errorf("started Hold = %d, want 2", got)
	}
	for _, name := range []string{telemetry.MetricSucceeded, telemetry.MetricFailed} {
		if got := m.count(rm, name, holdName, queue) + m.count(rm, name, squareName, queue); got != 0 {
			t.Errorf("%s = %d, want 0", name, got)
		}
	}
}
