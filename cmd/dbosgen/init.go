package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/dbosgen/dbosgen/templates"
)

// dbosgenModule is the module path of dbosgen, which a new project
// requires.
const dbosgenModule = "github.com/dbosgen/dbosgen"

// runInit runs "dbosgen init" with the arguments after "init" and returns
// the exit code.
func runInit(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("dbosgen init", flag.ContinueOnError)
	flags.SetOutput(stderr)
	modulePath := flags.String("module", "", "the new module's `path` (default example.com/ followed by DIR's base name)")
	flags.Usage = func() {
		fmt.Fprintf(flags.Output(), usage+"\n"+
			"dbosgen init writes a starter project into DIR, which must be new or empty:\n"+
			"go.mod, main.go, README.md, .gitignore and package tasks (a queue, a step,\n"+
			"a workflow, their generated dbos_gen.go and a test).\n\nFlags:\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() != 1 {
		fmt.Fprintf(stderr, "dbosgen init: want one folder, got %d arguments\n", flags.NArg())
		flags.Usage()
		return 2
	}
	dir := flags.Arg(0)
	if strings.HasPrefix(dir, "-") {
		fmt.Fprintf(stderr, "dbosgen init: flag %s must come before the folder\n", dir)
		flags.Usage()
		return 2
	}

	mod := *modulePath
	if mod == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			fmt.Fprintf(stderr, "dbosgen init: %v\n", err)
			return 1
		}
		mod = "example.com/" + filepath.Base(abs)
		if err := module.CheckPath(mod); err != nil {
			fmt.Fprintf(stderr, "dbosgen init: the module path %q made from the folder's name is not valid (%v); name one with -module\n", mod, err)
			return 2
		}
	} else if err := module.CheckPath(mod); err != nil {
		fmt.Fprintf(stderr, "dbosgen init: bad -module path: %v\n", err)
		return 2
	}

	switch entries, err := os.ReadDir(dir); {
	case err == nil && len(entries) > 0:
		fmt.Fprintf(stderr, "dbosgen init: %s exists and is not empty; name a new or empty folder\n", dir)
		return 2
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o777); err != nil {
			fmt.Fprintf(stderr, "dbosgen init: %v\n", err)
			return 1
		}
	default:
		if info, serr := os.Stat(dir); serr == nil && !info.IsDir() {
			fmt.Fprintf(stderr, "dbosgen init: %s exists and is not a folder; name a new or empty folder\n", dir)
			return 2
		}
		fmt.Fprintf(stderr, "dbosgen init: %v\n", err)
		return 1
	}

	data := templates.Data{Module: mod, Version: dbosgenVersion(debug.ReadBuildInfo())}
	if _, err := templates.Write(dir, data); err != nil {
		fmt.Fprintf(stderr, "dbosgen init: write the project into %s: %v\n", dir, err)
		return 1
	}
	fmt.Fprintf(stdout, "dbosgen init: wrote module %s into %s\n", mod, dir)
	if data.Placeholder() {
		fmt.Fprintf(stdout, "\nThis dbosgen has no published version: first add to %s\n\n"+
			"\treplace %s => /path/to/your/dbosgen/checkout\n", filepath.Join(dir, "go.mod"), dbosgenModule)
	}
	fmt.Fprintf(stdout, "\nNext:\n\n\tcd %s\n\tgo mod tidy\n\tgo generate ./...\n\tgo test ./...\n\tgo run .\n", dir)
	return 0
}

// dbosgenVersion returns the version of dbosgen a new project should
// require: the running dbosgen's module version when it is a real one (it
// was built as a published module, as by go install ...@version or go tool
// in a module requiring it), else templates.PlaceholderVersion (built from a
// checkout, from a replaced module, or without build information).
func dbosgenVersion(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return templates.PlaceholderVersion
	}
	for _, m := range append([]*debug.Module{&info.Main}, info.Deps...) {
		if m == nil || m.Path != dbosgenModule {
			continue
		}
		// Check accepts build metadata such as +dirty, which go.mod does not.
		if m.Replace == nil && module.Check(m.Path, m.Version) == nil && semver.Canonical(m.Version) == m.Version {
			return m.Version
		}
		break
	}
	return templates.PlaceholderVersion
}
