package gen

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
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
	for _, tc := range []struct {
		args     string
		want     settings
		problems []string
	}{
		{args: "", want: settings{}},
		{args: "name=x.Y", want: settings{Name: "x.Y"}},
		{args: `name="with space"`, want: settings{Name: "with space"}},
		{args: "nmae=x", problems: []string{`0: unknown key "nmae" in //dbos:step; did you mean name=?`}},
		{args: "name", problems: []string{`0: key "name" in //dbos:step needs a value; write name=<value>`}},
		{args: "name=a name=b", want: settings{Name: "a"}, problems: []string{"7: key name= is set twice in //dbos:step; keep one"}},
		{args: "bogus", problems: []string{`0: unexpected "bogus" in //dbos:step; arguments are key=value pairs (the only key is name=)`}},
	} {
		var problems []string
		got := parseSettings("step", tc.args, func(offset int, msg string) {
			problems = append(problems, strconv.Itoa(offset)+": "+msg)
		})
		if got != tc.want || !reflect.DeepEqual(problems, tc.problems) {
			t.Errorf("parseSettings(%q) = %+v, %q; want %+v, %q", tc.args, got, problems, tc.want, tc.problems)
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
