package gen

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/dbosimpl"
)

func TestSuggest(t *testing.T) {
	for _, tc := range []struct {
		word string
		want string
	}{
		{"stpe", "step"},
		{"setp", "step"},
		{"steps", "step"},
		{"workflw", "workflow"},
		{"wrokflow", "workflow"},
		{"task", ""},
		{"x", ""},
	} {
		if got := suggest(tc.word, directiveNames()); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
	if got := suggest("nmae", keyNames()); got != "name" {
		t.Errorf("suggest(nmae) = %q, want name", got)
	}
}

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []directiveArg
		wantErr string
	}{
		{in: "", want: nil},
		{in: "name=a.b", want: []directiveArg{{Key: "name", Value: "a.b", HasValue: true}}},
		{in: "  name=a\tother=b ", want: []directiveArg{
			{Key: "name", Value: "a", HasValue: true, Offset: 2},
			{Key: "other", Value: "b", HasValue: true, Offset: 9},
		}},
		{in: `name="a b" x`, want: []directiveArg{{Key: "name", Value: "a b", HasValue: true}, {Key: "x", Offset: 11}}},
		{in: "name=`raw \"q\"`", want: []directiveArg{{Key: "name", Value: `raw "q"`, HasValue: true}}},
		{in: "name=", want: []directiveArg{{Key: "name", HasValue: true}}},
		{in: `name="open`, wantErr: "not a valid Go string"},
		{in: `name="a"b`, wantErr: "unexpected text after the quoted value"},
	} {
		got, err := splitArgs(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Msg, tc.wantErr) {
				t.Errorf("splitArgs(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("splitArgs(%q): %s", tc.in, err.Msg)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitArgs(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseSettings(t *testing.T) {
	step, _ := lookupDirective("step")
	workflow, _ := lookupDirective("workflow")
	for _, tc := range []struct {
		dir      directiveSpec
		args     string
		want     settings
		problems []string
	}{
		{dir: step, args: "", want: settings{}},
		{dir: step, args: "name=x.Y", want: settings{Name: "x.Y"}},
		{dir: step, args: `name="with space"`, want: settings{Name: "with space"}},
		{dir: step, args: "nmae=x", problems: []string{`0: unknown key "nmae" in //dbos:step; did you mean name=?`}},
		{dir: step, args: "retires=1", problems: []string{`0: unknown key "retires" in //dbos:step; did you mean retries=?`}},
		{dir: step, args: "max_recovry=1", problems: []string{`0: unknown key "max_recovry" in //dbos:step; did you mean max_recovery=?`}},
		{dir: step, args: "max_backof=1s", problems: []string{`0: unknown key "max_backof" in //dbos:step; did you mean max_backoff=?`}},
		{dir: step, args: "timeout=1s", problems: []string{`0: unknown key "timeout" in //dbos:step; known keys: backfill=, backoff=, max_backoff=, max_recovery=, name=, retries=, schedule=`}},
		{dir: step, args: "name", problems: []string{`0: key "name" in //dbos:step needs a value; write name=<value>`}},
		{dir: step, args: "name=a name=b", want: settings{Name: "a"}, problems: []string{"7: key name= is set twice in //dbos:step; keep one"}},
		{dir: step, args: "bogus", problems: []string{`0: unexpected "bogus" in //dbos:step; arguments are key=value pairs (known keys: backfill=, backoff=, max_backoff=, max_recovery=, name=, retries=, schedule=)`}},

		{dir: step, args: "retries=5 backoff=100ms max_backoff=5s", want: settings{policy: policy{
			Retries: some(5), Backoff: some(100 * time.Millisecond), MaxBackoff: some(5 * time.Second),
		}}},
		{dir: step, args: "retries=0", want: settings{policy: policy{Retries: some(0)}}},
		{dir: step, args: "retries=2 max_backoff=100ms", want: settings{policy: policy{Retries: some(2), MaxBackoff: some(100 * time.Millisecond)}}},
		{dir: step, args: "retries=2 backoff=20s", want: settings{policy: policy{Retries: some(2), Backoff: some(20 * time.Second)}}},
		{dir: step, args: "max_recovery=1", want: settings{policy: policy{MaxRecovery: some(1)}}},
		{dir: workflow, args: "max_recovery=10 name=billing.charge", want: settings{Name: "billing.charge", policy: policy{MaxRecovery: some(10)}}},

		{dir: step, args: "retries=-1", problems: []string{"0: //dbos:step retries=-1: want a whole number >= 0: how many times a failed step is tried again (0 runs it once)"}},
		{dir: step, args: "retries=+1", problems: []string{"0: //dbos:step retries=+1: want a whole number >= 0: how many times a failed step is tried again (0 runs it once)"}},
		{dir: step, args: "retries=2147483648", problems: []string{"0: //dbos:step retries=2147483648: want a whole number from 0 to 2147483647: how many times a failed step is tried again (0 runs it once)"}},
		{dir: step, args: `retries="1 2"`, problems: []string{`0: //dbos:step retries="1 2": want a whole number >= 0: how many times a failed step is tried again (0 runs it once)`}},
		{dir: step, args: "retries=1 backoff=fast", want: settings{policy: policy{Retries: some(1)}}, problems: []string{"10: //dbos:step backoff=fast: want a Go duration such as 100ms or 2s"}},
		{dir: step, args: "retries=1 backoff=5", want: settings{policy: policy{Retries: some(1)}}, problems: []string{"10: //dbos:step backoff=5: want a Go duration with a unit, such as 5ms or 5s"}},
		{dir: step, args: "retries=1 backoff=2.5", want: settings{policy: policy{Retries: some(1)}}, problems: []string{"10: //dbos:step backoff=2.5: want a Go duration with a unit, such as 2.5ms or 2.5s"}},
		{dir: step, args: "retries=1 backoff=.", want: settings{policy: policy{Retries: some(1)}}, problems: []string{"10: //dbos:step backoff=.: want a Go duration such as 100ms or 2s"}},
		{dir: step, args: "retries=1 backoff=5m5", want: settings{policy: policy{Retries: some(1)}}, problems: []string{"10: //dbos:step backoff=5m5: want a Go duration such as 100ms or 2s"}},
		{dir: step, args: "retries=1 backoff=0s", want: settings{policy: policy{Retries: some(1)}}, problems: []string{"10: //dbos:step backoff=0s: want a duration > 0, such as 100ms or 2s; leave backoff= out for the default of 100ms"}},
		{dir: step, args: "retries=1 max_backoff=-1s", want: settings{policy: policy{Retries: some(1)}}, problems: []string{"10: //dbos:step max_backoff=-1s: want a duration > 0, such as 100ms or 2s; leave max_backoff= out for the default of 10s"}},
		{dir: step, args: "max_recovery=0", problems: []string{"0: //dbos:step max_recovery=0: want a whole number >= 1: how many times a run may be recovered after its process stopped, before it is dead-lettered; leave max_recovery= out for the default of 50"}},
		{dir: step, args: "retries=1 retries=2", want: settings{policy: policy{Retries: some(1)}}, problems: []string{"10: key retries= is set twice in //dbos:step; keep one"}},

		{dir: step, args: "backoff=1s", want: settings{policy: policy{Backoff: some(time.Second)}}, problems: []string{"0: //dbos:step: backoff= has no effect without retries=; add retries=<N> to retry the step, or remove backoff="}},
		{dir: step, args: "retries=0 max_backoff=1s", want: settings{policy: policy{Retries: some(0), MaxBackoff: some(time.Second)}}, problems: []string{"10: //dbos:step: max_backoff= has no effect with retries=0, since the step is never retried; raise retries= or remove max_backoff="}},
		{dir: step, args: "retries=3 backoff=2s max_backoff=1s", want: settings{policy: policy{Retries: some(3), Backoff: some(2 * time.Second), MaxBackoff: some(time.Second)}},
			problems: []string{"21: //dbos:step: max_backoff=1s is below backoff=2s; the wait between retries starts at backoff= and doubles up to max_backoff=, so raise max_backoff= or lower backoff="}},
		{dir: step, args: "retries=3 max_backoff=50ms", want: settings{policy: policy{Retries: some(3), MaxBackoff: some(50 * time.Millisecond)}},
			problems: []string{"10: //dbos:step: max_backoff=50ms is below the default backoff of 100ms; raise max_backoff=, or set backoff= to at most 50ms"}},
		// No follow-on problems from a key already reported.
		{dir: step, args: "retries=x backoff=1s", want: settings{policy: policy{Backoff: some(time.Second)}}, problems: []string{"0: //dbos:step retries=x: want a whole number >= 0: how many times a failed step is tried again (0 runs it once)"}},
		{dir: step, args: "retries backoff=1s", want: settings{policy: policy{Backoff: some(time.Second)}}, problems: []string{`0: key "retries" in //dbos:step needs a value; write retries=<value>`}},
		{dir: step, args: "retries=2 backoff=x max_backoff=1ms", want: settings{policy: policy{Retries: some(2), MaxBackoff: some(time.Millisecond)}}, problems: []string{"10: //dbos:step backoff=x: want a Go duration such as 100ms or 2s"}},

		{dir: workflow, args: "retries=3", problems: []string{"0: //dbos:workflow retries=3: retries= applies to //dbos:step only; " + stepsOnly}},
		{dir: workflow, args: "backoff=1s max_backoff=2s", problems: []string{
			"0: //dbos:workflow backoff=1s: backoff= applies to //dbos:step only; " + stepsOnly,
			"11: //dbos:workflow max_backoff=2s: max_backoff= applies to //dbos:step only; " + stepsOnly,
		}},
	} {
		var problems []string
		got := parseSettings(tc.dir, tc.args, func(offset int, msg string) {
			problems = append(problems, strconv.Itoa(offset)+": "+msg)
		})
		if got != tc.want || !reflect.DeepEqual(problems, tc.problems) {
			t.Errorf("parseSettings(%s, %q) = %+v, %q; want %+v, %q", tc.dir.Name, tc.args, got, problems, tc.want, tc.problems)
		}
	}
}

// TestDefaultsMatchRuntime keeps the defaults messages mention and checks
// rely on equal to the runtime's.
func TestDefaultsMatchRuntime(t *testing.T) {
	if defaultBackoff != dbosimpl.DefaultBackoff || defaultMaxBackoff != dbosimpl.DefaultMaxBackoff || defaultMaxRecovery != dbosimpl.DefaultMaxRecovery {
		t.Errorf("gen defaults %v, %v, %d differ from the runtime's %v, %v, %d; update the constants in directive.go",
			defaultBackoff, defaultMaxBackoff, defaultMaxRecovery, dbosimpl.DefaultBackoff, dbosimpl.DefaultMaxBackoff, dbosimpl.DefaultMaxRecovery)
	}
}

func TestDurationCode(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{time.Second, "time.Second"},
		{100 * time.Millisecond, "100 * time.Millisecond"},
		{1500 * time.Millisecond, "1500 * time.Millisecond"},
		{5 * time.Second, "5 * time.Second"},
		{90 * time.Second, "90 * time.Second"},
		{2 * time.Hour, "2 * time.Hour"},
		{150 * time.Minute, "150 * time.Minute"},
		{time.Microsecond, "time.Microsecond"},
		{1500, "time.Duration(1500)"},
		{1, "time.Duration(1)"},
		{1<<63 - 1, "time.Duration(9223372036854775807)"},
	} {
		if got := fmt.Sprintf("%#v", durationCode(tc.d)); got != tc.want {
			t.Errorf("durationCode(%v) = %s, want %s", tc.d, got, tc.want)
		}
	}
}

func TestGoflagsTags(t *testing.T) {
	for _, tc := range []struct {
		goflags string
		want    []string
	}{
		{"", nil},
		{"-mod=mod", nil},
		{"-tags=a,b -mod=mod", []string{"a", "b"}},
		{"--tags=a -tags=c", []string{"c"}},
	} {
		if got := goflagsTags(tc.goflags); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("goflagsTags(%q) = %q, want %q", tc.goflags, got, tc.want)
		}
	}
}

func TestParsePos(t *testing.T) {
	for _, tc := range []struct {
		in        string
		file      string
		line, col int
	}{
		{"/a/b.go:3:4", "/a/b.go", 3, 4},
		{"/a/b.go:3", "/a/b.go", 3, 0},
		{"C:/a/b.go:3:4", "C:/a/b.go", 3, 4},
		{"", "", 0, 0},
	} {
		p := parsePos(tc.in)
		if p.Filename != tc.file || p.Line != tc.line || p.Column != tc.col {
			t.Errorf("parsePos(%q) = %v, want %s:%d:%d", tc.in, p, tc.file, tc.line, tc.col)
		}
	}
}

// TestAcceptedSettingsRegister checks that every combination of keys the
// generator accepts is one dbosimpl.Register accepts too, so generated init
// functions never panic over a key's value.
func TestAcceptedSettingsRegister(t *testing.T) {
	step, _ := lookupDirective("step")
	workflow, _ := lookupDirective("workflow")
	for i, tc := range []struct {
		dir  directiveSpec
		args string
	}{
		{step, "retries=5 backoff=100ms max_backoff=5s"},
		{step, "retries=0"},
		{step, "retries=2147483647"},
		{step, "retries=1 max_backoff=100ms"},
		{step, "retries=1 backoff=20s"},
		{step, "retries=1 backoff=1s max_backoff=1s"},
		{step, "retries=1 backoff=1ns"},
		{step, "max_recovery=1"},
		{workflow, "max_recovery=2147483647"},
	} {
		var problems []string
		s := parseSettings(tc.dir, tc.args, func(offset int, msg string) { problems = append(problems, msg) })
		if len(problems) > 0 {
			t.Errorf("parseSettings(%s, %q): %q", tc.dir.Name, tc.args, problems)
			continue
		}
		fn := &dbosimpl.Function{
			Name:        fmt.Sprintf("gen.TestAcceptedSettingsRegister.%d", i),
			Kind:        dbosimpl.KindStep,
			Retries:     s.Retries.Value,
			Backoff:     s.Backoff.Value,
			MaxBackoff:  s.MaxBackoff.Value,
			MaxRecovery: s.MaxRecovery.Value,
		}
		if tc.dir.Kind == kindWorkflow {
			fn.Kind = dbosimpl.KindWorkflow
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s %q: dbosimpl.Register panicked: %v", tc.dir.Name, tc.args, r)
				}
			}()
			dbosimpl.Register(fn, func(context.Context, []byte) ([]byte, error) { return nil, nil })
		}()
	}
}
