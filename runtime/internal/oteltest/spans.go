package oteltest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Span is what the tests check of a finished span, from either process:
// the in-memory exporter's spans are converted to it, the worker writes
// it as one JSON line per span.
type Span struct {
	Name         string            `json:"name"`
	Kind         string            `json:"kind"`
	TraceID      string            `json:"trace_id"`
	SpanID       string            `json:"span_id"`
	ParentSpanID string            `json:"parent_span_id"` // "" for a root
	RemoteParent bool              `json:"remote_parent"`
	Status       string            `json:"status"` // "Unset", "Error" or "Ok"
	StatusText   string            `json:"status_text"`
	Attributes   map[string]string `json:"attributes"` // values as text
	Events       []string          `json:"events"`     // names, in order
}

// Attr returns attribute key as text, "" when absent.
func (s Span) Attr(key string) string { return s.Attributes[key] }

// SpanOf describes a finished SDK span.
func SpanOf(s sdktrace.ReadOnlySpan) Span {
	out := Span{
		Name:       s.Name(),
		Kind:       s.SpanKind().String(),
		TraceID:    s.SpanContext().TraceID().String(),
		SpanID:     s.SpanContext().SpanID().String(),
		Status:     s.Status().Code.String(),
		StatusText: s.Status().Description,
		Attributes: map[string]string{},
	}
	if p := s.Parent(); p.IsValid() {
		out.ParentSpanID, out.RemoteParent = p.SpanID().String(), p.IsRemote()
	}
	for _, kv := range s.Attributes() {
		out.Attributes[string(kv.Key)] = kv.Value.Emit()
	}
	for _, ev := range s.Events() {
		out.Events = append(out.Events, ev.Name)
	}
	return out
}

// JSONLines is a span exporter writing each span as a line of JSON (a
// Span): the worker program's, whose spans the test reads from a file.
// Used with a syncer (sdktrace.WithSyncer), a span is written when it
// ends, so a killed process leaves every ended span behind.
type JSONLines struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONLines returns an exporter writing to w.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{w: w} }

// ExportSpans writes spans, a line each.
func (j *JSONLines) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, s := range spans {
		line, err := json.Marshal(SpanOf(s))
		if err != nil {
			return fmt.Errorf("encode span %s: %w", s.Name(), err)
		}
		if _, err := j.w.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("write span %s: %w", s.Name(), err)
		}
	}
	return nil
}

// Shutdown does nothing: every span is written already.
func (j *JSONLines) Shutdown(context.Context) error { return nil }

// ReadSpans reads the spans a JSONLines exporter wrote to a file.
func ReadSpans(path string) ([]Span, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Span
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var s Span
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("read spans of %s: %w", path, err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}
