package migrations

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
)

// RiverSchema is the Postgres schema holding River's tables.
const RiverSchema = "river"

// riverTarget is the River schema version this build runs with.
const riverTarget = 8

// riverMigrations pins River's own schema version inside our history, so a
// build's schema is one number and `migrate down` undoes River too. Upgrading
// River to a version with new migrations adds a goose migration here that
// moves River from the old target to the new one.
func riverMigrations() []*goose.Migration {
	return []*goose.Migration{
		riverStep(2, 0, riverTarget),
	}
}

// riverStep moves River's schema between two of its versions (from 0 means
// "not installed"). River's migrator runs outside goose's transaction because
// some of River's steps cannot share one.
func riverStep(version int64, from, to int) *goose.Migration {
	up := func(ctx context.Context, db *sql.DB) error {
		return migrateRiver(ctx, db, rivermigrate.DirectionUp, to)
	}
	down := func(ctx context.Context, db *sql.DB) error {
		target := from
		if from == 0 {
			target = -1 // River's value for "remove every River table"
		}
		return migrateRiver(ctx, db, rivermigrate.DirectionDown, target)
	}
	return goose.NewGoMigration(version, &goose.GoFunc{RunDB: up}, &goose.GoFunc{RunDB: down})
}

func migrateRiver(ctx context.Context, db *sql.DB, dir rivermigrate.Direction, target int) error {
	m, err := rivermigrate.New(riverdatabasesql.New(db), &rivermigrate.Config{Schema: RiverSchema})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, dir, &rivermigrate.MigrateOpts{TargetVersion: target}); err != nil {
		return fmt.Errorf("river migrate %s to %d: %w", dir, target, err)
	}
	return nil
}
