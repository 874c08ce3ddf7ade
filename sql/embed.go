// Package sql holds dbosgen's SQL, the single source of truth for every
// statement the runtime sends: per engine, the migrations (embedded here and
// applied in order when a store opens) and the queries that sqlc compiles
// into the runtime's store packages.
//
// Layout:
//
//	postgres/migrations/NNNN_name.sql   schema "dbos", applied in order
//	postgres/queries/*.sql              sqlc queries -> runtime/internal/store/pgstore/pgdb
//	sqlite/migrations/NNNN_name.sql
//	sqlite/queries/*.sql                sqlc queries -> runtime/internal/store/sqlitestore/sqlitedb
//	sqlc.yaml                           both engines
//
// Migrations are forward only. A migration's version is the number before
// the first underscore of its file name; versions are applied in increasing
// order and recorded in the migrations table, so a released file must never
// change: add a new one instead.
package sql

//go:generate go run github.com/sqlc-dev/sqlc/cmd/sqlc@v1.31.1 generate

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed postgres/migrations/*.sql sqlite/migrations/*.sql
var files embed.FS

// Migration is one schema change: a file of SQL statements run as a whole.
type Migration struct {
	Version int    // from the file name: 0001_init.sql is version 1
	Name    string // the file name
	SQL     string // the statements
}

// PostgresMigrations returns the Postgres migrations in version order.
func PostgresMigrations() ([]Migration, error) { return migrations("postgres/migrations") }

// SQLiteMigrations returns the SQLite migrations in version order.
func SQLiteMigrations() ([]Migration, error) { return migrations("sqlite/migrations") }

func migrations(dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations %s: %w", dir, err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		prefix, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration %s/%s: file name must start with a positive version number and an underscore (0001_name.sql)", dir, name)
		}
		if other, dup := seen[version]; dup {
			return nil, fmt.Errorf("migrations %s/%s and %s share version %d", dir, other, name, version)
		}
		seen[version] = name
		text, err := files.ReadFile(path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s/%s: %w", dir, name, err)
		}
		out = append(out, Migration{Version: version, Name: name, SQL: string(text)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}
