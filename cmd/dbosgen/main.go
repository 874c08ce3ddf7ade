// Command dbosgen generates typed durable functions for the functions of a
// package annotated with //dbos:step or //dbos:workflow, and writes starter
// projects.
//
// Add it to a module once with
//
//	go get -tool github.com/dbosgen/dbosgen/cmd/dbosgen
//
// and put this line in any file of each package that has annotated
// functions:
//
//	//go:generate go tool dbosgen
//
// Usage:
//
//	dbosgen [-check] [packages]
//	dbosgen init [-module PATH] DIR
//
// dbosgen writes dbos_gen.go beside the sources of each package (default
// "."), and removes a dbos_gen.go it wrote earlier from a package that has
// no annotated functions left. With -check it writes nothing and exits 1
// when a generated file is out of date. (To generate for a package
// directory named init, write ./init.)
//
// dbosgen init writes a starter project into DIR, which must be new or
// empty: a module (path PATH, default example.com/ followed by DIR's base
// name) that requires this dbosgen's version and has it as a tool; package
// tasks with a queue, a step, a workflow that runs the step on the queue
// once per input, its generated dbos_gen.go and a test; a main.go that runs
// the workflow; a README.md with the next commands; and a .gitignore. When
// dbosgen has no published version (it was built from a checkout), go.mod
// requires a placeholder version and needs a replace directive pointing at
// that checkout. The files come from package
// github.com/dbosgen/dbosgen/templates.
//
// Exit codes: 0 success; 1 errors in the annotated code, drift found by
// -check, or a failure to load or write; 2 bad usage, including a DIR that
// is not empty or a bad module path.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dbosgen/dbosgen/gen"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// usage is the first lines of the usage text of dbosgen and dbosgen init.
const usage = "usage: dbosgen [-check] [packages]\n" +
	"       dbosgen init [-module PATH] DIR\n"

// run runs dbosgen with the command-line arguments args and returns the
// exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "init" {
		return runInit(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("dbosgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "report generated files that are out of date and exit 1, without writing anything")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), usage+"\n"+
			"dbosgen writes dbos_gen.go beside each package (default \".\") that has\n"+
			"//dbos:step or //dbos:workflow functions. Run it with //go:generate go tool dbosgen.\n"+
			"dbosgen init writes a starter project into DIR; see dbosgen init -h.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	for _, arg := range fs.Args() {
		if strings.HasPrefix(arg, "-") {
			fmt.Fprintf(stderr, "dbosgen: flag %s must come before the packages\n", arg)
			fs.Usage()
			return 2
		}
	}
	err := gen.Run(ctx, gen.Options{Patterns: fs.Args(), Check: *check, Stderr: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "dbosgen: %v\n", err)
		return 1
	}
	return 0
}
