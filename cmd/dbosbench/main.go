package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/dbosgen/dbosgen/cmd/dbosbench/internal/bench"
)

func main() {
	if bench.IsChild() {
		os.Exit(bench.ChildMain())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run runs dbosbench with the command-line arguments args and returns the
// exit code: 0 when every run succeeded, 1 when one failed, 2 on bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dbosbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := fs.String("engine", "both", "database engine: postgres, sqlite or both")
	workloads := fs.String("workloads", strings.Join(bench.WorkloadNames(), ","), "comma-separated workloads to run")
	runs := fs.Int("runs", 3, "runs of each workload on each engine; the table shows medians")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	url := fs.String("url", bench.DefaultServerURL, "Postgres server on which each run creates (and drops) a fresh database")
	scale := fs.Float64("scale", 1, "multiply every workload's task count by this")
	timeout := fs.Duration("timeout", bench.DefaultTimeout, "limit on each benchmark process")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: dbosbench [flags]\n\nWorkloads: %s.\n\nFlags:\n", strings.Join(bench.WorkloadNames(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dbosbench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	var engines []string
	switch *engine {
	case "both":
		engines = []string{bench.EnginePostgres, bench.EngineSQLite}
	case bench.EnginePostgres, bench.EngineSQLite:
		engines = []string{*engine}
	default:
		fmt.Fprintf(stderr, "dbosbench: -engine %q: want postgres, sqlite or both\n", *engine)
		return 2
	}
	var names []string
	for _, w := range strings.Split(*workloads, ",") {
		if w = strings.TrimSpace(w); w != "" {
			names = append(names, w)
		}
	}
	if *runs < 1 || *scale <= 0 {
		fmt.Fprintln(stderr, "dbosbench: -runs and -scale must be positive")
		return 2
	}
	rep, err := bench.Run(ctx, bench.Options{
		Engines:   engines,
		Workloads: names,
		Runs:      *runs,
		Scale:     *scale,
		ServerURL: *url,
		Timeout:   *timeout,
		Log:       stderr,
	})
	if rep == nil {
		fmt.Fprintln(stderr, "dbosbench:", err)
		return 2
	}
	code := 0
	if err != nil {
		fmt.Fprintln(stderr, "dbosbench:", err)
		code = 1
	}
	if werr := rep.WriteTable(stdout); werr != nil {
		fmt.Fprintln(stderr, "dbosbench:", werr)
		code = 1
	}
	if *jsonOut != "" {
		b, jerr := json.MarshalIndent(rep, "", "  ")
		if jerr == nil {
			jerr = os.WriteFile(*jsonOut, append(b, '\n'), 0o644)
		}
		if jerr != nil {
			fmt.Fprintln(stderr, "dbosbench:", jerr)
			code = 1
		}
	}
	for _, e := range rep.Engines {
		for _, w := range e.Workloads {
			if len(w.Errors) > 0 {
				code = 1
			}
		}
	}
	return code
}
