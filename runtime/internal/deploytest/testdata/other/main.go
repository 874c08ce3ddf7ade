// Command other is the deploy tests' different program: it declares other
// queues and registers other functions than the worker program (it does
// not import package crash), and serves until SIGINT or SIGTERM, printing
// "ready <executor ID> <version>" once launched. Its logs go to stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	_ "github.com/dbosgen/dbosgen/runtime/internal/deploytest/testdata/other/ping"
)

func main() {
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rt, err := dbos.Launch(ctx, dbos.Config{LeaseDuration: time.Second, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "other:", err)
		os.Exit(1)
	}
	defer rt.Shutdown(context.Background())
	fmt.Println("ready", rt.ExecutorID(), rt.AppVersion())
	<-ctx.Done()
}
