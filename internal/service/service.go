// Package service assembles and runs `tiktokb1 serve`: the Postgres pool, the
// River client with its queues and periodic jobs, and the HTTP server.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"riverqueue.com/riverui"

	"github.com/tiktokb1/tiktokb1/internal/buildinfo"
	"github.com/tiktokb1/tiktokb1/internal/config"
	"github.com/tiktokb1/tiktokb1/internal/localpg"
	"github.com/tiktokb1/tiktokb1/internal/metrics"
	"github.com/tiktokb1/tiktokb1/internal/web"
	"github.com/tiktokb1/tiktokb1/jobs"
	"github.com/tiktokb1/tiktokb1/migrations"
)

// OpenPool connects to DATABASE_URL or, when it is unset, to the local
// Postgres (starting a private one under the data dir if none listens).
func OpenPool(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*pgxpool.Pool, error) {
	url := cfg.Database.URL.Reveal()
	if cfg.Database.Local() {
		var err error
		url, err = localpg.Ensure(ctx, localpg.Options{
			DataDir:  cfg.Database.DataDir,
			Database: "tiktokb1",
			Logf:     func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) },
		})
		if err != nil {
			return nil, fmt.Errorf("DATABASE_URL is unset and no local Postgres could be used (set DATABASE_URL to use another): %w", err)
		}
		logger.Info("DATABASE_URL is unset: using the local Postgres", "url", config.RedactURL(url))
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the URL; never pass them on.
		return nil, errors.New("DATABASE_URL: not a valid Postgres URL or DSN")
	}
	pcfg.MaxConns = int32(cfg.Database.MaxConns)
	pcfg.ConnConfig.RuntimeParams["application_name"] = "tiktokb1"
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to Postgres at %s: %w", redactedTarget(pcfg.ConnConfig), err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to Postgres at %s: %w", redactedTarget(pcfg.ConnConfig), err)
	}
	return pool, nil
}

func redactedTarget(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s/%s", c.User, net.JoinHostPort(c.Host, fmt.Sprint(c.Port)), c.Database)
}

// Serve runs the service until ctx is cancelled, then shuts down gracefully:
// the HTTP server stops taking requests, River finishes or cancels running
// jobs, and both get cfg.Server.ShutdownTimeout to do so.
func Serve(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, logger *slog.Logger) error {
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	if err := migrations.Check(ctx, sqlDB); err != nil {
		return err
	}

	m := metrics.New(buildinfo.String())
	m.WatchPool(pool)
	m.WatchExceptions(pool)

	client, err := NewRiverClient(pool, cfg, logger)
	if err != nil {
		return err
	}
	metrics.WatchRiver(ctx, m, client)

	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    logger.With("component", "riverui"),
		Prefix:    "/riverui",
	})
	if err != nil {
		return fmt.Errorf("river UI: %w", err)
	}

	ln, err := net.Listen("tcp", cfg.Server.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listening on %s (set --http-addr or TIKTOKB1_HTTP_ADDR to another address): %w", cfg.Server.HTTPAddr, err)
	}
	srv := &http.Server{
		Handler: web.NewHandler(web.Options{
			DB: pool, Metrics: m, RiverUI: ui, Logger: logger.With("component", "web"),
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	if err := client.Start(runCtx); err != nil {
		ln.Close()
		return fmt.Errorf("starting River: %w", err)
	}
	if err := ui.Start(runCtx); err != nil {
		ln.Close()
		return fmt.Errorf("starting River UI: %w", err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("tiktokb1 is serving", "http", "http://"+ln.Addr().String(), "version", buildinfo.String(),
		"healthz", "/healthz", "metrics", "/metrics", "river_ui", "/riverui/")

	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "timeout", cfg.Server.ShutdownTimeout)
	case err := <-serveErr:
		runErr = fmt.Errorf("http server: %w", err)
	}

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && runErr == nil {
		runErr = fmt.Errorf("http shutdown: %w", err)
	}
	// Stop lets running jobs finish; past the timeout they are cancelled and
	// River retries them later, on this process or another.
	if err := client.Stop(shutdownCtx); err != nil {
		if err := client.StopAndCancel(context.WithoutCancel(ctx)); err != nil && runErr == nil {
			runErr = fmt.Errorf("stopping River: %w", err)
		}
	}
	stopRun()
	if runErr == nil {
		logger.Info("stopped cleanly")
	}
	return runErr
}

// NewRiverClient builds the River client with the queues, workers and
// periodic jobs of this build.
func NewRiverClient(pool *pgxpool.Pool, cfg *config.Config, logger *slog.Logger) (*river.Client[pgx.Tx], error) {
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:       logger.With("component", "river"),
		Schema:       migrations.RiverSchema,
		Queues:       jobs.Queues(cfg.Workers.ByQueue()),
		Workers:      jobs.Workers(jobs.Deps{Pool: pool, SyncRunRetention: cfg.Database.SyncRunRetention}),
		PeriodicJobs: jobs.Periodic(),
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}
