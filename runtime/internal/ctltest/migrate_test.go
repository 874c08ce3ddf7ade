package ctltest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
	dbsql "github.com/dbosgen/dbosgen/sql"
)

// migrateDoc is the -json output of migrate.
type migrateDoc struct {
	Database    string   `json:"database"`
	Created     bool     `json:"created"`
	CreatedFile bool     `json:"created_file"`
	Applied     []string `json:"applied"`
	Version     int      `json:"version"`
}

// migrationNames returns the names of the migrations of url's engine and
// the newest version.
func migrationNames(t *testing.T, url string) ([]string, int) {
	t.Helper()
	get := dbsql.SQLiteMigrations
	if strings.HasPrefix(url, "postgres") {
		get = dbsql.PostgresMigrations
	}
	ms, err := get()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	return names, ms[len(ms)-1].Version
}

// TestMigrate: every command but migrate refuses a database without the
// schema (a missing SQLite file, an empty Postgres database) with the fix,
// and changes nothing; migrate creates the schema and says so, and then
// finds nothing to do.
func TestMigrate(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		db := "-database-url=" + url
		file := strings.TrimPrefix(url, "sqlite:")
		hint := []string{"dbosctl migrate"}
		if strings.HasPrefix(url, "sqlite:") {
			hint = append(hint, "no database file "+file)
		} else {
			hint = append(hint, "no dbosgen schema")
		}
		for _, args := range [][]string{
			{"workflow", "list"}, {"workflow", "get", "x"}, {"workflow", "steps", "x"}, {"workflow", "cancel", "x"},
			{"workflow", "resume", "x"}, {"workflow", "fork", "x", "-from-step", "1"},
			{"queue", "list"}, {"queue", "pause", "q"}, {"queue", "resume", "q"}, {"queue", "list", "-json"},
		} {
			fails(t, 1, hint, append(args, db)...)
		}
		if strings.HasPrefix(url, "sqlite:") {
			if _, err := os.Stat(file); !os.IsNotExist(err) {
				t.Fatalf("a refused command touched the file: %v", err)
			}
		}

		var m migrateDoc
		okJSON(t, &m, "migrate", db)
		names, version := migrationNames(t, url)
		if !m.Created || !slices.Equal(m.Applied, names) || m.Version != version || m.Database == "" ||
			m.CreatedFile != strings.HasPrefix(url, "sqlite:") {
			t.Errorf("migrate -json: %+v, want created with %v", m, names)
		}
		okJSON(t, &m, "migrate", db)
		if m.Created || m.CreatedFile || len(m.Applied) != 0 || m.Applied == nil || m.Version != version {
			t.Errorf("migrate -json again: %+v", m)
		}
		if out := ok(t, "migrate", db); !strings.Contains(out, "up to date") {
			t.Errorf("migrate again: %q", out)
		}
		if out := ok(t, "queue", "list", db); !strings.Contains(out, "No queues") {
			t.Errorf("queue list after migrate: %q", out)
		}
		if out := ok(t, "workflow", "list", db); !strings.Contains(out, "No workflows") {
			t.Errorf("workflow list after migrate: %q", out)
		}
	})
}

// TestMigrateHumanOutput: migrate reports what it created, on each engine.
func TestMigrateHumanOutput(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "new.sqlite")
		out := ok(t, "migrate", "-database-url", "sqlite:"+file)
		if !strings.Contains(out, "Created database file "+file) || !strings.Contains(out, "0001_init.sql") {
			t.Errorf("migrate:\n%s", out)
		}
		if _, err := os.Stat(file); err != nil {
			t.Error(err)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		url := testdb.NewPostgresDatabase(t)
		out := ok(t, "migrate", "-database-url", url)
		if !strings.Contains(out, "Created the dbosgen schema") || !strings.Contains(out, "0001_init.sql") {
			t.Errorf("migrate:\n%s", out)
		}
	})
	t.Run("default", func(t *testing.T) {
		// No flag, no $DBOS_DATABASE_URL: sqlite:dbos.sqlite in the
		// working directory.
		dir := t.TempDir()
		cmd := ctlIn(t, dir, nil, "migrate")
		if cmd.code != 0 || !strings.Contains(cmd.stdout, "Created database file dbos.sqlite") {
			t.Fatalf("migrate with the default database: %s", cmd)
		}
		if _, err := os.Stat(filepath.Join(dir, "dbos.sqlite")); err != nil {
			t.Error(err)
		}
		if r := ctlIn(t, dir, nil, "queue", "list"); r.code != 0 {
			t.Errorf("queue list on the default database: %s", r)
		}
	})
}

// TestRefuseUnmigratedSQLiteFile: an existing SQLite file without the
// schema is refused, and left without it.
func TestRefuseUnmigratedSQLiteFile(t *testing.T) {
	file := testdb.SQLitePath(t)
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fails(t, 1, []string{"no dbosgen schema", "dbosctl migrate"}, "queue", "list", "-database-url", "sqlite:"+file)
	fails(t, 1, []string{"no dbosgen schema", "dbosctl migrate"}, "-database-url", "sqlite:"+file, "workflow", "list")
}
