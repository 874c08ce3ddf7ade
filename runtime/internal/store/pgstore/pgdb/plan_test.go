package pgdb

// Not generated: a test of the plans Postgres picks for the statements sqlc
// compiled here (it needs their text, which only this package sees).

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
	dbsql "github.com/dbosgen/dbosgen/sql"
)

// TestRowsFoundByPrimaryKeyWithoutStatistics: the statements that finish,
// claim, checkpoint or check the ownership of workflows they identify by
// ID find the rows by the primary key (or, on a small table, by reading it
// whole), never through another index, even in a database never analyzed
// (autovacuum off, or not yet run), where the partial indexes on state
// look empty to the planner. Their fences and rechecks must not steer it
// to a partial index, which would make each row cost a scan of every
// PENDING (or ENQUEUED) row.
func TestRowsFoundByPrimaryKeyWithoutStatistics(t *testing.T) {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, testdb.NewPostgresDatabase(t))
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
	// 50,000 rows on queue q, the first 2,000 PENDING under executor ex.
	setup := []string{
		`INSERT INTO dbos.workflows (workflow_id, name, state, queue_name, created_ms)
		 SELECT 'w' || i, 'f', 'ENQUEUED', 'q', 1 FROM generate_series(1, 50000) AS i`,
		`UPDATE dbos.workflows SET state = 'PENDING', executor_id = 'ex', attempts = 1, started_ms = 1
		 WHERE seq <= 2000`,
		// The claim barrier's bound, which LockQueue sets for the claims.
		`SELECT set_config('dbos.claim_seq_bound', '50000', false)`,
	}
	for _, s := range setup {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = fmt.Sprint("w", 1000+i)
	}
	fill := func(v string) []string {
		s := make([]string, len(ids))
		for i := range s {
			s[i] = v
		}
		return s
	}
	attempts := make([]int32, len(ids))
	for i := range attempts {
		attempts[i] = 1
	}
	cases := []struct {
		name  string
		sql   string
		alias string // of the rows the statement changes
		args  []any
	}{
		{"CompleteWorkflows", completeWorkflows, "w", []any{ids, fill("ex"), attempts, fill("SUCCESS"), make([][]byte, len(ids)), fill("")}},
		{"ClaimUnlimited", claimUnlimited, "w", []any{"ex", "v1", "q", false, []string{"s1"}, []string{"f"}, false, int64(100), []string{}}},
		{"ClaimUnderLock", claimUnderLock, "w", []any{"ex", "v1", "q", int64(100), false, []string{"s1"}, []string{"f"}}},
		{"ClaimPartitioned", claimPartitioned, "w", []any{"ex", "v1", int64(0), int64(0), int64(0), "q", false, []string{"s1"}, []string{"f"}, int64(100)}},
		{"InsertStep", insertStep, "w", []any{"w1000", int32(1), "s", []byte(nil), "", "", "", (*int64)(nil), "ex", int32(1)}},
		{"InsertSteps", insertSteps, "w", []any{"w1000", "ex", int32(1), []int32{1}, []string{"s"}, [][]byte{nil}, []string{""}, []string{""}, []string{""}, []int64{0}}},
		{"OwnedWorkflows", ownedWorkflows, "workflows", []any{ids, "ex"}},
		{"ReleaseWorkflow", releaseWorkflow, "w", []any{"w1000", "ex", int32(1)}},
		{"ResumePending", resumePending, "w", []any{"v1", "ex", false, []string{"s1"}, []string{"f"}}},
		{"TakeOverWorkflows", takeOverWorkflows, "w", []any{"taker", "v1", "ex", false, []string{"s1"}, []string{"f"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var plan []struct{ Plan planNode }
			if err := conn.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+c.sql, c.args...).Scan(&plan); err != nil {
				t.Fatalf("explain: %v", err)
			}
			found := false
			for _, n := range plan[0].Plan.scansOf(c.alias) {
				found = true
				for _, ix := range n.indexes() {
					if ix != "workflows_pkey" {
						t.Errorf("index %s finds the rows, not workflows_pkey:\n%s", ix, plan[0].Plan)
					}
				}
			}
			if !found {
				t.Fatalf("no scan of dbos.workflows %s in the plan:\n%s", c.alias, plan[0].Plan)
			}
		})
	}
}

// planNode is a node of EXPLAIN (FORMAT JSON).
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Relation  string     `json:"Relation Name"`
	Alias     string     `json:"Alias"`
	IndexName string     `json:"Index Name"`
	Plans     []planNode `json:"Plans"`
}

// scansOf returns the nodes that scan dbos.workflows under alias.
func (n planNode) scansOf(alias string) []planNode {
	var out []planNode
	if n.Relation == "workflows" && n.Alias == alias && n.NodeType != "ModifyTable" {
		out = append(out, n)
	}
	for _, c := range n.Plans {
		out = append(out, c.scansOf(alias)...)
	}
	return out
}

// indexes returns the indexes a scan node reads (a bitmap heap scan reads
// those of its bitmap index scans).
func (n planNode) indexes() []string {
	var out []string
	if n.IndexName != "" {
		out = append(out, n.IndexName)
	}
	if n.NodeType == "Bitmap Heap Scan" || n.NodeType == "BitmapAnd" || n.NodeType == "BitmapOr" {
		for _, c := range n.Plans {
			out = append(out, c.indexes()...)
		}
	}
	return out
}

func (n planNode) String() string {
	b, _ := json.MarshalIndent(n, "", "  ")
	return string(b)
}
