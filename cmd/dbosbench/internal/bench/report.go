package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of Run, also written as JSON.
type Report struct {
	Started   time.Time      `json:"started"`
	Took      string         `json:"took"`
	Scale     float64        `json:"scale"`
	Runs      int            `json:"runs"`
	GoVersion string         `json:"go_version"`
	GOOS      string         `json:"goos"`
	GOARCH    string         `json:"goarch"`
	NumCPU    int            `json:"num_cpu"`
	Engines   []EngineReport `json:"engines"`
}

// EngineReport holds the workloads run on one engine.
type EngineReport struct {
	Engine    string           `json:"engine"`
	Workloads []WorkloadReport `json:"workloads"`
}

// WorkloadReport holds one workload's metrics on one engine.
type WorkloadReport struct {
	Workload string   `json:"workload"`
	About    string   `json:"about"`
	Tasks    int      `json:"tasks"`
	Metrics  []Metric `json:"metrics"`
	Errors   []string `json:"errors,omitempty"` // one per failed run
}

// Metric is one measured quantity over the successful runs.
type Metric struct {
	Name   string    `json:"name"`
	Unit   string    `json:"unit"`
	Median float64   `json:"median"`
	Runs   []float64 `json:"runs"` // each successful run's value, in run order
}

// accumulator gathers the values of several runs by metric name.
type accumulator struct {
	order []Value // first seen, for names and units
	runs  map[string][]float64
}

func (a *accumulator) add(vs Values) {
	if a.runs == nil {
		a.runs = map[string][]float64{}
	}
	for _, v := range vs {
		if _, ok := a.runs[v.Name]; !ok {
			a.order = append(a.order, v)
		}
		a.runs[v.Name] = append(a.runs[v.Name], v.Value)
	}
}

func (a *accumulator) metrics() []Metric {
	ms := make([]Metric, 0, len(a.order))
	for _, v := range a.order {
		rs := a.runs[v.Name]
		ms = append(ms, Metric{Name: v.Name, Unit: v.Unit, Median: median(rs), Runs: rs})
	}
	return ms
}

// String formats values as "name=value unit ...", for progress lines.
func (vs Values) String() string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%s=%s", v.Name, withUnit(v.Value, v.Unit))
	}
	return strings.Join(parts, " ")
}

// WriteTable writes one table per engine: workload, task count, metric,
// median and each run's value.
func (r *Report) WriteTable(w io.Writer) error {
	for i, e := range r.Engines {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s — scale %g, %d run(s) each, medians (%s %s/%s, %d CPUs)\n",
			e.Engine, r.Scale, r.Runs, r.GoVersion, r.GOOS, r.GOARCH, r.NumCPU)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "workload\ttasks\tmetric\tmedian\tunit\truns")
		for _, wl := range e.Workloads {
			tasks := strconv.Itoa(wl.Tasks)
			for _, m := range wl.Metrics {
				runs := make([]string, len(m.Runs))
				for k, v := range m.Runs {
					runs[k] = number(v)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", wl.Workload, tasks, m.Name, number(m.Median), m.Unit, strings.Join(runs, "  "))
			}
			for _, err := range wl.Errors {
				fmt.Fprintf(tw, "%s\t%s\tFAILED\t\t\t%s\n", wl.Workload, tasks, oneLine(err))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// number formats a value with about three significant digits.
func number(v float64) string {
	switch a := math.Abs(v); {
	case v == math.Trunc(v) && a < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func withUnit(v float64, unit string) string {
	switch unit {
	case "%":
		return number(v) + "%"
	case "tasks/s", "starts/s", "windows", "tasks":
		return number(v)
	}
	return number(v) + unit
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
