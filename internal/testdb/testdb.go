// Package testdb gives each test a Postgres database of its own, cloned from a
// template that was migrated once for this build's schema. Tests use the real
// server named by DATABASE_URL, or the local one when it is unset.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tiktokb1/tiktokb1/internal/localpg"
	"github.com/tiktokb1/tiktokb1/migrations"
)

// TestRoles are the role names test templates are granted to. They are the
// defaults, so a developer's local database and the tests agree.
var TestRoles = migrations.Roles{App: "tiktokb1_app", Analyst: "analyst"}

var (
	adminOnce sync.Once
	adminURL  string
	adminErr  error
)

// AdminURL is a URL on the test server with the right to create databases.
func AdminURL(t testing.TB) string {
	t.Helper()
	adminOnce.Do(func() {
		if u := os.Getenv("DATABASE_URL"); u != "" {
			adminURL = u
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		adminURL, adminErr = localpg.Ensure(ctx, localpg.Options{DataDir: dataDir(), Database: "postgres"})
	})
	if adminErr != nil {
		t.Fatalf("testdb: no Postgres for tests (set DATABASE_URL or let localpg start one): %v", adminErr)
	}
	return adminURL
}

// New returns a pool on a fresh, fully migrated database that is dropped when
// the test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), NewURL(t))
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewURL is New for callers that open their own connections (a subprocess,
// the binary under test). The database is dropped when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	return create(t, templateName(t))
}

// NewEmptyURL returns the URL of a fresh database with no migrations applied.
func NewEmptyURL(t testing.TB) string {
	t.Helper()
	return create(t, "template0")
}

// create clones a database from template. Clones are serialised with an
// advisory lock because Postgres refuses to copy a template that another
// session is using.
func create(t testing.TB, template string) string {
	t.Helper()
	ctx := context.Background()
	admin := AdminURL(t)
	name := "tiktokb1_t_" + randomHex(6)
	err := withAdmin(ctx, admin, func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext('tiktokb1 testdb clone'))"); err != nil {
			return err
		}
		defer conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtext('tiktokb1 testdb clone'))") //nolint:errcheck
		_, err := conn.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(template))
		return err
	})
	if err != nil {
		t.Fatalf("testdb: create %s from %s: %v", name, template, err)
	}
	t.Cleanup(func() {
		err := withAdmin(context.Background(), admin, func(conn *pgx.Conn) error {
			_, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)")
			return err
		})
		if err != nil {
			t.Errorf("testdb: drop %s: %v", name, err)
		}
	})
	return withDatabase(t, admin, name)
}

var (
	templateOnce sync.Once
	templateDB   string
	templateErr  error
)

// templateName returns the migrated template for this build's schema,
// building it once per server: the first process to get the lock migrates a
// scratch database and renames it into place, so others never see a half
// migrated template.
func templateName(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	templateOnce.Do(func() {
		templateDB, templateErr = ensureTemplate(t, admin)
	})
	if templateErr != nil {
		t.Fatalf("testdb: migrated template: %v", templateErr)
	}
	return templateDB
}

func ensureTemplate(t testing.TB, admin string) (string, error) {
	ctx := context.Background()
	name := "tiktokb1_tmpl_" + migrations.Fingerprint()
	building := name + "_building"
	err := withAdmin(ctx, admin, func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext('tiktokb1 testdb template'))"); err != nil {
			return err
		}
		defer conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtext('tiktokb1 testdb template'))") //nolint:errcheck
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(building)+" WITH (FORCE)"); err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(building)+" TEMPLATE template0"); err != nil {
			return err
		}
		if err := migrate(ctx, withDatabase(t, admin, building)); err != nil {
			return err
		}
		_, err := conn.Exec(ctx, "ALTER DATABASE "+ident(building)+" RENAME TO "+ident(name))
		return err
	})
	return name, err
}

func migrate(ctx context.Context, url string) error {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	if _, err := migrations.Up(ctx, sqlDB, nil); err != nil {
		return err
	}
	access, err := migrations.ApplyAccess(ctx, pool, TestRoles)
	if err != nil {
		return err
	}
	if len(access.ForDBA) > 0 {
		return fmt.Errorf("the test database user may not create roles %s and %s", TestRoles.App, TestRoles.Analyst)
	}
	return nil
}

func withAdmin(ctx context.Context, url string, fn func(*pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return fn(conn)
}

// withDatabase returns admin with its database replaced by name.
func withDatabase(t testing.TB, admin, name string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatalf("testdb: parse admin URL: %v", err)
	}
	u := url.URL{Scheme: "postgres", User: url.User(cfg.User), Path: "/" + name}
	if cfg.Password != "" {
		u.User = url.UserPassword(cfg.User, cfg.Password)
	}
	q := url.Values{}
	if filepath.IsAbs(cfg.Host) {
		q.Set("host", cfg.Host)
		q.Set("port", fmt.Sprint(cfg.Port))
	} else {
		u.Host = fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)
	}
	if cfg.TLSConfig == nil {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dataDir is the repository's .data folder, found from the test's working
// directory (a package folder) by walking up to go.mod.
func dataDir() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && filepath.Base(d) != "tools" {
			return filepath.Join(d, ".data")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, ".data")
		}
	}
}
