package dbos

// Tx is a transaction of the program's own, on the runtime's database, in
// which a generated EnqueueFTx writes its call (the transactional outbox):
// the call is enqueued if and only if the transaction commits, atomically
// with the program's own writes, and a rollback leaves no trace of it. The
// transaction stays the caller's: EnqueueFTx neither commits nor rolls it
// back.
//
// pgx.Tx and *sql.Tx share no methods, so Tx is any value; EnqueueFTx
// takes these:
//
//   - On Postgres, a pgx.Tx (github.com/jackc/pgx/v5: Conn.Begin,
//     pgxpool.Pool.Begin), or a *sql.Tx of pgx's database/sql driver
//     (import _ "github.com/jackc/pgx/v5/stdlib"; sql.Open("pgx", url)).
//     Workers are woken at the commit: the enqueue's notification is sent
//     in the transaction, and Postgres delivers it when it commits.
//   - On SQLite, a *sql.Tx of modernc.org/sqlite (sql.Open("sqlite", dsn))
//     on the runtime's file. Open that file as the runtime does, so that
//     the program's transactions and the runtime's wait for each other
//     rather than fail with SQLITE_BUSY:
//     "PATH?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate".
//     SQLite has no notifications: a runtime that runs the queue in the
//     enqueuing process watches for the commit and wakes its worker within
//     about a millisecond; other processes find the call at their next
//     poll (Config.PollInterval).
//
// Any other value is an error, and so is a transaction on another database
// than the runtime's (ErrOtherDatabase): EnqueueFTx checks, in the
// transaction, before writing.
//
// The call is made at the EnqueueFTx, not at the commit: its ID, its
// place in the queue's order, its creation time and the start of a
// WithDelay are taken then. Options, the workflow ID as an idempotency key
// (an existing ID returns the existing call's handle) and deduplication
// IDs (ErrDuplicate) work as with EnqueueF. Inside a workflow EnqueueFTx
// is refused (use EnqueueF, a checkpointed step); inside a step, which may
// run more than once, give the call an ID (WithID) to enqueue it once.
//
// Keep such transactions short. The enqueue holds, until the transaction
// ends, what any enqueue holds until its commit: on Postgres a shared lock
// of the queue that a queue with limits (Concurrency, RateLimit, ...)
// takes exclusively to claim, so such a queue starts nothing anywhere
// while the transaction is open; on SQLite the file's write lock, so no
// other writer (the runtime's included) proceeds until it ends.
type Tx any
