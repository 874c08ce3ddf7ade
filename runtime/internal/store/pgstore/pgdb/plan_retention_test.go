package pgdb

// Not generated: a test of the plans of the statements that delete
// finished workflows (see plan_test.go).

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
	dbsql "github.com/dbosgen/dbosgen/sql"
)

// TestDeletionPlans: in a database never analyzed, a retention sweep's
// batch reads workflows_completed_idx in order, bounded on both sides (a
// bitmap scan would read every expired row, and an unbounded scan every
// finished one), and every statement that deletes finds the rows it
// deletes by the primary key.
func TestDeletionPlans(t *testing.T) {
	ctx := t.Context()
	cfg, err := pgx.ParseConfig(testdb.NewPostgresDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["enable_seqscan"] = "off" // as pgstore's connections
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	migrations, err := dbsql.PostgresMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations {
		if _, err := conn.Exec(ctx, m.SQL); err != nil {
			t.Fatalf("migration %s: %v", m.Name, err)
		}
	}
	// 50,000 rows, nine in ten finished long ago.
	if _, err := conn.Exec(ctx, `INSERT INTO dbos.workflows (workflow_id, name, state, created_ms, completed_ms)
		SELECT 'w' || i, 'f', CASE WHEN i % 10 = 0 THEN 'PENDING' ELSE 'SUCCESS' END, i,
		       CASE WHEN i % 10 = 0 THEN NULL ELSE i END
		FROM generate_series(1, 50000) AS i`); err != nil {
		t.Fatal(err)
	}
	explain := func(t *testing.T, sql string, args ...any) planNode {
		t.Helper()
		var plan []struct{ Plan planNode }
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, sweepPlanning, "off"); err != nil {
				return err
			}
			return tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&plan)
		})
		if err != nil {
			t.Fatalf("explain: %v", err)
		}
		return plan[0].Plan
	}
	byPrimaryKey := func(t *testing.T, plan planNode, aliases ...string) {
		t.Helper()
		for _, alias := range aliases {
			scans := plan.scansOf(alias)
			if len(scans) == 0 {
				t.Fatalf("no scan of dbos.workflows %s in the plan:\n%s", alias, plan)
			}
			for _, n := range scans {
				for _, ix := range n.indexes() {
					if ix != "workflows_pkey" {
						t.Errorf("index %s finds the rows of %s, not workflows_pkey:\n%s", ix, alias, plan)
					}
				}
			}
		}
	}

	t.Run("DeleteExpired", func(t *testing.T) {
		plan := explain(t, deleteExpired, int64(1000), int64(100), int64(100), int64(1000))
		scans := plan.scansOf("e")
		if len(scans) != 1 || scans[0].NodeType != "Index Scan" || scans[0].IndexName != "workflows_completed_idx" {
			t.Fatalf("the expired rows are not read by an index scan of workflows_completed_idx:\n%s", plan)
		}
		byPrimaryKey(t, plan, "w", "d")
	})
	t.Run("DeleteFinished", func(t *testing.T) {
		byPrimaryKey(t, explain(t, deleteFinished, []string{"w1", "w2", "w3"}), "w", "d")
	})
}
