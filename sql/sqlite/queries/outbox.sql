-- name: MainDatabaseFile :one
-- MainDatabaseFile (for EnqueueFTx, which writes in the caller's own
-- transaction with InsertWorkflow) is the file of the connection's main database ("" for
-- an in-memory or temporary one). The store compares the caller's
-- transaction's with its own before writing in that transaction.
SELECT CAST(file AS TEXT) AS file FROM pragma_database_list WHERE name = 'main';
