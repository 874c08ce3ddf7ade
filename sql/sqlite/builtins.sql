-- Not a migration: this file only tells sqlc (sqlc.yaml) the columns of the
-- SQLite built-ins the queries read, which its catalog lacks. Nothing
-- applies it to a database.

-- pragma_database_list is PRAGMA database_list as a table-valued function:
-- one row per database attached to the connection ("main" first).
CREATE TABLE pragma_database_list (
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    file TEXT NOT NULL
);
