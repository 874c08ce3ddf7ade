package store

import "context"

// TxInserter writes workflows in a transaction the caller owns (EnqueueFTx,
// the outbox): they exist only if that transaction commits.
type TxInserter interface {
	// InsertTx inserts ps in tx, the caller's own open transaction, with
	// the queries and the results of InsertWorkflows: res[i] reports
	// ps[i]; an existing ID reports the existing row (also one inserted
	// earlier in tx) with Created=false; a held deduplication ID is a
	// *DuplicateError in its Err. Nothing is committed: the rows become
	// visible to others, and claimable, only when the caller commits tx,
	// and a rollback leaves no trace.
	//
	// tx must be a transaction on this store's database, of a type the
	// engine takes: on Postgres a pgx.Tx, or a *sql.Tx of pgx's
	// database/sql driver (github.com/jackc/pgx/v5/stdlib); on SQLite a
	// *sql.Tx of modernc.org/sqlite on this store's file. InsertTx checks
	// that first, in tx, and fails, having written nothing, with an error
	// wrapping sentinel.ErrOtherDatabase when tx is on another database
	// (or of another engine); a tx of a type no engine takes (nil
	// included) is an error too.
	//
	// On an engine with notifications (Events not nil) it also sends, in
	// tx, EventEnqueued for the queues of ps's ENQUEUED rows: delivered to
	// every process when tx commits, never if it rolls back. On the
	// others whoever wants to wake at the commit watches for the rows.
	InsertTx(ctx context.Context, tx any, ps []InsertParams) (res []InsertResult, err error)
}
