package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

var columnName = map[string]string{sysOurs: "dbosgen", sysRiver: "River tuned", sysDBOS: "DBOS Go"}

// writeTable prints the sitting's Markdown table: per workload and metric,
// each system's median with its runs in round order, the ratio, the goal
// and whether it is met; then how the sitting ran.
func writeTable(w io.Writer, s sitting, selected []comparison) {
	fmt.Fprintf(w, "dbosgen vs River %s (tuned) and DBOS Transact Go %s — %s, %d round(s), medians [runs in round order]\n\n",
		riverVersion, dbosVersion, s.Started.Format("2006-01-02 15:04 UTC"), s.Rounds)
	fmt.Fprintln(w, "| workload | metric | dbosgen | River tuned | DBOS Go | ratio | goal | met? |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, c := range selected {
		tasks := 0
		for _, r := range s.Runs {
			if r.Workload == c.key && r.System == sysOurs && r.Tasks > 0 {
				tasks = r.Tasks
			}
		}
		for _, l := range c.lines {
			med := map[string]float64{}
			cells := make([]string, 0, len(systems))
			var oursRuns []float64
			for _, sys := range systems {
				if _, ok := c.peers[sys]; !ok && sys != sysOurs {
					cells = append(cells, "—")
					continue
				}
				var vals []string
				var nums []float64
				failed := 0
				for _, r := range s.Runs {
					if r.Workload != c.key || r.System != sys {
						continue
					}
					v, ok := r.Metrics[l.metric]
					if r.Error != "" || !ok {
						failed++
						vals = append(vals, "failed")
						continue
					}
					nums = append(nums, v)
					vals = append(vals, number(v))
				}
				if sys == sysOurs {
					oursRuns = nums
				}
				if len(nums) == 0 {
					cells = append(cells, "failed")
					continue
				}
				med[sys] = median(nums)
				cells = append(cells, fmt.Sprintf("%s [%s]", number(med[sys]), strings.Join(vals, ", ")))
			}
			ratio := ""
			if l.vs != "" && med[sysOurs] > 0 && med[l.vs] > 0 {
				x := med[sysOurs] / med[l.vs]
				if l.lower {
					x = 1 / x
				}
				ratio = fmt.Sprintf("%.2fx vs %s", x, columnName[l.vs])
			}
			met := "no"
			if l.met != nil && l.met(med, oursRuns) {
				met = "yes"
			}
			name := c.key
			if tasks > 0 {
				name = fmt.Sprintf("%s (%s)", c.key, thousands(tasks))
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", name, l.label+unitOf(l), strings.Join(cells, " | "), ratio, l.goal, met)
		}
	}
	fmt.Fprintf(w, "\nRatio: how many times better dbosgen is (throughput: dbosgen ÷ peer; latency: peer ÷ dbosgen).\n")
	fmt.Fprintf(w, "Machine: %s; %s; load average (1/5/15 min) %s before, %s after.\n", s.Machine, s.Postgres, s.LoadFrom, s.LoadTo)
	fmt.Fprintf(w, "Each run on a fresh database and in fresh processes; the systems alternate within each round, the first one rotating from round to round.\n")
	fmt.Fprintf(w, "River tuned: FetchCooldown 2 ms, FetchPollInterval 20 ms (River's own benchmark settings), MaxWorkers %d; limitedprod and limited: MaxWorkers 10, which River enforces per process (open-source River has no global limit), not across processes as dbosgen's Concurrency(10) does.\n", riverMaxWorkers)
	fmt.Fprintf(w, "DBOS Go: each task is a workflow running one step, on a queue polled every %s, its handles polled as often (both default to 1s); WithGlobalConcurrency(10) for limitedprod.\n", s.DBOSPoll)
	fmt.Fprintf(w, "River's latency is mostly its batch completer's: below 100 finished jobs it records completions every 250 ms, and its completion event (how a River caller learns a job finished) follows the record.\n")
	fmt.Fprintf(w, "Drain and limited: dbosgen and River both from the first start to the last completion by the database clock; the rest by the wall clock from the first enqueue to the last result.\n")
}

// The peers' versions, as go.mod requires them.
const (
	riverVersion = "v0.51.2"
	dbosVersion  = "v1.9.0"
)

func unitOf(l line) string {
	if l.unit == "" || l.unit == l.label {
		return ""
	}
	return " (" + l.unit + ")"
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// number formats a value with about three significant digits.
func number(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100 || v == math.Trunc(v):
		return thousands(int(math.Round(v)))
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// thousands writes n with commas between thousands.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
