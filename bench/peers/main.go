// Command peers compares dbosgen with River (tuned as River's own
// benchmark command runs it) and DBOS Transact Go on the same workloads,
// against the same Postgres server, in one sitting: each round runs every
// workload once per system, alternating the systems (the order rotates
// from round to round), each run on a fresh database and in fresh
// processes. At the end it prints one Markdown table of medians, each
// with its runs, the ratios and the goals of issue 14.
//
//	cd bench/peers && go run . -rounds 3
//
// dbosgen's side is cmd/dbosbench of this repository, built once and run
// with -json for each run; this module does not import dbosgen, so River
// and DBOS Go stay out of dbosgen's go.mod. The peers' side runs in child
// processes of this program.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	if os.Getenv(peerEnv) != "" {
		os.Exit(peerMain())
	}
	var o options
	flag.IntVar(&o.rounds, "rounds", 3, "rounds: each runs every workload once on every system")
	flag.StringVar(&o.workloads, "workloads", strings.Join(caseNames(), ","), "comma-separated workloads to compare")
	flag.StringVar(&o.db, "db", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "admin URL of the Postgres server: every run creates (and drops) a fresh database there")
	flag.StringVar(&o.repo, "repo", "../..", "the dbosgen repository, whose cmd/dbosbench runs dbosgen's side")
	flag.StringVar(&o.dbosbench, "dbosbench", "", "a built dbosbench binary to use instead of building the repository's")
	flag.Float64Var(&o.scale, "scale", 1, "multiply every workload's task count by this (for a quick try; the goals are for 1)")
	flag.DurationVar(&o.dbosPoll, "dbos-poll", 10*time.Millisecond, "DBOS Go's queue polling interval, and its handles' (both default to 1s)")
	flag.StringVar(&o.jsonOut, "json", "", "also write every run's numbers as JSON to this file")
	flag.StringVar(&o.logFile, "log", "", "write the runs' progress and stderr to this file instead of stderr")
	flag.StringVar(&o.from, "from", "", "run nothing: print the table of the runs a -json FILE recorded")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run . [flags]\n\nWorkloads:\n")
		for _, c := range cases {
			fmt.Fprintf(flag.CommandLine.Output(), "  %-12s %s\n", c.key, c.about)
		}
		fmt.Fprintf(flag.CommandLine.Output(), "\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 || o.rounds < 1 || o.scale <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := compare(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}
