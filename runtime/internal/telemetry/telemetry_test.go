package telemetry

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// exercise makes every call the executor makes on its hot path: an
// enqueue's span and count, a claim's queue wait, a run with a step, and
// its outcome.
func exercise(t *Telemetry) {
	ctx := context.Background()
	send := t.Send(ctx, OpEnqueue, "pkg.F", "q", "wf-1", 1)
	_ = send.TraceContext()
	send.End(nil)
	t.Enqueued("q", "pkg.F", 1)
	t.QueueWait("q", "pkg.F", time.Millisecond)
	run := t.StartRun("q", "pkg.F", "wf-1", 1, send.TraceContext())
	run.Begin()
	rctx := run.Context(ctx)
	sctx, step := t.StartStep(rctx, "wf-1", 1, "pkg.S")
	t.Attempts(sctx, 1)
	step.End(nil)
	run.End(store.StateSuccess, true, nil)
}

// TestNothingListensNothingCosts: with otel's global providers while none
// is set (the default), and with no-op providers, the hot path's calls
// allocate nothing and hand the store no trace context.
func TestNothingListensNothingCosts(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("the global providers are set in this process")
	}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"global", Config{}},
		{"global given", Config{TracerProvider: otel.GetTracerProvider(), MeterProvider: otel.GetMeterProvider()}},
		{"noop", Config{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tc := tel.Send(context.Background(), OpStart, "pkg.F", "", "wf", 1).TraceContext(); tc != "" {
				t.Errorf("trace context %q, want none", tc)
			}
			if n := testing.AllocsPerRun(100, func() { exercise(tel) }); n != 0 {
				t.Errorf("%v allocations per enqueue and run, want 0", n)
			}
		})
	}
}

// childEnv marks the test process TestFollowsGlobalProviders re-executes.
const childEnv = "DBOS_TELEMETRY_TEST_CHILD"

// TestFollowsGlobalProviders: telemetry made before any global provider is
// set records to the providers otel.SetTracerProvider and
// otel.SetMeterProvider set later. (In a process of its own: the global
// providers cannot be unset.)
func TestFollowsGlobalProviders(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFollowsGlobalProviders$", "-test.v")
		cmd.Env = append(os.Environ(), childEnv+"=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	tel, err := New(Config{ExecutorID: "exec-1"})
	if err != nil {
		t.Fatal(err)
	}
	exercise(tel) // not recorded: nothing set yet

	spans := tracetest.NewInMemoryExporter()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)))
	reader := sdkmetric.NewManualReader()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	exercise(tel)

	if got := len(spans.GetSpans()); got != 3 {
		t.Errorf("%d spans, want 3 (enqueue, run, step)", got)
	}
	if got := counter(t, reader, MetricSucceeded, nil); got != 1 {
		t.Errorf("succeeded = %d, want 1", got)
	}
}

// TestSpans: the spans of an enqueue, a run and a step, with their kinds,
// parents, attributes, errors and retries.
func TestSpans(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	tel, err := New(Config{TracerProvider: tp, MeterProvider: metricnoop.NewMeterProvider(), ExecutorID: "exec-1", AppVersion: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	// The enqueuer's own span, whose trace the enqueue joins.
	ctx, outer := tp.Tracer("test").Start(context.Background(), "handler")
	send := tel.Send(ctx, OpEnqueue, "example.com/app/tasks.Process", "emails", "wf-1", 1)
	send.End(nil)
	outer.End()
	stored := send.TraceContext()
	if stored == "" {
		t.Fatal("no trace context to store")
	}

	// Another process runs it, from the row.
	run := tel.StartRun("emails", "example.com/app/tasks.Process", "wf-1", 2, stored)
	run.Begin()
	rctx := run.Context(context.Background())
	sctx, step := tel.StartStep(rctx, "wf-1", 1, "example.com/app/tasks.Send")
	boom := errors.New("smtp: 421")
	tel.Retry(sctx, 1, boom)
	tel.Attempts(sctx, 2)
	step.End(nil)
	run.End(store.StateError, true, boom)

	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans.GetSpans() {
		byName[s.Name] = s
	}
	enq, ok1 := byName["enqueue Process"]
	rs, ok2 := byName["run Process"]
	ss, ok3 := byName["step Send"]
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("spans %v, want enqueue Process, run Process, step Send", names(spans.GetSpans()))
	}
	traceID := outer.SpanContext().TraceID()
	for _, s := range []tracetest.SpanStub{enq, rs, ss} {
		if s.SpanContext.TraceID() != traceID {
			t.Errorf("%s: trace %s, want the enqueuer's %s", s.Name, s.SpanContext.TraceID(), traceID)
		}
	}
	if enq.Parent.SpanID() != outer.SpanContext().SpanID() || rs.Parent.SpanID() != enq.SpanContext.SpanID() || ss.Parent.SpanID() != rs.SpanContext.SpanID() {
		t.Error("want handler -> enqueue -> run -> step")
	}
	if !rs.Parent.IsRemote() {
		t.Error("the run's parent is not remote: it was not restored from the stored context")
	}
	kinds := map[string]trace.SpanKind{enq.Name: enq.SpanKind, rs.Name: rs.SpanKind, ss.Name: ss.SpanKind}
	if kinds[enq.Name] != trace.SpanKindProducer || kinds[rs.Name] != trace.SpanKindConsumer || kinds[ss.Name] != trace.SpanKindInternal {
		t.Errorf("kinds %v, want producer, consumer, internal", kinds)
	}
	wantAttrs(t, enq, map[attribute.Key]attribute.Value{
		MessagingSystem:        attribute.StringValue("dbos"),
		MessagingOperationType: attribute.StringValue("send"),
		MessagingDestination:   attribute.StringValue("emails"),
		WorkflowID:             attribute.StringValue("wf-1"),
		WorkflowName:           attribute.StringValue("example.com/app/tasks.Process"),
		ExecutorID:             attribute.StringValue("exec-1"),
		AppVersion:             attribute.StringValue("v1"),
	})
	wantAttrs(t, rs, map[attribute.Key]attribute.Value{
		MessagingOperationType: attribute.StringValue("process"),
		MessagingDestination:   attribute.StringValue("emails"),
		WorkflowAttempt:        attribute.IntValue(2),
		WorkflowState:          attribute.StringValue(store.StateError),
	})
	if rs.Status.Code != codes.Error || rs.Status.Description != "smtp: 421" || len(rs.Events) != 1 || rs.Events[0].Name != "exception" {
		t.Errorf("run: status %+v, events %+v; want an error status and an exception event", rs.Status, rs.Events)
	}
	wantAttrs(t, ss, map[attribute.Key]attribute.Value{StepID: attribute.IntValue(1), StepAttempts: attribute.IntValue(2)})
	if len(ss.Events) != 1 || ss.Events[0].Name != RetryEvent || ss.Status.Code == codes.Error {
		t.Errorf("step: status %+v, events %+v; want one retry and no error", ss.Status, ss.Events)
	}
}

// TestTraceContextRoundTrip: a span's traceparent and tracestate survive
// the row; an invalid stored context gives a root span.
func TestTraceContextRoundTrip(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3},
		SpanID:     trace.SpanID{4, 5, 6},
		TraceFlags: trace.FlagsSampled,
	})
	ts, err := trace.ParseTraceState("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
	if err != nil {
		t.Fatal(err)
	}
	sc = sc.WithTraceState(ts)
	stored := encode(trace.ContextWithSpanContext(context.Background(), sc))
	want := "00-01020300000000000000000000000000-0405060000000000-01 rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
	if stored != want {
		t.Fatalf("stored %q, want %q", stored, want)
	}
	back := trace.SpanContextFromContext(decode(stored))
	if !back.IsRemote() || back.TraceID() != sc.TraceID() || back.SpanID() != sc.SpanID() || back.TraceState().String() != ts.String() || !back.IsSampled() {
		t.Errorf("decoded %+v, want %+v", back, sc)
	}
	for _, bad := range []string{"", "garbage", "00-zz-yy-01"} {
		if sc := trace.SpanContextFromContext(decode(bad)); sc.IsValid() {
			t.Errorf("decode(%q) = %+v, want no span", bad, sc)
		}
	}
}

// TestMetrics: the counters by queue, function and state, and the
// histograms.
func TestMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	tel, err := New(Config{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
	if err != nil {
		t.Fatal(err)
	}
	tel.Enqueued("q", "pkg.F", 3)
	tel.Enqueued("", "pkg.G", 1)
	for _, state := range []string{store.StateSuccess, store.StateSuccess, store.StateError, store.StateDeadLetter, store.StateCancelled} {
		tel.QueueWait("q", "pkg.F", 2*time.Second)
		run := tel.StartRun("q", "pkg.F", "wf", 1, "")
		run.Begin()
		run.End(state, true, nil)
	}
	run := tel.StartRun("q", "pkg.F", "wf", 1, "")
	run.Begin()
	run.End(store.StateSuccess, false, nil) // not recorded: not counted
	tel.Cancelled("q", "pkg.F")

	f := attribute.NewSet(WorkflowName.String("pkg.F"), MessagingDestination.String("q"))
	for _, tc := range []struct {
		name  string
		attrs *attribute.Set
		want  int64
	}{
		{MetricEnqueued, &f, 3},
		{MetricEnqueued, ptr(attribute.NewSet(WorkflowName.String("pkg.G"))), 1},
		{MetricStarted, &f, 6},
		{MetricSucceeded, &f, 2},
		{MetricFailed, ptr(attribute.NewSet(WorkflowName.String("pkg.F"), MessagingDestination.String("q"), WorkflowState.String(store.StateError))), 1},
		{MetricFailed, ptr(attribute.NewSet(WorkflowName.String("pkg.F"), MessagingDestination.String("q"), WorkflowState.String(store.StateDeadLetter))), 1},
		{MetricCancelled, &f, 2},
	} {
		if got := counter(t, reader, tc.name, tc.attrs); got != tc.want {
			t.Errorf("%s %v = %d, want %d", tc.name, tc.attrs.ToSlice(), got, tc.want)
		}
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{MetricQueueWait, MetricDuration} {
		h, ok := find(rm, name).Data.(metricdata.Histogram[float64])
		if !ok || len(h.DataPoints) != 1 {
			t.Fatalf("%s: %+v", name, find(rm, name))
		}
		if dp := h.DataPoints[0]; dp.Count != 5 || find(rm, name).Unit != "s" {
			t.Errorf("%s: count %d unit %q, want 5 in seconds", name, dp.Count, find(rm, name).Unit)
		}
	}
	if h := find(rm, MetricQueueWait).Data.(metricdata.Histogram[float64]); h.DataPoints[0].Sum != 10 {
		t.Errorf("queue wait sum %v, want 10 (5 waits of 2s)", h.DataPoints[0].Sum)
	}
}

// TestGauges: one read per collection observes both gauges of every
// queue; after Close nothing is read.
func TestGauges(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	reads := 0
	depth := int64(4)
	tel, err := New(Config{
		TracerProvider: tracenoop.NewTracerProvider(),
		MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
		Queues: func(context.Context) ([]QueueCounts, error) {
			reads++
			return []QueueCounts{{Queue: "a", Enqueued: depth, Pending: 2}, {Queue: "b"}}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := attribute.NewSet(MessagingDestination.String("a"))
	b := attribute.NewSet(MessagingDestination.String("b"))
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	if reads != 1 {
		t.Errorf("%d reads in one collection, want 1", reads)
	}
	for _, tc := range []struct {
		name  string
		attrs attribute.Set
		want  int64
	}{{MetricDepth, a, 4}, {MetricRunning, a, 2}, {MetricDepth, b, 0}, {MetricRunning, b, 0}} {
		if got, ok := gauge(rm, tc.name, tc.attrs); !ok || got != tc.want {
			t.Errorf("%s %v = %d (found %v), want %d", tc.name, tc.attrs.ToSlice(), got, ok, tc.want)
		}
	}
	if err := tel.Close(); err != nil {
		t.Fatal(err)
	}
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	if reads != 1 {
		t.Errorf("read after Close")
	}
}

func ptr[T any](v T) *T { return &v }

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

func wantAttrs(t *testing.T, s tracetest.SpanStub, want map[attribute.Key]attribute.Value) {
	t.Helper()
	got := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		got[kv.Key] = kv.Value
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %v, want %v", s.Name, k, got[k].Emit(), v.Emit())
		}
	}
}

func find(rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m
			}
		}
	}
	return metricdata.Metrics{}
}

// counter reads a counter's value for attrs (nil: the sum of every series).
func counter(t *testing.T, reader *sdkmetric.ManualReader, name string, attrs *attribute.Set) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	sum, _ := find(rm, name).Data.(metricdata.Sum[int64])
	var n int64
	for _, dp := range sum.DataPoints {
		if attrs == nil || dp.Attributes.Equals(attrs) {
			n += dp.Value
		}
	}
	return n
}

func gauge(rm metricdata.ResourceMetrics, name string, attrs attribute.Set) (int64, bool) {
	g, _ := find(rm, name).Data.(metricdata.Gauge[int64])
	for _, dp := range g.DataPoints {
		if dp.Attributes.Equals(&attrs) {
			return dp.Value, true
		}
	}
	return 0, false
}
