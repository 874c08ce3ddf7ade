// Package ping is the durable work of the deploy tests' other program,
// which shares the database with the worker program but runs none of its
// functions or queues. Its dbos_gen.go is committed (see package crash).
package ping

import (
	"context"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// Queue is the other program's queue.
var Queue = dbos.NewQueue("deploy_other")

// Ping answers.
//
//dbos:step
func Ping(ctx context.Context, n int) (int, error) {
	return n, nil
}
