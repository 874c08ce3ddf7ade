package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestTable renders a made-up sitting: medians with their runs, the ratio
// against the goal's peer (inverted for latency), the goals' verdicts, a
// failed run, and a dash where a system does not run a workload.
func TestTable(t *testing.T) {
	s := sitting{Started: time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC), Rounds: 3, DBOSPoll: "10ms"}
	add := func(workload, sys string, m ...metrics) {
		for i, x := range m {
			r := run{Round: i + 1, Workload: workload, System: sys, Tasks: 100, Metrics: x}
			if x == nil {
				r.Error = "boom"
			}
			s.Runs = append(s.Runs, r)
		}
	}
	add("e2e", sysOurs, metrics{"tasks/s": 3000}, metrics{"tasks/s": 1000}, metrics{"tasks/s": 2500})
	add("e2e", sysRiver, metrics{"tasks/s": 1000}, nil, metrics{"tasks/s": 1000})
	add("e2e", sysDBOS, metrics{"tasks/s": 500}, metrics{"tasks/s": 400}, metrics{"tasks/s": 450})
	add("latency", sysOurs, metrics{"p50": 1, "p99": 6})
	add("latency", sysRiver, metrics{"p50": 250, "p99": 300})
	add("drain", sysOurs, metrics{"tasks/s": 20000})
	add("drain", sysRiver, metrics{"tasks/s": 10000})
	var selected []comparison
	for _, c := range cases {
		switch c.key {
		case "e2e", "latency", "drain":
			selected = append(selected, c)
		}
	}
	var b bytes.Buffer
	writeTable(&b, s, selected)
	out := b.String()
	for _, want := range []string{
		"| e2e (100) | tasks/s | 2,500 [3,000, 1,000, 2,500] | 1,000 [1,000, failed, 1,000] | 450 [500, 400, 450] | 2.50x vs River tuned | >= 2.5x River tuned | yes |",
		"| latency (100) | p50 (ms) | 1 [1] | 250 [250] | failed | 250.00x vs River tuned | <= 2 ms | yes |",
		"| latency (100) | p99 (ms) | 6 [6] | 300 [300] | failed | 50.00x vs River tuned | <= 5 ms | no |",
		"| drain (100) | tasks/s | 20,000 [20,000] | 10,000 [10,000] | — | 2.00x vs River tuned | >= 1.5x River tuned | yes |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks\n%s\n\n%s", want, out)
		}
	}
}
