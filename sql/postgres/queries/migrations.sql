-- name: LockMigrations :exec
-- LockMigrations serializes migrating processes until the transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended('dbos.migrations', 0));

-- name: MigrationsTableExists :one
-- MigrationsTableExists reports whether any migration was ever applied.
SELECT (to_regclass('dbos.migrations') IS NOT NULL)::boolean AS present;

-- name: MigrationVersion :one
-- MigrationVersion is the highest applied migration, 0 when none.
SELECT coalesce(max(version), 0)::bigint AS version FROM dbos.migrations;

-- name: InsertMigration :exec
INSERT INTO dbos.migrations (version, applied_ms) VALUES (@version, dbos.now_ms());
