-- name: MigrationsTableExists :one
-- MigrationsTableExists reports whether any migration was ever applied: the
-- number of columns of the migrations table, 0 when it does not exist.
SELECT count(*) AS present FROM pragma_table_info('migrations');

-- name: MigrationVersion :one
-- MigrationVersion is the highest applied migration, 0 when none.
SELECT CAST(coalesce(max(version), 0) AS INTEGER) AS version FROM migrations;

-- name: InsertMigration :exec
INSERT INTO migrations (version, applied_ms)
VALUES (@version, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER));
