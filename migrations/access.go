package migrations

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
)

// Roles names the two roles the grants are written for.
type Roles struct {
	App     string // role the service's tables are granted to; default tiktokb1_app
	Analyst string // read-only role for analysts and BI tools; default analyst
}

// Access is the outcome of ApplyAccess.
type Access struct {
	Applied int // statements run
	// ForDBA holds the statements a DBA must run when the migrating user may
	// not create the roles; empty when everything was applied.
	ForDBA []string
}

// ApplyAccess creates the roles where missing and grants them their schemas.
// Where the database user may not create roles, nothing is changed and the
// statements are returned for a DBA instead of failing.
func ApplyAccess(ctx context.Context, pool *pgxpool.Pool, roles Roles) (Access, error) {
	var applied int32
	var err error
	// Processes migrating other databases of the same server may race to
	// create a role; the loser retries once and then finds it.
	for range 2 {
		applied, err = applyAccess(ctx, pool, roles)
		if !isCode(err, "42710", "23505") { // duplicate_object, unique_violation
			break
		}
	}
	if isCode(err, "42501") { // insufficient_privilege
		q := db.New(pool)
		stmts, serr := q.AccessStatements(ctx, db.AccessStatementsParams{AppRole: roles.App, AnalystRole: roles.Analyst})
		if serr != nil {
			return Access{}, fmt.Errorf("migrations: listing grants for a DBA: %w", serr)
		}
		return Access{ForDBA: stmts}, nil
	}
	if err != nil {
		return Access{}, fmt.Errorf("migrations: applying roles and grants: %w", err)
	}
	return Access{Applied: int(applied)}, nil
}

func applyAccess(ctx context.Context, pool *pgxpool.Pool, roles Roles) (int32, error) {
	var applied int32
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.LockAccess(ctx); err != nil {
			return err
		}
		var err error
		applied, err = q.ApplyAccess(ctx, db.ApplyAccessParams{AppRole: roles.App, AnalystRole: roles.Analyst})
		return err
	})
	return applied, err
}

func isCode(err error, codes ...string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	for _, c := range codes {
		if pgErr.Code == c {
			return true
		}
	}
	return false
}
