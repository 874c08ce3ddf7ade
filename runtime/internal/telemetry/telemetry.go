// Package telemetry is the executor's OpenTelemetry glue: the spans of
// enqueues, workflow runs and steps, the trace context a workflow keeps
// from its enqueuer (so that its runs, in any process, join the
// enqueuer's trace), and the metric instruments (counters of workflows by
// outcome, histograms of queue wait and run time, gauges of each queue's
// depth). The executor calls it at a few points.
//
// Cost when nobody listens: with the default providers (otel's global
// ones, while no provider has been set) or no-op ones, every call returns
// at once, allocating nothing, and the trace context it hands the store is
// "" (stored as NULL). A provider set later with otel.SetTracerProvider or
// otel.SetMeterProvider is followed from then on.
package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Scope is the instrumentation scope of the runtime's spans and
// instruments.
const Scope = "github.com/dbosgen/dbosgen/runtime"

// Config says where the telemetry goes and what it describes.
type Config struct {
	// TracerProvider makes the spans; nil: otel's global provider (see
	// the package documentation).
	TracerProvider trace.TracerProvider
	// MeterProvider makes the instruments; nil: otel's global provider.
	MeterProvider metric.MeterProvider
	// ExecutorID and AppVersion are this process's, set on every span.
	ExecutorID string
	AppVersion string
	// Queues reads, for the queue gauges, how many workflows of each queue
	// are ENQUEUED and PENDING: one call per collection. nil: no gauges.
	Queues func(context.Context) ([]QueueCounts, error)
}

// QueueCounts are one queue's workflows by state, for the gauges.
type QueueCounts struct {
	Queue    string
	Enqueued int64 // waiting to start: dbos.queue.depth
	Pending  int64 // running: dbos.queue.running
}

// Telemetry is one executor's spans and instruments. Its methods are safe
// for concurrent use.
type Telemetry struct {
	executorID string
	appVersion string

	// tracer makes the spans; nil when tracing is off for good (a no-op
	// provider was given).
	tracer trace.Tracer
	// tracerGlobal: tracer is otel's global provider's, which traces only
	// once a provider is set (see on).
	tracerGlobal bool

	meter       *instruments // nil when metrics are off for good
	meterGlobal bool         // as tracerGlobal, for the meter
	gauges      metric.Registration
}

// The global providers as otel hands them out before any is set: they
// delegate to the first provider set later, and until then do nothing.
// When one was set already (by an init function that ran before this
// package's), nil: never "unset".
var (
	unsetTracerProvider = unsetGlobal(otel.GetTracerProvider(), "*global.tracerProvider")
	unsetMeterProvider  = unsetGlobal(otel.GetMeterProvider(), "*global.meterProvider")
)

func unsetGlobal(p any, typeName string) any {
	if fmt.Sprintf("%T", p) != typeName {
		return nil
	}
	return p
}

// New makes an executor's telemetry: its tracer, its instruments and the
// callback of the queue gauges. Close unregisters the callback.
func New(cfg Config) (*Telemetry, error) {
	t := &Telemetry{executorID: cfg.ExecutorID, appVersion: cfg.AppVersion}

	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if !isNoopTracerProvider(tp) {
		t.tracer = tp.Tracer(Scope)
		t.tracerGlobal = unsetTracerProvider != nil && any(tp) == unsetTracerProvider
	}

	mp := cfg.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if !isNoopMeterProvider(mp) {
		m, err := newInstruments(mp.Meter(Scope))
		if err != nil {
			return nil, err
		}
		t.meter = m
		t.meterGlobal = unsetMeterProvider != nil && any(mp) == unsetMeterProvider
		if cfg.Queues != nil {
			if t.gauges, err = m.registerGauges(cfg.Queues); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

// Close unregisters the queue gauges' callback: a collection after Close
// reads nothing. Call it before the database closes.
func (t *Telemetry) Close() error {
	if t.gauges == nil {
		return nil
	}
	if err := t.gauges.Unregister(); err != nil {
		return fmt.Errorf("telemetry: unregister the queue gauges: %w", err)
	}
	return nil
}

// tracing returns the tracer when spans are recorded now, else nil: the
// check every span makes first, an atomic load and a comparison.
func (t *Telemetry) tracing() trace.Tracer {
	if t.tracer == nil {
		return nil
	}
	if t.tracerGlobal {
		if tp := otel.GetTracerProvider(); any(tp) == unsetTracerProvider || isNoopTracerProvider(tp) {
			return nil
		}
	}
	return t.tracer
}

// metrics returns the instruments when measurements are recorded now, else
// nil (see tracing).
func (t *Telemetry) metrics() *instruments {
	if t.meter == nil {
		return nil
	}
	if t.meterGlobal {
		if mp := otel.GetMeterProvider(); any(mp) == unsetMeterProvider || isNoopMeterProvider(mp) {
			return nil
		}
	}
	return t.meter
}

func isNoopTracerProvider(tp trace.TracerProvider) bool {
	switch tp.(type) {
	case tracenoop.TracerProvider, *tracenoop.TracerProvider:
		return true
	}
	return false
}

func isNoopMeterProvider(mp metric.MeterProvider) bool {
	switch mp.(type) {
	case metricnoop.MeterProvider, *metricnoop.MeterProvider:
		return true
	}
	return false
}
