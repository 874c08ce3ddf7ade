-- dbosgen schema, version 7 (SQLite): step error codes. See the Postgres
-- migration of the same version.
ALTER TABLE steps ADD COLUMN code TEXT NOT NULL DEFAULT '';
