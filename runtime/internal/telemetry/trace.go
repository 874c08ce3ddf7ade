package telemetry

import (
	"context"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// Attribute keys. The messaging.* ones are OpenTelemetry's semantic
// conventions for messaging systems (a queue is a destination, an enqueue
// sends, a run processes); the dbos.* ones are the runtime's own.
const (
	MessagingSystem        = attribute.Key("messaging.system")              // always "dbos"
	MessagingOperationType = attribute.Key("messaging.operation.type")      // "send" (producers) or "process" (runs)
	MessagingOperationName = attribute.Key("messaging.operation.name")      // an Op, or "run"
	MessagingDestination   = attribute.Key("messaging.destination.name")    // the queue, when there is one
	MessagingBatchCount    = attribute.Key("messaging.batch.message_count") // the workflows of a batch enqueue
	WorkflowID             = attribute.Key("dbos.workflow.id")              // the workflow's ID
	WorkflowName           = attribute.Key("dbos.workflow.name")            // its function's registered name
	WorkflowAttempt        = attribute.Key("dbos.workflow.attempt")         // the run's attempt: 1, then one more per recovery
	WorkflowState          = attribute.Key("dbos.workflow.state")           // the state the run left it in
	ExecutorID             = attribute.Key("dbos.executor.id")              // the process's executor ID
	AppVersion             = attribute.Key("dbos.app.version")              // the process's application version
	StepID                 = attribute.Key("dbos.step.id")                  // the step's number in its workflow
	StepAttempts           = attribute.Key("dbos.step.attempts")            // calls of a step's body: retries + 1
	StepAttempt            = attribute.Key("dbos.step.attempt")             // on a RetryEvent: the attempt that failed
)

// RetryEvent is the span event of a step's attempt that failed when
// another follows (its retries=), with StepAttempt and exception.message.
const RetryEvent = "dbos.step.retry"

// Op is what a producer span does.
type Op string

// The producers' operations, also the first word of their span names.
const (
	OpEnqueue      Op = "enqueue"       // one workflow put on a queue
	OpEnqueueBatch Op = "enqueue batch" // many, with one call
	OpStart        Op = "start"         // one workflow started directly, in this process
	OpFork         Op = "fork"          // a fork of a workflow
)

// Producer is the span of an enqueue, a start or a fork (SpanKindProducer):
// the zero value when not tracing.
type Producer struct {
	span trace.Span
	tc   string
	op   Op
}

// Send starts the producer span of op for workflow id (or, for a batch, n
// workflows) of function name on queue ("" for none), a child of ctx's
// span. Its TraceContext is what the workflows' rows keep.
func (t *Telemetry) Send(ctx context.Context, op Op, name, queue, id string, n int) Producer {
	tr := t.tracing()
	if tr == nil {
		return Producer{}
	}
	return t.send(ctx, tr, op, name, queue, id, n)
}

// send starts a producer span (see Send).
func (t *Telemetry) send(ctx context.Context, tr trace.Tracer, op Op, name, queue, id string, n int) Producer {
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs,
		MessagingSystem.String("dbos"),
		MessagingOperationType.String("send"),
		MessagingOperationName.String(string(op)),
		ExecutorID.String(t.executorID),
		AppVersion.String(t.appVersion))
	if name != "" {
		attrs = append(attrs, WorkflowName.String(name))
	}
	if queue != "" {
		attrs = append(attrs, MessagingDestination.String(queue))
	}
	if op == OpEnqueueBatch {
		attrs = append(attrs, MessagingBatchCount.Int(n))
	} else {
		attrs = append(attrs, WorkflowID.String(id))
	}
	ctx, span := tr.Start(ctx, spanName(string(op), name), trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	return Producer{span: span, tc: encode(ctx), op: op}
}

// Function names the function and the queue ("" for none) of a producer
// started before they were known (a fork of a workflow given by ID).
func (p Producer) Function(name, queue string) {
	if p.span == nil {
		return
	}
	p.span.SetName(spanName(string(p.op), name))
	p.span.SetAttributes(WorkflowName.String(name))
	if queue != "" {
		p.span.SetAttributes(MessagingDestination.String(queue))
	}
}

// TraceContext returns the producer span's context as a workflow's row
// keeps it (store.InsertParams.TraceContext): "" when not tracing.
func (p Producer) TraceContext() string { return p.tc }

// End ends the span; err, when not nil, is the call's failure.
func (p Producer) End(err error) {
	if p.span == nil {
		return
	}
	if err != nil {
		failed(p.span, err)
	}
	p.span.End()
}

// Run is one run (one attempt) of a workflow: its span (SpanKindConsumer,
// a child of the enqueuer's span) and its measurements. It is small (four
// words) and its methods take it by pointer: the executor keeps it in the
// frame of the run's goroutine, whose stack the deepest calls share.
type Run struct {
	span  trace.Span    // nil when not tracing
	s     *series       // the run's queue and function; nil when not measuring
	begun time.Duration // when Begin counted it started (since clockBase); 0 before
}

// clockBase is the origin of Run.begun: a monotonic reading.
var clockBase = time.Now()

// StartRun starts the span of a run of workflow id (function name, on
// queue, "" for none) at attempt, whose row keeps traceContext: the span
// of the enqueue that made it is its parent, in whatever process that
// ran.
func (t *Telemetry) StartRun(queue, name, id string, attempt int, traceContext string) Run {
	var r Run
	if m := t.metrics(); m != nil {
		r.s = m.series(queue, name)
	}
	if tr := t.tracing(); tr != nil {
		r.span = t.runSpan(tr, queue, name, id, attempt, traceContext)
	}
	return r
}

// runSpan starts a run's span (see StartRun).
func (t *Telemetry) runSpan(tr trace.Tracer, queue, name, id string, attempt int, traceContext string) trace.Span {
	attrs := make([]attribute.KeyValue, 0, 9)
	attrs = append(attrs,
		MessagingSystem.String("dbos"),
		MessagingOperationType.String("process"),
		MessagingOperationName.String("run"),
		WorkflowID.String(id),
		WorkflowName.String(name),
		WorkflowAttempt.Int(attempt),
		ExecutorID.String(t.executorID),
		AppVersion.String(t.appVersion))
	if queue != "" {
		attrs = append(attrs, MessagingDestination.String(queue))
	}
	_, span := tr.Start(decode(traceContext), spanName("run", name), trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
	return span
}

// Context returns ctx carrying the run's span: the spans the workflow's
// code starts (its steps, its enqueues, the user's own) are its children.
func (r *Run) Context(ctx context.Context) context.Context {
	if r.span == nil {
		return ctx
	}
	return trace.ContextWithSpan(ctx, r.span)
}

// Begin counts the run started (dbos.workflows.started) and starts its
// clock (dbos.workflow.duration).
func (r *Run) Begin() {
	if r.s != nil {
		r.s.m.started.Add(context.Background(), 1, r.s.add...)
		r.begun = max(time.Since(clockBase), 1)
	}
}

// Event notes on the run's span what happened to it (an interruption, a
// cancellation seen while running).
func (r *Run) Event(what string) {
	if r.span != nil {
		r.span.AddEvent(what)
	}
}

// End ends the run, which leaves the workflow in state ("" when the run
// did not decide it: interrupted by Shutdown, or no longer its own). err,
// when not nil, is its failure: recorded on the span, with an error
// status. When recorded, the run recorded state as the workflow's outcome:
// it is counted (succeeded, failed or cancelled) and, if the run began,
// its duration measured.
func (r *Run) End(state string, recorded bool, err error) {
	if r.span != nil {
		if state != "" {
			r.span.SetAttributes(WorkflowState.String(state))
		}
		if err != nil {
			failed(r.span, err)
		}
		r.span.End()
	}
	if r.s == nil || !recorded {
		return
	}
	s, ctx := r.s, context.Background()
	switch state {
	case store.StateSuccess:
		s.m.succeeded.Add(ctx, 1, s.add...)
	case store.StateError:
		s.m.failed.Add(ctx, 1, s.failedError...)
	case store.StateDeadLetter:
		s.m.failed.Add(ctx, 1, s.failedDead...)
	case store.StateCancelled:
		s.m.cancelled.Add(ctx, 1, s.add...)
	}
	if r.begun > 0 {
		s.m.duration.Record(ctx, (time.Since(clockBase) - r.begun).Seconds(), s.record...)
	}
}

// Step is the span of one step run inside a workflow (SpanKindInternal):
// the zero value when not tracing.
type Step struct {
	span trace.Span
}

// StartStep starts the span of step stepID (function name) of workflow
// workflowID, a child of ctx's span (the workflow's run), and returns ctx
// carrying it, for the step's body.
func (t *Telemetry) StartStep(ctx context.Context, workflowID string, stepID int, name string) (context.Context, Step) {
	tr := t.tracing()
	if tr == nil {
		return ctx, Step{}
	}
	ctx, span := tr.Start(ctx, spanName("step", name), trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(
		WorkflowID.String(workflowID),
		WorkflowName.String(name),
		StepID.Int(stepID),
		ExecutorID.String(t.executorID)))
	return ctx, Step{span: span}
}

// End ends the step's span; err, when not nil, is its failure.
func (s Step) End(err error) {
	if s.span == nil {
		return
	}
	if err != nil {
		failed(s.span, err)
	}
	s.span.End()
}

// Retry notes on ctx's span (a step's, or the run of a step enqueued on
// its own) that attempt of the step's body failed with err and another
// follows: a RetryEvent.
func (t *Telemetry) Retry(ctx context.Context, attempt int, err error) {
	if t.tracing() == nil {
		return
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent(RetryEvent, trace.WithAttributes(StepAttempt.Int(attempt), attribute.String("exception.message", err.Error())))
	}
}

// Attempts records on ctx's span how many times the step's body was called.
func (t *Telemetry) Attempts(ctx context.Context, attempts int) {
	if t.tracing() == nil {
		return
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(StepAttempts.Int(attempts))
	}
}

// failed records err on span, with an error status.
func failed(span trace.Span, err error) {
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
}

// spanName is a span's name: what it does and the function name of
// registered name fn (what follows its last dot; the attributes carry the
// full name), or what it does alone when fn is not known.
func spanName(what, fn string) string {
	if fn == "" {
		return what
	}
	return what + " " + fn[strings.LastIndex(fn, ".")+1:]
}

// A stored trace context is the W3C traceparent header's value, then, when
// the span carries a tracestate, a space and the tracestate header's value
// (a traceparent holds no space).

// encode returns the trace context of ctx's span as a row keeps it, "" when
// it has none.
func encode(ctx context.Context) string {
	var c carrier
	propagation.TraceContext{}.Inject(ctx, &c)
	switch {
	case c.parent == "":
		return ""
	case c.state == "":
		return c.parent
	}
	return c.parent + " " + c.state
}

// decode returns a context whose (remote) span is the one a row's trace
// context names: context.Background() when it names none, or not validly.
func decode(tc string) context.Context {
	if tc == "" {
		return context.Background()
	}
	var c carrier
	c.parent, c.state, _ = strings.Cut(tc, " ")
	return propagation.TraceContext{}.Extract(context.Background(), &c)
}

// carrier carries the two W3C headers between a span context and a stored
// trace context, without a map.
type carrier struct{ parent, state string }

func (c *carrier) Get(key string) string {
	switch key {
	case "traceparent":
		return c.parent
	case "tracestate":
		return c.state
	}
	return ""
}

func (c *carrier) Set(key, value string) {
	switch key {
	case "traceparent":
		c.parent = value
	case "tracestate":
		c.state = value
	}
}

func (c *carrier) Keys() []string { return []string{"traceparent", "tracestate"} }
