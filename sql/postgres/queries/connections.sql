-- What a process checks about the server when it opens the store (see
-- pgstore's connect.go): the connection slots it may take, and which
-- database a LISTEN connection reaches.

-- name: ConnectionSlots :one
-- ConnectionSlots reads the server's connection limits and how much of them
-- is in use: max_connections less the slots reserved for superusers, the
-- client backends connected now (every role), and the current role's own
-- CONNECTION LIMIT (-1: none) with its backends. Any role may read it:
-- pg_stat_activity shows every backend's row, without details, to all.
SELECT current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS reserved,
       (SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend')::int AS in_use,
       coalesce((SELECT rolconnlimit FROM pg_catalog.pg_roles WHERE rolname = current_user), -1)::int AS role_limit,
       (SELECT count(*) FROM pg_catalog.pg_stat_activity
        WHERE backend_type = 'client backend' AND usename = current_user)::int AS role_in_use,
       (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)::boolean AS superuser;

-- name: ServerIdentity :one
-- ServerIdentity names the database a connection reaches (its real name,
-- whatever alias a pooler gave it) and whether the server is a standby: a
-- LISTEN connection (Config.ListenURL) must reach the database the pool
-- writes to, on the primary.
SELECT current_database()::text AS database, pg_is_in_recovery()::boolean AS in_recovery;
