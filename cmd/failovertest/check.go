package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// report is what the checks found.
type report struct {
	lost         []string // enqueues that returned whose workflow did not succeed
	duplicated   []string // a body that completed twice: a Task, a step, or a Flow's end
	checkpoints  []string // Flow workflows without exactly one checkpoint per step
	stuck        []string // workflows left ENQUEUED or PENDING
	violations   int      // Flow starts that took the running count above the limit
	maxRunning   int
	rerunSteps   int // step bodies that began again (the at-least-once part)
	flowAttempts int
}

// check reads the database and the side-effect log.
func check(ctx context.Context, url, effectsPath string, ok map[string]bool) (report, error) {
	var r report
	cfg, err := pgx.ParseConfig(url + "&target_session_attrs=read-write")
	if err != nil {
		return r, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return r, fmt.Errorf("connect to check: %w", err)
	}
	defer conn.Close(context.Background())

	states := map[string]string{}
	rows, err := conn.Query(ctx, "SELECT workflow_id, state FROM dbos.workflows")
	if err != nil {
		return r, err
	}
	for rows.Next() {
		var id, state string
		if err := rows.Scan(&id, &state); err != nil {
			return r, err
		}
		states[id] = state
		if state == "ENQUEUED" || state == "PENDING" {
			r.stuck = append(r.stuck, id+" "+state)
		}
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	for id := range ok {
		if states[id] != "SUCCESS" {
			r.lost = append(r.lost, fmt.Sprintf("%s (%s)", id, stateOr(states[id])))
		}
	}

	type stepCount struct{ n, distinct, lo, hi int }
	steps := map[string]stepCount{}
	rows, err = conn.Query(ctx, "SELECT workflow_id, count(*), count(DISTINCT step_id), min(step_id), max(step_id) FROM dbos.steps GROUP BY workflow_id")
	if err != nil {
		return r, err
	}
	for rows.Next() {
		var id string
		var sc stepCount
		if err := rows.Scan(&id, &sc.n, &sc.distinct, &sc.lo, &sc.hi); err != nil {
			return r, err
		}
		steps[id] = sc
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	for id := range ok {
		if !strings.HasPrefix(id, "flow-") {
			continue
		}
		if sc := steps[id]; sc.n != FlowSteps || sc.distinct != FlowSteps || sc.lo != 1 || sc.hi != FlowSteps {
			r.checkpoints = append(r.checkpoints, fmt.Sprintf("%s has %d checkpoints (steps %d..%d), want one for each of steps 1..%d", id, sc.n, sc.lo, sc.hi, FlowSteps))
		}
	}

	// The side-effect log.
	f, err := os.Open(effectsPath)
	if err != nil {
		return r, err
	}
	defer f.Close()
	type key struct {
		kind, id string
		step     int
	}
	ends := map[key]int{}
	type event struct {
		at    int64
		delta int
	}
	open := map[string]int64{} // "id pid" -> start of the attempt running
	var events []event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 {
			return r, fmt.Errorf("%s: malformed line %q", effectsPath, sc.Text())
		}
		at, _ := strconv.ParseInt(fs[0], 10, 64)
		step, _ := strconv.Atoi(fs[4])
		kind, id, attempt := fs[2], fs[3], fs[3]+" "+fs[1]
		switch kind {
		case kindFlowStart:
			r.flowAttempts++
			open[attempt] = at
			events = append(events, event{at, +1})
		case kindFlowEnd, kindFlowAbort:
			if _, ok := open[attempt]; ok {
				delete(open, attempt)
				events = append(events, event{at, -1})
			}
			if kind == kindFlowEnd {
				ends[key{kind, id, 0}]++
			}
		case kindStepEnd, kindTaskEnd:
			ends[key{kind, id, step}]++
		}
	}
	if err := sc.Err(); err != nil {
		return r, err
	}
	for k, n := range ends {
		if n > 1 {
			if k.kind == kindStepEnd {
				r.rerunSteps += n - 1
			}
			r.duplicated = append(r.duplicated, fmt.Sprintf("%s %s step %d completed %d times", k.kind, k.id, k.step, n))
		}
	}
	sort.Slice(events, func(i, j int) bool {
		if events[i].at != events[j].at {
			return events[i].at < events[j].at
		}
		return events[i].delta < events[j].delta // an end before a start at the same instant
	})
	running := 0
	for _, e := range events {
		running += e.delta
		if running > r.maxRunning {
			r.maxRunning = running
		}
		if e.delta > 0 && running > LimitedConcurrency {
			r.violations++
		}
	}
	return r, nil
}

func stateOr(s string) string {
	if s == "" {
		return "missing"
	}
	return s
}
