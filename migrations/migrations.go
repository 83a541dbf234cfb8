// Package migrations brings a database to the schema this build expects:
// the goose migrations beside this file (SQL, embedded), River's own tables as
// one of them, and the grants of the app and analyst roles.
package migrations

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed *.sql
var files embed.FS

// newProvider returns a goose provider over the embedded SQL files and the Go
// migrations. A Postgres advisory lock serialises concurrent migrators, so any
// number of processes may run `migrate up` at start.
func newProvider(db *sql.DB, logger *slog.Logger) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("migrations: session locker: %w", err)
	}
	opts := []goose.ProviderOption{
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
		goose.WithGoMigrations(riverMigrations()...),
	}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger), goose.WithVerbose(true))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, files, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// Up applies every pending migration. It returns the versions applied.
func Up(ctx context.Context, db *sql.DB, logger *slog.Logger) ([]int64, error) {
	p, err := newProvider(db, logger)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: up: %w", err)
	}
	return versions(results), nil
}

// Down rolls back to version `to` (0 removes everything, River's tables
// included). A negative `to` rolls back the last migration only.
func Down(ctx context.Context, db *sql.DB, to int64, logger *slog.Logger) ([]int64, error) {
	p, err := newProvider(db, logger)
	if err != nil {
		return nil, err
	}
	if to < 0 {
		r, err := p.Down(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("migrations: down: %w", err)
		}
		return versions([]*goose.MigrationResult{r}), nil
	}
	results, err := p.DownTo(ctx, to)
	if err != nil {
		return nil, fmt.Errorf("migrations: down to %d: %w", to, err)
	}
	return versions(results), nil
}

// Migration is one migration and whether it is applied.
type Migration struct {
	Version int64
	Name    string
	Applied bool
}

// Status lists every migration this build knows, in order.
func Status(ctx context.Context, db *sql.DB) ([]Migration, error) {
	p, err := newProvider(db, nil)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: status: %w", err)
	}
	out := make([]Migration, 0, len(st))
	for _, s := range st {
		name := s.Source.Path
		if name == "" {
			name = fmt.Sprintf("River's tables in schema %s, River migration %d", RiverSchema, riverTarget)
		}
		out = append(out, Migration{
			Version: s.Source.Version,
			Name:    name,
			Applied: s.State == goose.StateApplied,
		})
	}
	return out, nil
}

func versions(results []*goose.MigrationResult) []int64 {
	out := make([]int64, 0, len(results))
	for _, r := range results {
		if r != nil && r.Source != nil {
			out = append(out, r.Source.Version)
		}
	}
	return out
}

// Fingerprint identifies this build's schema: a hash of every migration. Test
// helpers name their migrated template database after it.
func Fingerprint() string {
	h := sha256.New()
	entries, _ := fs.ReadDir(files, ".")
	for _, e := range entries {
		b, _ := fs.ReadFile(files, e.Name())
		fmt.Fprintf(h, "%s\x00%d\x00", e.Name(), len(b))
		h.Write(b)
	}
	for _, m := range riverMigrations() {
		fmt.Fprintf(h, "go:%d\x00", m.Version)
	}
	fmt.Fprintf(h, "river:%d", riverTarget)
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// ErrBehind is returned by Check when migrations are pending.
var ErrBehind = errors.New("database schema is behind this build")

// Check returns ErrBehind (wrapped with both versions and what to do) when
// the database lacks migrations this build needs.
func Check(ctx context.Context, db *sql.DB) error {
	p, err := newProvider(db, nil)
	if err != nil {
		return err
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("migrations: reading schema version: %w", err)
	}
	if current < target {
		return fmt.Errorf("%w: the database is at version %d and this build needs %d; run `tiktokb1 migrate up`", ErrBehind, current, target)
	}
	return nil
}
