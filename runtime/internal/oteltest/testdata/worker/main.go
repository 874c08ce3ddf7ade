// Command worker is the trace test's worker program: it runs the queue
// oteltest.Children (DBOS_DATABASE_URL and DBOS_EXECUTOR_ID configure it),
// appending each span it ends to the file -spans as a JSON line, prints
// "ready <executor ID>", and serves until SIGINT or SIGTERM. With -block,
// the first run of Child(3) blocks until the process dies, and the
// program prints "blocked". Its logs go to stderr.
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

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/oteltest"
)

func main() {
	spans := flag.String("spans", "", "append every span, as a JSON line, to this file")
	block := flag.Bool("block", false, "block the first run of Child(3) and print blocked")
	flag.Parse()
	if err := run(*spans, *block); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(spans string, block bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f, err := os.OpenFile(spans, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(oteltest.NewJSONLines(f)))
	defer tp.Shutdown(context.Background())

	oteltest.Block.Store(block)
	go func() {
		<-oteltest.Blocked
		fmt.Println("blocked")
	}()
	rt, err := dbos.Launch(ctx, dbos.Config{
		TracerProvider: tp,
		ListenQueues:   []*dbos.Queue{oteltest.Children},
		LeaseDuration:  time.Second,
		Logger:         slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		return err
	}
	defer rt.Shutdown(context.Background())
	fmt.Println("ready", rt.ExecutorID())
	<-ctx.Done()
	return nil
}
