package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/doctor"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
	"github.com/tiktokb1/tiktokb1/internal/service"
	"github.com/tiktokb1/tiktokb1/migrations"
)

const doctorUsage = `doctor [--fix]

Checks the database schema, TikTok Shop for every onboarded shop (listing
its TikTok warehouse ids, and failing a warehouse set that names a warehouse
the shop does not have), that the warehouse sets name active SAP warehouses,
SAP's Service Layer and SQL Server connections, and the SAP user-defined
fields the orders flow writes (U_TikTokOrderId, U_TikTokShopId and
U_TikTokRelease on ORDR, U_TikTokPackageId on RDR1). Exits 1 when anything
needs attention.

--fix creates the missing user fields. That alters SAP's tables (a field on
RDR1 alters every document-line table) and the Service Layer sees new fields
only after a restart: run it in a change window.`

func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("doctor", doctorUsage, stdout, stderr, printVariables)
	fix := fs.Bool("fix", false, "create the missing SAP user fields (an IT change-window step)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected argument %q", fs.Arg(0))
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

	checks := []doctor.Check{doctor.Connection(ctx, "Postgres", pool, "check DATABASE_URL")}
	sqlDB := stdlib.OpenDBFromPool(pool)
	if err := migrations.Check(ctx, sqlDB); err != nil {
		checks = append(checks, doctor.Check{Name: "database schema", Detail: err.Error()})
	} else {
		checks = append(checks, doctor.Check{Name: "database schema", OK: true, Detail: "up to date"})
	}
	sqlDB.Close()

	if tt, err := service.NewTikTokClient(cfg, pool); err != nil {
		checks = append(checks, doctor.Check{Name: "TikTok Shop", Detail: err.Error()})
	} else if tt == nil {
		checks = append(checks, doctor.Check{Name: "TikTok Shop", OK: true, Detail: "not configured (TIKTOK_APP_KEY unset)"})
	} else {
		shops, err := db.New(pool).ListActiveTikTokShops(ctx)
		if err != nil {
			return err
		}
		if len(shops) == 0 {
			checks = append(checks, doctor.Check{Name: "TikTok shops", Detail: "none onboarded: open /oauth/tiktok/start to connect a shop"})
		}
		sets, err := db.New(pool).ListWarehouseSets(ctx)
		if err != nil {
			return err
		}
		for _, s := range shops {
			shop := doctor.Shop{ID: s.ID, Name: s.Name, Cipher: s.Cipher}
			for _, ws := range sets {
				if ws.ShopID == s.ID && !slices.Contains(shop.WarehouseSets, ws.TiktokWarehouseID) {
					shop.WarehouseSets = append(shop.WarehouseSets, ws.TiktokWarehouseID)
				}
			}
			checks = append(checks, doctor.TikTokShop(ctx, tt, shop))
		}
	}

	if sap, err := service.NewSAPClient(ctx, cfg, pool); err != nil {
		checks = append(checks, doctor.Check{Name: "SAP Service Layer", Detail: err.Error()})
	} else if sap == nil {
		checks = append(checks, doctor.Check{Name: "SAP Service Layer", OK: true, Detail: "not configured (SAPB1_SERVICE_LAYER_URL unset)"})
	} else {
		defer sap.Close(context.WithoutCancel(ctx)) //nolint:errcheck // best effort
		checks = append(checks, doctor.UserFields(ctx, sap, *fix)...)
	}

	problems, err := db.New(pool).WarehouseSetProblems(ctx)
	if err != nil {
		return err
	}
	checks = append(checks, doctor.SAPWarehouseSets(problems))

	if cfg.SAPB1.SQLDSN.IsSet() {
		r, err := sqlreader.Open(sqlreader.Config{DSN: cfg.SAPB1.SQLDSN.Reveal()})
		if err != nil {
			checks = append(checks, doctor.Check{Name: "SAP SQL Server", Detail: err.Error()})
		} else {
			c := doctor.Connection(ctx, "SAP SQL Server", r, "check SAPB1_SQL_DSN")
			if c.OK {
				if _, err := r.MaxTransSeq(ctx); err != nil {
					c = doctor.Check{Name: "SAP SQL Server", Detail: fmt.Sprintf("connected, but cannot read OIVL: %v; grant the reader's login SELECT on the company tables", err)}
				}
			}
			checks = append(checks, c)
			r.Close()
		}
	}

	failed := 0
	for _, c := range checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(stdout, "%s  %-45s %s\n", mark, c.Name, c.Detail)
	}
	if failed > 0 {
		return errors.New(fmt.Sprint(failed, " check(s) need attention"))
	}
	return nil
}
