// Command worker is the deploy tests' worker program: it runs package
// crash's functions. It launches (DBOS_DATABASE_URL, DBOS_EXECUTOR_ID and
// DBOS_APP_VERSION configure it, as any dbos program), prints
// "ready <executor ID> <version>", and then either starts Pipeline(7)
// under the ID -start and prints "result <n>", or serves until SIGINT or
// SIGTERM. Its logs go to stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/deploytest/testdata/crash"
)

func main() {
	start := flag.String("start", "", "start Pipeline(7) under this workflow ID, print its result and exit")
	listen := flag.String("listen", "", "comma-separated queues to run (default: every declared queue)")
	flag.Parse()
	if err := run(*start, *listen); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

// lease is the programs' lease: short, so that the tests' takeovers come
// soon after a kill.
const lease = time.Second

func run(start, listen string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := dbos.Config{
		LeaseDuration: lease,
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	if listen != "" {
		cfg.ListenQueues = []*dbos.Queue{}
		for _, name := range strings.Split(listen, ",") {
			q, ok := crash.Queues[name]
			if !ok {
				return fmt.Errorf("no queue %q", name)
			}
			cfg.ListenQueues = append(cfg.ListenQueues, q)
		}
	}
	rt, err := dbos.Launch(ctx, cfg)
	if err != nil {
		return err
	}
	defer rt.Shutdown(context.Background())
	fmt.Println("ready", rt.ExecutorID(), rt.AppVersion())
	if start == "" {
		<-ctx.Done()
		return nil
	}
	h, err := crash.StartPipeline(ctx, 7, dbos.WithID(start))
	if err != nil {
		return err
	}
	result, err := h.GetResult(ctx)
	if err != nil {
		return err
	}
	fmt.Println("result", result)
	return nil
}
