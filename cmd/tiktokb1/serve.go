package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tiktokb1/tiktokb1/internal/config"
	"github.com/tiktokb1/tiktokb1/internal/sandbox"
	"github.com/tiktokb1/tiktokb1/internal/service"
	"github.com/tiktokb1/tiktokb1/migrations"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve [--http-addr HOST:PORT] [--sandbox [--sandbox-demo=false] [--sandbox-tiktok-addr HOST:PORT] [--sandbox-sl-addr HOST:PORT] [--sandbox-tds-addr HOST:PORT]]", stdout, stderr, printVariables)
	httpAddr := fs.String("http-addr", "127.0.0.1:8080", "address for HTTP: /healthz, /metrics, /riverui/ (overrides TIKTOKB1_HTTP_ADDR)")
	sandboxOn := fs.Bool("sandbox", false, "run the TikTok Shop and SAP Business One simulators in this process, seeded with a demo shop and company, and connect the service to them (refused when TikTok or SAP variables are set)")
	ttAddr := fs.String("sandbox-tiktok-addr", "127.0.0.1:8081", "with --sandbox: address of the TikTok Shop simulator and its control API (a free port if in use)")
	slAddr := fs.String("sandbox-sl-addr", "127.0.0.1:8082", "with --sandbox: address of the SAP Service Layer simulator and its control API (a free port if in use)")
	tdsAddr := fs.String("sandbox-tds-addr", "127.0.0.1:1433", "with --sandbox: address of the SAP simulator's SQL Server endpoint (a free port if in use)")
	demo := fs.Bool("sandbox-demo", true, "with --sandbox: seed the simulator's demo orders and place a demo order every 20-30 s")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected argument %q", fs.Arg(0))
	}
	if !*sandboxOn {
		var sandboxFlag string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "http-addr" {
				sandboxFlag = f.Name
			}
		})
		if sandboxFlag != "" {
			return usageError(fs, stderr, "--%s goes with --sandbox", sandboxFlag)
		}
	} else if err := sandbox.CheckEnv(nil); err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return errUsage
	}
	cfg, logger, err := loadConfig(stderr)
	if err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "http-addr" {
			cfg.Server.HTTPAddr = *httpAddr
		}
	})
	pool, err := service.OpenPool(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	if *sandboxOn {
		// The sandbox seeds the service's tables: they must exist first.
		sqlDB := stdlib.OpenDBFromPool(pool)
		err := migrations.Check(ctx, sqlDB)
		sqlDB.Close()
		if err != nil {
			return err
		}
		sb, err := sandbox.Start(ctx, cfg, pool, sandbox.Options{
			TikTokAddr: *ttAddr, SLAddr: *slAddr, TDSAddr: *tdsAddr, Demo: *demo, Logger: logger,
		})
		if err != nil {
			return err
		}
		defer sb.Close()
		sb.LogURLs(logger, config.RedactURL(pool.Config().ConnString()))
		cfg = sb.Config
	}
	return service.Serve(ctx, cfg, pool, logger)
}
