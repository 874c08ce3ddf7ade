-- name: MainDatabaseFile :one
-- MainDatabaseFile is the file of the connection's main database ("" for
-- an in-memory or temporary one). For EnqueueFTx, which writes in the
-- caller's own transaction (InsertWorkflow): the store checks that the
-- transaction's file is its own before writing there.
SELECT CAST(file AS TEXT) AS file FROM pragma_database_list WHERE name = 'main';
