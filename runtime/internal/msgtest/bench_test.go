package msgtest

import (
	"context"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// BenchmarkSendRecv measures messages sent from outside a workflow to a
// workflow receiving them, in one process: each op is one Send (one
// insert) and one Recv (one transaction deleting the message and
// recording the step), including the receiver's wake-up.
func BenchmarkSendRecv(b *testing.B) {
	for _, engine := range []struct{ name, url string }{
		{"sqlite", "sqlite:" + testdb.SQLitePath(b)},
		{"postgres", testdb.PostgresURL(b)},
	} {
		b.Run(engine.name, func(b *testing.B) {
			rt, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: engine.url, ExecutorID: name("bench")})
			if err != nil {
				b.Fatal(err)
			}
			defer rt.Shutdown(context.Background())
			ctx := rt.WithContext(context.Background())
			h, err := StartReceiveN(ctx, b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if err := Inbox.Send(ctx, h.ID(), "m"); err != nil {
					b.Fatal(err)
				}
			}
			if n, err := h.GetResult(ctx); err != nil || n != b.N {
				b.Fatalf("received %d, %v; want %d", n, err, b.N)
			}
		})
	}
}

// BenchmarkSetGet measures the time from a workflow's Set to a Get
// waiting for it in the same process: each op starts a workflow that sets
// an event and waits for it with Get.
func BenchmarkSetGet(b *testing.B) {
	for _, engine := range []struct{ name, url string }{
		{"sqlite", "sqlite:" + testdb.SQLitePath(b)},
		{"postgres", testdb.PostgresURL(b)},
	} {
		b.Run(engine.name, func(b *testing.B) {
			rt, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: engine.url, ExecutorID: name("bench")})
			if err != nil {
				b.Fatal(err)
			}
			defer rt.Shutdown(context.Background())
			ctx := rt.WithContext(context.Background())
			b.ResetTimer()
			for range b.N {
				h, err := StartPublish(ctx, "v")
				if err != nil {
					b.Fatal(err)
				}
				if _, ok, err := Progress.Get(ctx, h.ID(), time.Minute); err != nil || !ok {
					b.Fatalf("Get = %v, %v", ok, err)
				}
			}
		})
	}
}
