package chaos

import (
	"bufio"
	"cmp"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dbosgen/dbosgen/runtime/internal/overlap"
)

// effectLine is one line of the side-effect log.
type effectLine struct {
	at   int64 // Unix nanoseconds, the writing process's clock (one machine: one clock)
	pid  int
	kind string
	id   string
	step int
}

func readEffects(path string) ([]effectLine, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []effectLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) != 5 {
			return nil, fmt.Errorf("%s:%d: malformed line %q (a torn write?)", path, n, sc.Text())
		}
		at, err1 := strconv.ParseInt(fields[0], 10, 64)
		pid, err2 := strconv.Atoi(fields[1])
		step, err3 := strconv.Atoi(fields[4])
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("%s:%d: malformed line %q", path, n, sc.Text())
		}
		out = append(out, effectLine{at: at, pid: pid, kind: fields[2], id: fields[3], step: step})
	}
	return out, sc.Err()
}

// span is a stretch of time during which a workflow ran.
type span struct {
	id         string
	pid        int
	start, end int64
	open       bool // no wf-end or wf-abort: cut at the process's death
	aborted    bool // ended with wf-abort
}

// effectsReport is what the side-effect log says.
type effectsReport struct {
	bodies           int      // step bodies begun
	excused          int      // step bodies that ran again after their process was killed during them
	missing          []string // (workflow, step) whose body never ran, though the workflow succeeded
	unexpected       []string // step bodies that ran again without an excuse
	overlapping      []string // attempts of one workflow that ran at the same time in two processes
	sameProcess      []string // a workflow attempted twice by one process
	maxRunning       int      // most workflows running at once
	violations       int      // workflow starts that took the running count above the limit
	maxInProcess     int      // most workflows running at once in one process
	workerViolations int      // workflow starts that took a process's running count above workerLimit
	attemptsCount    int
}

// analyzeEffects checks the side-effect log of a run: ids are the workflows
// expected (with succeeded telling which finished with SUCCESS), steps the
// steps of each; died maps each process that ended to when it was seen dead
// (Unix nanoseconds) and killed tells which of them the test killed.
func analyzeEffects(lines []effectLine, ids []string, succeeded map[string]bool, steps int, died map[int]int64, killed map[int]bool, limit, workerLimit int) effectsReport {
	var r effectsReport
	expected := make(map[string]bool, len(ids))
	for _, id := range ids {
		expected[id] = true
	}
	type key struct {
		id   string
		step int
	}
	byStep := map[key][]int{} // indexes into lines of step-begin lines
	type attemptKey struct {
		id  string
		pid int
	}
	attempts := map[attemptKey]*span{}
	var spans []*span
	for i, l := range lines {
		if !expected[l.id] {
			continue
		}
		switch l.kind {
		case KindStepBegin:
			r.bodies++
			byStep[key{l.id, l.step}] = append(byStep[key{l.id, l.step}], i)
		case KindWorkflowStart:
			k := attemptKey{l.id, l.pid}
			if attempts[k] != nil {
				r.sameProcess = append(r.sameProcess, fmt.Sprintf("%s started twice in process %d", l.id, l.pid))
				continue
			}
			s := &span{id: l.id, pid: l.pid, start: l.at, end: math.MaxInt64, open: true}
			attempts[k] = s
			spans = append(spans, s)
		case KindWorkflowEnd, KindWorkflowAbort:
			if s := attempts[attemptKey{l.id, l.pid}]; s != nil && s.open {
				s.end, s.open, s.aborted = l.at, false, l.kind == KindWorkflowAbort
			}
		}
	}
	r.attemptsCount = len(spans)
	for _, s := range spans {
		if s.open {
			if at, ok := died[s.pid]; ok {
				s.end = at // it ran, as far as anyone can tell, until its process died
			}
		}
	}

	// Re-runs: a step body may run again only when the process that ran it
	// before was killed before it checkpointed the step. A process that went
	// on to the next step (or to the workflow's end) had checkpointed it:
	// running it again means replay did not find the checkpoint.
	movedOn := func(from int, id string, step, pid int) bool {
		for _, l := range lines[from+1:] {
			if l.pid == pid && l.id == id && (l.kind == KindStepBegin && l.step > step || l.kind == KindWorkflowEnd) {
				return true
			}
		}
		return false
	}
	for _, id := range ids {
		for s := 1; s <= steps; s++ {
			runs := byStep[key{id, s}]
			if len(runs) == 0 && succeeded[id] {
				r.missing = append(r.missing, fmt.Sprintf("%s step %d", id, s))
			}
			for j, i := range runs[:max(0, len(runs)-1)] {
				pid, next := lines[i].pid, lines[runs[j+1]].pid
				switch {
				case next == pid:
					r.unexpected = append(r.unexpected, fmt.Sprintf("%s step %d ran twice in process %d", id, s, pid))
				case !killed[pid]:
					why := ""
					if a := attempts[attemptKey{id, pid}]; a != nil && a.aborted {
						why = " (its run there stopped with an error: cancelled, or stale because the workflow was taken over)"
					}
					r.unexpected = append(r.unexpected, fmt.Sprintf("%s step %d ran in process %d, which was not killed, and again in process %d%s", id, s, pid, next, why))
				case movedOn(i, id, s, pid):
					r.unexpected = append(r.unexpected, fmt.Sprintf("%s step %d ran in process %d, which went on past it before it was killed, and again in process %d", id, s, pid, next))
				default:
					r.excused++
				}
			}
		}
	}

	// Attempts of one workflow never overlap: the next one begins after the
	// previous process died.
	byID := map[string][]*span{}
	for _, s := range spans {
		byID[s.id] = append(byID[s.id], s)
	}
	for id, ss := range byID {
		slices.SortFunc(ss, func(a, b *span) int { return cmp.Compare(a.start, b.start) })
		for i := 1; i < len(ss); i++ {
			if ss[i].start < ss[i-1].end {
				r.overlapping = append(r.overlapping, fmt.Sprintf("%s ran in process %d from %d and in process %d from %d, before the first ended or died at %d",
					id, ss[i-1].pid, ss[i-1].start, ss[i].pid, ss[i].start, ss[i-1].end))
			}
		}
	}

	r.maxRunning, r.violations = overlap.Max(spansAsIntervals(spans), limit)
	byPID := map[int][]*span{}
	for _, s := range spans {
		byPID[s.pid] = append(byPID[s.pid], s)
	}
	for _, ss := range byPID {
		most, v := overlap.Max(spansAsIntervals(ss), workerLimit)
		r.maxInProcess = max(r.maxInProcess, most)
		r.workerViolations += v
	}
	return r
}

func spansAsIntervals(ss []*span) []overlap.Interval {
	out := make([]overlap.Interval, len(ss))
	for i, s := range ss {
		out[i] = overlap.Interval{Start: s.start, End: s.end}
	}
	return out
}

// TestAnalyzeEffects checks the checker on made-up logs: what it must
// excuse and what it must report.
func TestAnalyzeEffects(t *testing.T) {
	const a, b, c = 100, 200, 300 // pids
	// run logs a workflow attempt: start, steps from..to, and the end if
	// end is set.
	run := func(at int64, pid int, id string, from, to int, end bool) []effectLine {
		out := []effectLine{{at, pid, KindWorkflowStart, id, 0}}
		for s := from; s <= to; s++ {
			at++
			out = append(out, effectLine{at, pid, KindStepBegin, id, s}, effectLine{at, pid, KindStepEnd, id, s})
		}
		if end {
			out = append(out, effectLine{at + 1, pid, KindWorkflowEnd, id, 0})
		}
		return out
	}
	cat := func(parts ...[]effectLine) []effectLine { return slices.Concat(parts...) }
	ok := map[string]bool{"w1": true, "w2": true, "w3": true, "w4": true, "w5": true}
	for _, tc := range []struct {
		name                                 string
		lines                                []effectLine
		ids                                  []string
		died                                 map[int]int64
		killed                               map[int]bool
		excused, unexpected, overlapping     int
		missing, sameProcess, most, violated int
		workerViolated                       int
	}{{
		name:  "clean",
		lines: run(10, a, "w1", 1, 3, true),
		ids:   []string{"w1"}, died: map[int]int64{a: 1000}, killed: map[int]bool{},
		most: 1,
	}, {
		// a dies in step 2 (begun, never ended); b reruns step 2 only.
		name: "killed during a step",
		lines: cat(run(10, a, "w1", 1, 1, false), []effectLine{{12, a, KindStepBegin, "w1", 2}},
			run(50, b, "w1", 2, 3, true)),
		ids: []string{"w1"}, died: map[int]int64{a: 20, b: 1000}, killed: map[int]bool{a: true},
		excused: 1, most: 1,
	}, {
		name:  "re-run without a kill",
		lines: cat(run(10, a, "w1", 1, 2, false), run(50, b, "w1", 2, 3, true)),
		ids:   []string{"w1"}, died: map[int]int64{a: 20, b: 1000}, killed: map[int]bool{},
		unexpected: 1, most: 1,
	}, {
		// a checkpointed step 2 (it went on to step 3) before it died.
		name:  "re-run of a checkpointed step",
		lines: cat(run(10, a, "w1", 1, 3, false), run(50, b, "w1", 2, 3, true)),
		ids:   []string{"w1"}, died: map[int]int64{a: 20, b: 1000}, killed: map[int]bool{a: true},
		unexpected: 1, excused: 1, most: 1,
	}, {
		name:  "attempts overlap",
		lines: cat(run(10, a, "w1", 1, 1, false), run(15, b, "w1", 1, 3, true)),
		ids:   []string{"w1"}, died: map[int]int64{a: 30, b: 1000}, killed: map[int]bool{a: true},
		excused: 1, overlapping: 1, most: 2,
	}, {
		name:  "twice in one process",
		lines: cat(run(10, a, "w1", 1, 3, true), run(50, a, "w1", 1, 3, true)),
		ids:   []string{"w1"}, died: map[int]int64{a: 1000}, killed: map[int]bool{},
		sameProcess: 1, unexpected: 3, most: 1, // the second start is not an attempt; its step bodies are re-runs
	}, {
		name:  "a step never ran",
		lines: run(10, a, "w1", 1, 2, true),
		ids:   []string{"w1"}, died: map[int]int64{a: 1000}, killed: map[int]bool{},
		missing: 1, most: 1,
	}, {
		// Five workflows at once; the killed one counts until its death.
		name: "limit exceeded",
		lines: cat(run(10, a, "w1", 1, 3, true), run(11, a, "w2", 1, 3, true), run(12, b, "w3", 1, 3, true),
			run(13, b, "w4", 1, 3, true), run(13, c, "w5", 1, 1, false)),
		ids:  []string{"w1", "w2", "w3", "w4", "w5"},
		died: map[int]int64{a: 1000, b: 1000, c: 15}, killed: map[int]bool{c: true},
		missing: 2, most: 5, violated: 1,
	}, {
		name:  "worker limit exceeded",
		lines: cat(run(10, a, "w1", 1, 3, true), run(11, a, "w2", 1, 3, true), run(12, a, "w3", 1, 3, true)),
		ids:   []string{"w1", "w2", "w3"},
		died:  map[int]int64{a: 1000}, killed: map[int]bool{},
		most: 3, workerViolated: 1,
	}, {
		name: "limit held: the killed one ended before the fifth began",
		lines: cat(run(10, a, "w1", 1, 3, true), run(11, a, "w2", 1, 3, true), run(12, b, "w3", 1, 3, true),
			run(5, c, "w4", 1, 1, false), run(14, b, "w5", 1, 3, true)),
		ids:  []string{"w1", "w2", "w3", "w4", "w5"},
		died: map[int]int64{a: 1000, b: 1000, c: 13}, killed: map[int]bool{c: true},
		missing: 2, most: 4,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			steps := 3
			r := analyzeEffects(tc.lines, tc.ids, ok, steps, tc.died, tc.killed, 4, 2)
			got := [...]int{r.excused, len(r.unexpected), len(r.overlapping), len(r.missing), len(r.sameProcess), r.maxRunning, r.violations, r.workerViolations}
			want := [...]int{tc.excused, tc.unexpected, tc.overlapping, tc.missing, tc.sameProcess, tc.most, tc.violated, tc.workerViolated}
			if got != want {
				t.Errorf("excused, unexpected, overlapping, missing, same process, most running, violations, worker violations = %v, want %v\n%+v", got, want, r)
			}
		})
	}
}
