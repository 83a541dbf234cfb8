package main

import (
	"context"
	"flag"
	"io"

	"github.com/tiktokb1/tiktokb1/internal/service"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve [--http-addr HOST:PORT]", stdout, stderr, printVariables)
	httpAddr := fs.String("http-addr", "127.0.0.1:8080", "address for HTTP: /healthz, /metrics, /riverui/ (overrides TIKTOKB1_HTTP_ADDR)")
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
	return service.Serve(ctx, cfg, pool, logger)
}
