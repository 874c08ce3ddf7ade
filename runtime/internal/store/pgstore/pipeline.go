package pgstore

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

// batchSender is what sends a pipeline: the pool (the statements then run
// in one implicit transaction of their own) or a transaction.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// pipeline sends the statements of several sqlc batch queries (:batchexec,
// :batchone, :batchmany) in one round trip. Use it as the pgdb.DBTX of a
// pgdb.Queries: calling a batch query queues its statements (in call order)
// instead of sending them; send sends them all as one pgx.Batch; then the
// queries' results are read, in the order they were queued; close ends the
// batch and reports whether it committed.
//
// Sent by the pool (outside an explicit transaction), the statements of a
// batch run as one implicit transaction: in order, each with a snapshot of
// its own (READ COMMITTED), committed after the last one and rolled back
// entirely when one fails (the server then skips the rest). So a statement
// that takes a lock and a later one that reads under it make one round trip
// and one commit.
//
// Only batch queries may be queued: the other methods of pgdb.DBTX fail.
type pipeline struct {
	batch pgx.Batch
	br    pgx.BatchResults // set by send
}

var _ pgdb.DBTX = (*pipeline)(nil)

// errNotBatch is returned by a pipeline's non-batch methods.
var errNotBatch = errors.New("pgstore: only sqlc batch queries can run in a pipeline")

// SendBatch queues b's statements; the results it returns read them once
// the pipeline is sent.
func (p *pipeline) SendBatch(_ context.Context, b *pgx.Batch) pgx.BatchResults {
	p.batch.QueuedQueries = append(p.batch.QueuedQueries, b.QueuedQueries...)
	return pipelineResults{p}
}

// Exec fails: only batch queries can be queued.
func (p *pipeline) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, errNotBatch
}

// Query fails: only batch queries can be queued.
func (p *pipeline) Query(context.Context, string, ...any) (pgx.Rows, error) {
	return nil, errNotBatch
}

// QueryRow fails: only batch queries can be queued.
func (p *pipeline) QueryRow(context.Context, string, ...any) pgx.Row {
	return errRow{errNotBatch}
}

// send sends every queued statement in one batch.
func (p *pipeline) send(ctx context.Context, via batchSender) {
	p.br = via.SendBatch(ctx, &p.batch)
}

// close reads what the batch left unread and ends it: nil means that every
// statement succeeded (and, sent by the pool, that the batch committed).
// The connection returns to the pool.
func (p *pipeline) close() error {
	if p.br == nil {
		return errors.New("pgstore: pipeline closed before it was sent")
	}
	return p.br.Close()
}

// pipelineResults reads one query's results from the pipeline's batch.
// Closing it does nothing: the pipeline's close ends the batch.
type pipelineResults struct{ p *pipeline }

func (r pipelineResults) Exec() (pgconn.CommandTag, error) {
	if r.p.br == nil {
		return pgconn.CommandTag{}, errNotSent
	}
	return r.p.br.Exec()
}

func (r pipelineResults) Query() (pgx.Rows, error) {
	if r.p.br == nil {
		return nil, errNotSent
	}
	return r.p.br.Query()
}

func (r pipelineResults) QueryRow() pgx.Row {
	if r.p.br == nil {
		return errRow{errNotSent}
	}
	return r.p.br.QueryRow()
}

func (r pipelineResults) Close() error { return nil }

func (r pipelineResults) Tx() pgx.Tx { return nil }

// errNotSent is returned when results are read before the pipeline is sent.
var errNotSent = errors.New("pgstore: pipeline results read before it was sent")

// errRow is a pgx.Row that fails.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
