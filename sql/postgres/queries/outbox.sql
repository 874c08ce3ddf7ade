-- name: TxDatabase :one
-- TxDatabase identifies the database a session is on: the cluster's system
-- identifier (shared by its physical replicas, different for every other
-- cluster) and the database's name within the cluster. For EnqueueFTx,
-- which writes in the caller's own transaction (InsertWorkflows, then
-- NotifyInTx): the store reads the runtime's once and compares the
-- transaction's with it before writing there. Any role may call
-- pg_control_system().
SELECT s.system_identifier::bigint AS system_identifier,
       current_database()::text AS database_name
FROM pg_control_system() AS s;

-- name: NotifyInTx :batchexec
-- NotifyInTx is Notify (notify.sql) run in the caller's transaction: the
-- notifications are delivered when it commits, and never if it rolls back.
-- Unlike Notify it leaves synchronous_commit alone: that transaction holds
-- the caller's own writes, whose durability is the caller's to choose.
SELECT pg_notify((@channels::text[])[i], (@payloads::text[])[i])
FROM generate_subscripts(@channels::text[], 1) AS i;
