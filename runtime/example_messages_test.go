package dbos_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/dbosgen/dbosgen/examples/tasks"
	dbos "github.com/dbosgen/dbosgen/runtime"
)

// Sleep inside a workflow: the wake-up time is checkpointed, so a workflow
// recovered after a crash wakes when it was due to, not a full duration
// after the restart. tasks.Remind is:
//
//	//dbos:workflow
//	func Remind(ctx context.Context, after time.Duration, note string) (string, error) {
//		if err := dbos.Sleep(ctx, after); err != nil {
//			return "", err
//		}
//		return "reminder: " + note, nil
//	}
func ExampleSleep() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "dbos-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + filepath.Join(dir, "example.sqlite")})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Shutdown(ctx)

	h, err := tasks.StartRemind(ctx, 20*time.Millisecond, "call Bob")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(h.GetResult(ctx))
	// Output:
	// reminder: call Bob <nil>
}

// Send a message to a running workflow by its ID; the workflow receives it
// with Recv. tasks.Order waits for a decision on the topic tasks.Approvals:
//
//	var Approvals = dbos.NewTopic[Approval]("approvals")
//
//	//dbos:workflow
//	func Order(ctx context.Context, item string, wait time.Duration) (string, error) {
//		...
//		a, ok, err := Approvals.Recv(ctx, wait) // ok is false after wait
//		...
//	}
func ExampleTopic() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "dbos-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + filepath.Join(dir, "example.sqlite")})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Shutdown(ctx)

	h, err := tasks.StartOrder(ctx, "book", time.Hour, dbos.WithID("order-1"))
	if err != nil {
		log.Fatal(err)
	}
	// From anywhere (a handler, another process): the message is kept until
	// the workflow receives it.
	if err := tasks.Approvals.Send(ctx, "order-1", tasks.Approval{Approved: true, By: "alice"}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(h.GetResult(ctx))
	// Output:
	// book: approved by alice <nil>
}

// A workflow publishes an event with Set; anyone reads it by the
// workflow's ID with Get, which waits until it is set or the timeout
// passes. tasks.Order publishes its status on tasks.OrderStatus:
//
//	var OrderStatus = dbos.NewEvent[string]("order_status")
//
//	//dbos:workflow
//	func Order(ctx context.Context, item string, wait time.Duration) (string, error) {
//		if err := OrderStatus.Set(ctx, "awaiting approval"); err != nil {
//			return "", err
//		}
//		...
//	}
func ExampleEvent() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "dbos-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + filepath.Join(dir, "example.sqlite")})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Shutdown(ctx)

	h, err := tasks.StartOrder(ctx, "lamp", time.Hour, dbos.WithID("order-2"))
	if err != nil {
		log.Fatal(err)
	}
	status, ok, err := tasks.OrderStatus.Get(ctx, "order-2", time.Minute)
	fmt.Println(status, ok, err)

	if err := tasks.Approvals.Send(ctx, "order-2", tasks.Approval{Approved: false, By: "bob"}); err != nil {
		log.Fatal(err)
	}
	if _, err := h.GetResult(ctx); err != nil {
		log.Fatal(err)
	}
	status, ok, err = tasks.OrderStatus.Get(ctx, "order-2", time.Minute) // the latest value
	fmt.Println(status, ok, err)

	// A key the workflow never sets: Get times out with ok false.
	never := dbos.NewEvent[string]("never_set")
	_, ok, err = never.Get(ctx, "order-2", 10*time.Millisecond)
	fmt.Println(ok, err)
	// Output:
	// awaiting approval true <nil>
	// rejected by bob true <nil>
	// false <nil>
}
