package ctltest

import (
	"os"
	"strings"
	"testing"
)

// TestUsage: -h at every level prints the usage on stdout and exits 0;
// a wrong command line exits 2 with the usage line on stderr, before
// the database is opened.
func TestUsage(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		db := "-database-url=" + url
		for _, args := range [][]string{
			{"-h"}, {"-help"}, {db, "-h"},
			{"workflow", "-h"}, {"workflow", "list", "-h"}, {"workflow", "get", "-h"}, {"workflow", "steps", "-h"},
			{"workflow", "cancel", "-h"}, {"workflow", "resume", "-h"}, {"workflow", "fork", "-h"}, {"workflow", "fork", "x", "-h"},
			{"queue", "-h"}, {"queue", "list", "-h"}, {"queue", "pause", "-h"}, {"queue", "resume", "--help"},
			{"migrate", "-h"}, {"-json", "migrate", "-h"},
		} {
			r := ctl(t, append(args, db)...)
			if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "usage: dbosctl") {
				t.Errorf("dbosctl %s: %s", strings.Join(args, " "), r)
			}
		}
		top := ok(t, "-h")
		for _, want := range []string{"workflow list [-state S] [-queue Q] [-name F] [-since D] [-limit N]", "workflow fork ID -from-step N",
			"queue pause [-force] NAME", "migrate", "-database-url URL", "-json"} {
			if !strings.Contains(top, want) {
				t.Errorf("dbosctl -h lacks %q:\n%s", want, top)
			}
		}
		if out := ok(t, "workflow", "list", "-h"); !strings.Contains(out, "-state S") || !strings.Contains(out, "(default 100)") || !strings.Contains(out, "-database-url URL") {
			t.Errorf("workflow list -h:\n%s", out)
		}

		for _, c := range []struct {
			args  []string
			usage string // the usage line printed
			msg   string
		}{
			{nil, "usage: dbosctl [-database-url URL]", "missing command"},
			{[]string{"workflows"}, "usage: dbosctl [-database-url URL]", `unknown command "workflows"`},
			{[]string{"-bogus"}, "usage: dbosctl [", "flag provided but not defined: -bogus"},
			{[]string{"workflow"}, "usage: dbosctl workflow <command>", "missing command; want one of: list, get, steps, cancel, resume, fork"},
			{[]string{"workflow", "show", "x"}, "usage: dbosctl workflow <command>", `unknown command "show"`},
			{[]string{"queue", "delete"}, "usage: dbosctl queue <command>", `unknown command "delete"`},
			{[]string{"workflow", "list", "-bogus"}, "usage: dbosctl workflow list [-state S]", "flag provided but not defined: -bogus"},
			{[]string{"workflow", "list", "extra"}, "usage: dbosctl workflow list", `unexpected argument "extra"`},
			{[]string{"workflow", "list", "-state", "DONE"}, "usage: dbosctl workflow list", `unknown state "DONE" for -state; use one of ENQUEUED, PENDING, SUCCESS, ERROR, CANCELLED, DEAD_LETTER`},
			{[]string{"workflow", "list", "-since", "yesterday"}, "usage: dbosctl workflow list", `bad -since "yesterday"`},
			{[]string{"workflow", "list", "-since", "-1h"}, "usage: dbosctl workflow list", `bad -since "-1h"`},
			{[]string{"workflow", "list", "-limit", "0"}, "usage: dbosctl workflow list", "bad -limit 0"},
			{[]string{"workflow", "list", "-limit", "ten"}, "usage: dbosctl workflow list", `invalid value "ten" for flag -limit`},
			{[]string{"workflow", "list", "-state"}, "usage: dbosctl workflow list", "flag needs an argument: -state"},
			{[]string{"workflow", "get"}, "usage: dbosctl workflow get ID", "missing ID"},
			{[]string{"workflow", "get", "a", "b"}, "usage: dbosctl workflow get ID", `unexpected argument "b"`},
			{[]string{"workflow", "steps"}, "usage: dbosctl workflow steps ID", "missing ID"},
			{[]string{"workflow", "cancel"}, "usage: dbosctl workflow cancel ID", "missing ID"},
			{[]string{"workflow", "resume", "a", "-json", "b"}, "usage: dbosctl workflow resume ID", `unexpected argument "b"`},
			{[]string{"workflow", "fork", "x"}, "usage: dbosctl workflow fork ID -from-step N", "missing -from-step"},
			{[]string{"workflow", "fork", "-from-step", "2"}, "usage: dbosctl workflow fork ID", "missing ID"},
			{[]string{"workflow", "fork", "x", "-from-step", "0"}, "usage: dbosctl workflow fork ID", "bad -from-step 0"},
			{[]string{"queue", "list", "x"}, "usage: dbosctl queue list", `unexpected argument "x"`},
			{[]string{"queue", "pause"}, "usage: dbosctl queue pause [-force] NAME", "missing NAME"},
			{[]string{"queue", "resume", "-force", "q"}, "usage: dbosctl queue resume NAME", "flag provided but not defined: -force"},
			{[]string{"migrate", "now"}, "usage: dbosctl migrate", `unexpected argument "now"`},
			{[]string{"-json=maybe", "queue", "list"}, "usage: dbosctl [", "invalid boolean value"},
		} {
			fails(t, 2, []string{c.usage, c.msg, "-h' for help"}, append([]string{db}, c.args...)...)
		}
		// Nothing above opened the database: a SQLite file is not there,
		// and a Postgres database is still refused for want of a schema.
		if file, ok := strings.CutPrefix(url, "sqlite:"); ok {
			if _, err := os.Stat(file); !os.IsNotExist(err) {
				t.Errorf("the usage errors touched the database file: %v", err)
			}
		} else {
			fails(t, 1, []string{"dbosctl migrate"}, "queue", "list", db)
		}
	})
}

// TestFlagsAnywhere: the global flags go before the command, between
// its words or after it; the last one wins; "--" ends the flags.
func TestFlagsAnywhere(t *testing.T) {
	f := populate(t, "sqlite:"+t.TempDir()+"/ctl.sqlite")
	for _, args := range [][]string{
		{"-database-url", f.url, "-json", "workflow", "get", f.ok},
		{"-database-url=" + f.url, "workflow", "-json", "get", f.ok},
		{"workflow", "get", f.ok, "-database-url", f.url, "-json"},
		{"-database-url", "sqlite:/nonexistent/dbos.sqlite", "-json=false", "workflow", "get", "-json", "-database-url", f.url, f.ok},
		{"-json", "-database-url", f.url, "workflow", "get", "--", f.ok},
	} {
		var w workflowDoc
		r := ctl(t, args...)
		if r.code != 0 {
			t.Errorf("dbosctl %s: %s", strings.Join(args, " "), r)
			continue
		}
		decodeOne(t, r.stdout, &w)
		if w.ID != f.ok {
			t.Errorf("dbosctl %s: %+v", strings.Join(args, " "), w)
		}
	}
	// "--" lets an ID start with "-".
	fails(t, 1, []string{`workflow "-x" does not exist`}, "workflow", "get", "-database-url", f.url, "--", "-x")
}
