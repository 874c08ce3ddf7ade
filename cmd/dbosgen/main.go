// Command dbosgen generates typed durable functions for the functions of a
// package annotated with //dbos:step or //dbos:workflow.
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
//
// dbosgen writes dbos_gen.go beside the sources of each package (default
// "."), and removes a dbos_gen.go it wrote earlier from a package that has
// no annotated functions left. With -check it writes nothing and exits 1
// when a generated file is out of date.
//
// Exit codes: 0 success; 1 errors in the annotated code, drift found by
// -check, or a failure to load or write; 2 bad usage.
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
	os.Exit(run(context.Background(), os.Args[1:], os.Stderr))
}

// run runs dbosgen with the command-line arguments args and returns the
// exit code.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("dbosgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "report generated files that are out of date and exit 1, without writing anything")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: dbosgen [-check] [packages]\n\n"+
			"dbosgen writes dbos_gen.go beside each package (default \".\") that has\n"+
			"//dbos:step or //dbos:workflow functions. Run it with //go:generate go tool dbosgen.\n\nFlags:\n")
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
