package migrations_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/migrations"
)

// uniqueRoles returns role names no other test uses, dropped when the test
// ends (after its databases, which t.Cleanup drops first).
func uniqueRoles(t *testing.T) migrations.Roles {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	suffix := hex.EncodeToString(b)
	roles := migrations.Roles{App: "tkb_app_" + suffix, Analyst: "tkb_analyst_" + suffix}
	admin := testdb.AdminURL(t)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		for _, r := range []string{roles.App, roles.Analyst, "tkb_login_" + suffix} {
			if _, err := conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{r}.Sanitize()); err != nil {
				t.Errorf("drop role %s: %v", r, err)
			}
		}
	})
	return roles
}

func migrateWithRoles(t *testing.T, dbURL string, roles migrations.Roles) migrations.Access {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	if _, err := migrations.Up(ctx, sqlDB, nil); err != nil {
		t.Fatalf("up: %v", err)
	}
	access, err := migrations.ApplyAccess(ctx, pool, roles)
	if err != nil {
		t.Fatalf("access: %v", err)
	}
	return access
}

// asRole runs sql as role inside a transaction that is rolled back, and
// returns the SQLSTATE of its error ("" when it succeeded).
func asRole(t *testing.T, pool *pgxpool.Pool, role, sql string) string {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+pgx.Identifier{role}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, sql)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	if err != nil {
		t.Fatal(err)
	}
	return ""
}

const denied = "42501"

func TestAnalystReadsStagingAndReportsOnly(t *testing.T) {
	roles := uniqueRoles(t)
	dbURL := testdb.NewEmptyURL(t)
	access := migrateWithRoles(t, dbURL, roles)
	if len(access.ForDBA) != 0 || access.Applied == 0 {
		t.Fatalf("access = %+v, want applied directly by a superuser", access)
	}
	// Applying again changes nothing and fails nothing (roles exist now).
	if again := migrateWithRoles(t, dbURL, roles); len(again.ForDBA) != 0 {
		t.Fatalf("second apply = %+v", again)
	}

	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// A table added by a later migration is readable without a new grant.
	if _, err := pool.Exec(context.Background(), "CREATE TABLE tiktok.later (id int); CREATE TABLE integration.later (id int)"); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		sql  string
		want string
	}{
		{"SELECT * FROM report.exceptions", ""},
		{"SELECT * FROM report.sync_lag", ""},
		{"SELECT * FROM tiktok.later", ""},
		{"SELECT * FROM ops.exception", denied},
		{"SELECT * FROM integration.later", denied},
		{"SELECT * FROM river.river_job", denied},
		{"SELECT * FROM pii.order_recipient", denied},
		{"SELECT * FROM tiktok.order_payload", ""},
		{"INSERT INTO tiktok.later VALUES (1)", denied},
		{"DELETE FROM tiktok.later", denied},
		{"CREATE TABLE tiktok.mine (id int)", denied},
		{"CREATE TABLE report.mine (id int)", denied},
	}
	for _, c := range cases {
		if got := asRole(t, pool, roles.Analyst, c.sql); got != c.want {
			t.Errorf("analyst: %s → SQLSTATE %q, want %q", c.sql, got, c.want)
		}
	}
	// The app role works every table, River's included, but owns no schema.
	for _, sql := range []string{
		"INSERT INTO integration.later VALUES (1)",
		"SELECT * FROM river.river_job",
		"INSERT INTO ops.sync_run (flow) VALUES ('test')",
		"SELECT * FROM pii.order_recipient",
	} {
		if got := asRole(t, pool, roles.App, sql); got != "" {
			t.Errorf("app: %s → SQLSTATE %q, want success", sql, got)
		}
	}
}

// Where the migrating user may not create roles, migrate still migrates and
// hands back the SQL for a DBA; once a DBA runs it, the roles work.
func TestWithoutCreateRoleTheSQLIsForADBA(t *testing.T) {
	ctx := context.Background()
	roles := uniqueRoles(t)
	login := "tkb_login_" + strings.TrimPrefix(roles.App, "tkb_app_")
	admin, err := pgx.Connect(ctx, testdb.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE ROLE "+pgx.Identifier{login}.Sanitize()+" LOGIN NOCREATEROLE NOSUPERUSER"); err != nil {
		t.Fatal(err)
	}
	superURL := testdb.NewEmptyURL(t)
	dbName := strings.TrimPrefix(mustParse(t, superURL).Path, "/")
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{dbName}.Sanitize()+" OWNER TO "+pgx.Identifier{login}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	u := mustParse(t, superURL)
	u.User = url.User(login)
	limitedURL := u.String()

	access := migrateWithRoles(t, limitedURL, roles)
	if len(access.ForDBA) == 0 {
		t.Fatal("a user without CREATEROLE got no SQL for the DBA")
	}
	text := strings.Join(access.ForDBA, ";\n")
	for _, want := range []string{
		"CREATE ROLE " + roles.App + " NOLOGIN",
		"CREATE ROLE " + roles.Analyst + " NOLOGIN",
		"GRANT SELECT ON ALL TABLES IN SCHEMA tiktok, sapb1, report TO " + roles.Analyst,
		"ALTER DEFAULT PRIVILEGES FOR ROLE " + login,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("DBA SQL lacks %q:\n%s", want, text)
		}
	}

	// The DBA runs it in that database.
	super, err := pgxpool.New(ctx, superURL)
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close()
	for _, stmt := range access.ForDBA {
		if _, err := super.Exec(ctx, stmt); err != nil {
			t.Fatalf("DBA statement %q: %v", stmt, err)
		}
	}
	if got := asRole(t, super, roles.Analyst, "SELECT * FROM report.exceptions"); got != "" {
		t.Fatalf("analyst after the DBA ran the SQL: SQLSTATE %s", got)
	}
	// And migrate up as the limited user is now complete.
	if again := migrateWithRoles(t, limitedURL, roles); len(again.ForDBA) != 0 {
		t.Fatalf("after the DBA step migrate still asks for: %v", again.ForDBA)
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
