package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tiktokb1/tiktokb1/internal/service"
	"github.com/tiktokb1/tiktokb1/migrations"
)

const migrateUsage = `migrate up|down|status [flags]

  up       apply every pending migration (River's tables included), then create
           the app and analyst roles where missing and grant them their schemas;
           where the database user may not create roles, print the SQL for a DBA
  down     roll back the last migration, or to --to VERSION (0 removes everything)
  status   list the migrations and which are applied`

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", migrateUsage, stdout, stderr, printVariables)
	to := fs.Int64("to", -1, "with down: the version to roll back to (0 = remove everything, River's tables included); default: the last migration only")
	// The action comes first (`migrate down --to 0`); flags may follow it.
	var action string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if action == "" || fs.NArg() > 0 {
		return usageError(fs, stderr, "expected one action: up, down or status")
	}
	if action != "up" && action != "down" && action != "status" {
		return usageError(fs, stderr, "unknown action %q: expected up, down or status", action)
	}
	if action != "down" && *to != -1 {
		return usageError(fs, stderr, "--to goes with down only")
	}
	cfg, logger, err := loadConfig(stderr)
	if err != nil {
		return err
	}
	pool, err := service.OpenPool(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()

	switch action {
	case "up":
		applied, err := migrations.Up(ctx, sqlDB, nil)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "schema: up to date")
		} else {
			fmt.Fprintf(stdout, "schema: applied %s\n", joinVersions(applied))
		}
		roles := migrations.Roles{App: cfg.Database.AppRole, Analyst: cfg.Database.AnalystRole}
		access, err := migrations.ApplyAccess(ctx, pool, roles)
		if err != nil {
			return err
		}
		if len(access.ForDBA) == 0 {
			fmt.Fprintf(stdout, "roles: %s (app) and %s (analyst) granted their schemas\n", roles.App, roles.Analyst)
			return nil
		}
		fmt.Fprintf(stdout, "roles: this database user may not create roles. The schema is migrated; only the roles\n"+
			"and grants are missing. Ask a DBA to run the SQL below in this database, then run\n"+
			"`tiktokb1 migrate up` again:\n\n")
		for _, s := range access.ForDBA {
			fmt.Fprintf(stdout, "%s;\n", s)
		}
		return nil
	case "down":
		undone, err := migrations.Down(ctx, sqlDB, *to, nil)
		if err != nil {
			return err
		}
		if len(undone) == 0 {
			fmt.Fprintln(stdout, "schema: nothing to roll back")
		} else {
			fmt.Fprintf(stdout, "schema: rolled back %s\n", joinVersions(undone))
		}
		return nil
	default:
		st, err := migrations.Status(ctx, sqlDB)
		if err != nil {
			return err
		}
		for _, m := range st {
			state := "pending"
			if m.Applied {
				state = "applied"
			}
			fmt.Fprintf(stdout, "%05d  %-8s %s\n", m.Version, state, m.Name)
		}
		return nil
	}
}

func joinVersions(vs []int64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}
