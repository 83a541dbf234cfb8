package sapb1sim

import (
	"context"
	"embed"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// docTables are the marketing document tables the simulator keeps, in the
// order they are created.
// Each has a header, lines and additional expenses (freight).
var docTables = [][3]string{{"ORDR", "RDR1", "RDR3"}, {"ODLN", "DLN1", "DLN3"}, {"OINV", "INV1", "INV3"}, {"ORIN", "RIN1", "RIN3"}}

// numbered are the object types whose keys ONNM hands out: the four document
// types, goods receipts (59) and issues (60) made by the control API, and the
// warehouse journal.
var numbered = []struct {
	object string
	series int
}{{"17", 1}, {"15", 2}, {"13", 3}, {"14", 4}, {"59", 5}, {"60", 6}, {"OIVL", 0}}

var companyDBPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,50}$`)

// schemaName is the Postgres schema that holds a company: "sbo_" and the
// company database name in lower case.
func schemaName(companyDB string) (string, error) {
	if !companyDBPattern.MatchString(companyDB) {
		return "", fmt.Errorf("sapb1sim: company database name %q: use letters, digits and _ only", companyDB)
	}
	return "sbo_" + strings.ToLower(companyDB), nil
}

// ensureCompany creates the company's schema and tables if they are missing
// (dropping them first when reset is set) and seeds numbering. Concurrent
// starts on one company are serialised by an advisory lock.
func ensureCompany(ctx context.Context, pool *pgxpool.Pool, schema, companyName, currency string, reset bool) error {
	company, err := schemaFS.ReadFile("schema/company.sql")
	if err != nil {
		return err
	}
	document, err := schemaFS.ReadFile("schema/document.sql")
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// One lock for every company: the shared schema and collation are
		// created once, and concurrent starts of one company wait.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('sapb1sim'))"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS sapb1sim"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE COLLATION IF NOT EXISTS sapb1sim.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)"); err != nil {
			return fmt.Errorf("sapb1sim: the case-insensitive collation needs Postgres built with ICU: %w", err)
		}
		if reset {
			if _, err := tx.Exec(ctx, "DROP SCHEMA IF EXISTS "+ident(schema)+" CASCADE"); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+ident(schema)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+ident(schema)); err != nil {
			return err
		}
		// Creating a table that already exists only notices; keep the log quiet.
		if _, err := tx.Exec(ctx, "SET LOCAL client_min_messages TO warning"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(company)); err != nil {
			return fmt.Errorf("sapb1sim: create company tables: %w", err)
		}
		for _, d := range docTables {
			sql := strings.NewReplacer("{{HEAD}}", d[0], "{{LINE}}", d[1], "{{EXP}}", d[2]).Replace(string(document))
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("sapb1sim: create %s/%s: %w", d[0], d[1], err)
			}
		}
		for _, n := range numbered {
			var series any
			if n.series > 0 {
				series = n.series
			}
			if _, err := tx.Exec(ctx, `INSERT INTO "ONNM" ("ObjectCode", "AutoKey", "DfltSeries") VALUES ($1, 1, $2) ON CONFLICT DO NOTHING`, n.object, series); err != nil {
				return err
			}
			if n.series > 0 {
				if _, err := tx.Exec(ctx, `INSERT INTO "NNM1" ("Series", "ObjectCode", "SeriesName", "InitialNum", "NextNumber") VALUES ($1, $2, 'Primary', 1, 1) ON CONFLICT DO NOTHING`, n.series, n.object); err != nil {
					return err
				}
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO "OEXD" ("ExpnsCode", "ExpnsName") VALUES (1, 'Freight') ON CONFLICT DO NOTHING`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO "OADM" ("CompnyName", "MainCurncy") SELECT $1, $2 WHERE NOT EXISTS (SELECT FROM "OADM")`, companyName, currency)
		return err
	})
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
