package migrations_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/migrations"
)

func openEmpty(t *testing.T) (*pgxpool.Pool, *sql.DB) {
	t.Helper()
	return openPool(t, testdb.NewEmptyURL(t))
}

func openPool(t *testing.T, url string) (*pgxpool.Pool, *sql.DB) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	sqlDB := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { sqlDB.Close() })
	return pool, sqlDB
}

func schemas(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		`SELECT nspname FROM pg_namespace WHERE nspname IN ('tiktok','sapb1','integration','ops','report','river') ORDER BY nspname`)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func tableExists(t *testing.T, pool *pgxpool.Pool, name string) bool {
	t.Helper()
	var ok bool
	if err := pool.QueryRow(context.Background(), "SELECT to_regclass($1) IS NOT NULL", name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestUpDownUp(t *testing.T) {
	ctx := context.Background()
	pool, sqlDB := openEmpty(t)

	if err := migrations.Check(ctx, sqlDB); !errors.Is(err, migrations.ErrBehind) {
		t.Fatalf("Check on an empty database = %v, want ErrBehind", err)
	}
	applied, err := migrations.Up(ctx, sqlDB, nil)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	all := len(applied)
	if all < 5 {
		t.Fatalf("up applied %v, want every migration", applied)
	}
	if got := schemas(t, pool); len(got) != 6 {
		t.Fatalf("schemas after up = %v, want the five of DESIGN.md and river", got)
	}
	for _, tbl := range []string{"ops.exception", "ops.sync_run", "report.exceptions", "report.sync_lag", "river.river_job", "river.river_queue"} {
		if !tableExists(t, pool, tbl) {
			t.Errorf("%s missing after up", tbl)
		}
	}
	if err := migrations.Check(ctx, sqlDB); err != nil {
		t.Fatalf("Check after up: %v", err)
	}
	if again, err := migrations.Up(ctx, sqlDB, nil); err != nil || len(again) != 0 {
		t.Fatalf("second up = %v, %v; want nothing to do", again, err)
	}

	// One step down, then all the way: River's tables go with the rest.
	if undone, err := migrations.Down(ctx, sqlDB, -1, nil); err != nil || len(undone) != 1 {
		t.Fatalf("down one step = %v, %v", undone, err)
	}
	if err := migrations.Check(ctx, sqlDB); !errors.Is(err, migrations.ErrBehind) {
		t.Fatalf("Check after one step down = %v, want ErrBehind", err)
	}
	if _, err := migrations.Down(ctx, sqlDB, 0, nil); err != nil {
		t.Fatalf("down to 0: %v", err)
	}
	if got := schemas(t, pool); len(got) != 0 {
		t.Fatalf("schemas after down to 0 = %v, want none", got)
	}
	st, err := migrations.Status(ctx, sqlDB)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st {
		if m.Applied {
			t.Errorf("migration %d still applied after down to 0", m.Version)
		}
	}

	reapplied, err := migrations.Up(ctx, sqlDB, nil)
	if err != nil {
		t.Fatalf("up again: %v", err)
	}
	if len(reapplied) != all {
		t.Fatalf("up again applied %d migrations, want %d", len(reapplied), all)
	}
	if !tableExists(t, pool, "river.river_job") || !tableExists(t, pool, "ops.exception") {
		t.Fatal("tables missing after up, down, up")
	}
}

// Every migration's down must undo its up: stepping down and up one
// migration at a time from the top leaves the same schema.
func TestEachMigrationStepsDownAndUp(t *testing.T) {
	ctx := context.Background()
	pool, sqlDB := openEmpty(t)
	if _, err := migrations.Up(ctx, sqlDB, nil); err != nil {
		t.Fatal(err)
	}
	before := catalog(t, pool)
	st, err := migrations.Status(ctx, sqlDB)
	if err != nil {
		t.Fatal(err)
	}
	for range st {
		if _, err := migrations.Down(ctx, sqlDB, -1, nil); err != nil {
			t.Fatalf("stepping down: %v", err)
		}
	}
	if _, err := migrations.Up(ctx, sqlDB, nil); err != nil {
		t.Fatal(err)
	}
	if after := catalog(t, pool); after != before {
		t.Fatalf("schema differs after stepping down and up:\nbefore %s\nafter  %s", before, after)
	}
}

// catalog summarises the relations, columns and functions of our schemas.
func catalog(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	err := pool.QueryRow(context.Background(), `
		SELECT coalesce(string_agg(x, ' ' ORDER BY x), '') FROM (
			SELECT table_schema || '.' || table_name || '.' || column_name || ':' || data_type AS x
			FROM information_schema.columns
			WHERE table_schema IN ('tiktok','sapb1','integration','ops','report','river')
			UNION ALL
			SELECT n.nspname || '.' || p.proname
			FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
			WHERE n.nspname IN ('tiktok','sapb1','integration','ops','report','river')
			UNION ALL
			SELECT schemaname || '.' || indexname FROM pg_indexes
			WHERE schemaname IN ('tiktok','sapb1','integration','ops','report','river')
		) c`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Several processes may start at once and each run `migrate up`.
func TestConcurrentMigratorsAgree(t *testing.T) {
	ctx := context.Background()
	dbURL := testdb.NewEmptyURL(t)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			pool, err := pgxpool.New(ctx, dbURL)
			if err != nil {
				errs <- err
				return
			}
			defer pool.Close()
			sqlDB := stdlib.OpenDBFromPool(pool)
			defer sqlDB.Close()
			if _, err := migrations.Up(ctx, sqlDB, nil); err != nil {
				errs <- err
				return
			}
			_, err = migrations.ApplyAccess(ctx, pool, testdb.TestRoles)
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent migrate up: %v", err)
		}
	}
	pool, sqlDB := openPool(t, dbURL)
	if err := migrations.Check(ctx, sqlDB); err != nil {
		t.Fatalf("after concurrent migrators: %v", err)
	}
	if !tableExists(t, pool, "river.river_job") {
		t.Fatal("River's tables missing after concurrent migrators")
	}
}
