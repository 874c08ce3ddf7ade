package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// What dbosctl prints: human tables by default, and with -json one JSON
// document whose field names are stable, lowercase snake_case, and always
// present (null when there is no value).

// printJSON writes v as the run's one JSON document.
func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table returns a writer that aligns tab-separated columns; Flush it.
func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes one line of a table: the cells, tab-separated, each on one
// line.
func row(w io.Writer, cells ...string) {
	for i, s := range cells {
		cells[i] = oneLine(s)
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

var flatten = strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ")

// oneLine keeps s on one line of a table, and shows "" as "-".
func oneLine(s string) string {
	if s == "" {
		return "-"
	}
	return flatten.Replace(s)
}

// humanTime is t for a person, in the local time zone; "-" when zero.
func humanTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05.000")
}

// humanDuration is d rounded for a person.
func humanDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	case d < time.Minute:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// jsonTime is t in UTC for JSON, or null when zero.
func jsonTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// rawJSON embeds stored JSON as is: null when empty, and a JSON string in
// the unexpected case that it is not JSON.
func rawJSON(b []byte) json.RawMessage {
	switch {
	case len(b) == 0:
		return json.RawMessage("null")
	case json.Valid(b):
		return json.RawMessage(b)
	default:
		s, _ := json.Marshal(string(b))
		return s
	}
}

// workflowJSON is a workflow in -json output.
type workflowJSON struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	State       dbos.State      `json:"state"`
	Queue       string          `json:"queue"`
	ParentID    string          `json:"parent_id"`
	ExecutorID  string          `json:"executor_id"`
	AppVersion  string          `json:"app_version"`
	Attempts    int             `json:"attempts"`
	Priority    int             `json:"priority"`
	CreatedAt   *time.Time      `json:"created_at"`
	StartedAt   *time.Time      `json:"started_at"`
	CompletedAt *time.Time      `json:"completed_at"`
	Input       json.RawMessage `json:"input"`
	Output      json.RawMessage `json:"output"`
	Error       string          `json:"error"`
	Waiting     string          `json:"waiting"`
}

func workflowOf(s dbos.Status) workflowJSON {
	return workflowJSON{
		ID:          s.ID,
		Name:        s.Name,
		State:       s.State,
		Queue:       s.Queue,
		ParentID:    s.ParentID,
		ExecutorID:  s.ExecutorID,
		AppVersion:  s.AppVersion,
		Attempts:    s.Attempts,
		Priority:    s.Priority,
		CreatedAt:   jsonTime(s.CreatedAt),
		StartedAt:   jsonTime(s.StartedAt),
		CompletedAt: jsonTime(s.CompletedAt),
		Input:       rawJSON(s.Input),
		Output:      rawJSON(s.Output),
		Error:       s.Error,
		Waiting:     s.Waiting,
	}
}

// stepJSON is a step in -json output.
type stepJSON struct {
	StepID      int             `json:"step_id"`
	Name        string          `json:"name"`
	StartedAt   *time.Time      `json:"started_at"`
	CompletedAt *time.Time      `json:"completed_at"`
	DurationMS  float64         `json:"duration_ms"`
	ChildID     string          `json:"child_id"`
	Children    []string        `json:"children"`
	Output      json.RawMessage `json:"output"`
	Error       string          `json:"error"`
}

func stepOf(s dbos.StepInfo) stepJSON {
	children := s.Children
	if children == nil {
		children = []string{}
	}
	return stepJSON{
		StepID:      s.StepID,
		Name:        s.Name,
		StartedAt:   jsonTime(s.StartedAt),
		CompletedAt: jsonTime(s.CompletedAt),
		DurationMS:  float64(s.CompletedAt.Sub(s.StartedAt).Microseconds()) / 1000,
		ChildID:     s.ChildID,
		Children:    children,
		Output:      rawJSON(s.Output),
		Error:       s.Error,
	}
}

// queueJSON is a queue in -json output; 0 means no limit.
type queueJSON struct {
	Name                  string     `json:"name"`
	Declared              bool       `json:"declared"`
	DeclaredBy            string     `json:"declared_by"`
	DeclaredAt            *time.Time `json:"declared_at"`
	Concurrency           int        `json:"concurrency"`
	WorkerConcurrency     int        `json:"worker_concurrency"`
	RateLimit             int        `json:"rate_limit"`
	RatePeriodMS          int64      `json:"rate_period_ms"`
	PartitionConcurrency  int        `json:"partition_concurrency"`
	PartitionRateLimit    int        `json:"partition_rate_limit"`
	PartitionRatePeriodMS int64      `json:"partition_rate_period_ms"`
	Paused                bool       `json:"paused"`
	Enqueued              int        `json:"enqueued"`
	Running               int        `json:"running"`
	StartedLastMinute     int        `json:"started_last_minute"`
	StartedInRatePeriod   int        `json:"started_in_rate_period"`
}

func queueOf(q dbos.QueueInfo) queueJSON {
	return queueJSON{
		Name:                  q.Name,
		Declared:              q.Declared,
		DeclaredBy:            q.DeclaredBy,
		DeclaredAt:            jsonTime(q.DeclaredAt),
		Concurrency:           q.Concurrency,
		WorkerConcurrency:     q.WorkerConcurrency,
		RateLimit:             q.RateLimit,
		RatePeriodMS:          q.RatePeriod.Milliseconds(),
		PartitionConcurrency:  q.PartitionConcurrency,
		PartitionRateLimit:    q.PartitionRateLimit,
		PartitionRatePeriodMS: q.PartitionRatePeriod.Milliseconds(),
		Paused:                q.Paused,
		Enqueued:              q.Enqueued,
		Running:               q.Running,
		StartedLastMinute:     q.StartedLastMinute,
		StartedInRatePeriod:   q.StartedInRatePeriod,
	}
}

// limits describes a queue's limits for a person.
func limits(q dbos.QueueInfo) string {
	if !q.Declared {
		return "not declared"
	}
	var out []string
	if q.Concurrency > 0 {
		out = append(out, fmt.Sprintf("concurrency %d", q.Concurrency))
	}
	if q.WorkerConcurrency > 0 {
		out = append(out, fmt.Sprintf("worker concurrency %d", q.WorkerConcurrency))
	}
	if q.RateLimit > 0 {
		out = append(out, fmt.Sprintf("rate %d/%s (%d used)", q.RateLimit, q.RatePeriod, q.StartedInRatePeriod))
	}
	if q.PartitionConcurrency > 0 {
		out = append(out, fmt.Sprintf("partition concurrency %d", q.PartitionConcurrency))
	}
	if q.PartitionRateLimit > 0 {
		out = append(out, fmt.Sprintf("partition rate %d/%s", q.PartitionRateLimit, q.PartitionRatePeriod))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// yesNo is b for a person.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// shortList shows at most n of ids, and how many more there are.
func shortList(ids []string, n int) string {
	if len(ids) <= n {
		return strings.Join(ids, ",")
	}
	return fmt.Sprintf("%s (+%d more)", strings.Join(ids[:n], ","), len(ids)-n)
}
