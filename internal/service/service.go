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
	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
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
	m.WatchInventory(pool)

	tt, err := newTikTok(cfg, pool)
	if err != nil {
		return err
	}
	sap, err := newSAP(ctx, cfg, pool, m, 0)
	if err != nil {
		return err
	}
	if sap != nil {
		// Logging out frees the Service Layer session (and its licence)
		// instead of leaving it to time out.
		defer func() {
			logoutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := sap.Close(logoutCtx); err != nil {
				logger.Warn("SAP Service Layer logout failed; the session will time out by itself", "err", err)
			}
		}()
	}
	deps := jobs.Deps{Pool: pool, SyncRunRetention: cfg.Database.SyncRunRetention, PIIRetention: cfg.Database.PIIRetention,
		OrdersPollInterval: cfg.TikTok.OrdersPollInterval, OrdersPollLag: cfg.TikTok.OrdersPollLag, OrdersPollOverlap: cfg.TikTok.OrdersPollOverlap,
		InventoryConfirmShare: cfg.Inventory.ConfirmShare, InventoryConfirmMinSKUs: cfg.Inventory.ConfirmMinSKUs}
	if sap != nil {
		// The client's own ServiceLayerTimeout default: twice the request
		// timeout. A lost POST is looked up only after it.
		deps.SAP, deps.SAPLookupAfter = sap, 2*cfg.Governor.RequestTimeout
	}
	if cfg.SAPB1.SQLDSN.IsSet() {
		isolation := sqlreader.ReadCommitted
		if cfg.SAPB1.SQLIsolation == "snapshot" {
			isolation = sqlreader.Snapshot
		}
		reader, err := sqlreader.Open(sqlreader.Config{DSN: cfg.SAPB1.SQLDSN.Reveal(), Isolation: isolation})
		if err != nil {
			return err
		}
		defer reader.Close()
		deps.SAPReader = reader
		deps.SAPBufferUDF = cfg.SAPB1.BufferUDF
	}
	if tt != nil {
		deps.TikTok, deps.Shops, deps.TikTokWebhookURL = tt.api, tt.store, cfg.Server.PublicURL+"/webhooks/tiktok"
	}
	client, err := NewRiverClient(pool, cfg, logger, deps)
	if err != nil {
		return err
	}
	metrics.WatchRiver(ctx, m, client)
	var tiktokRoutes *web.TikTok
	if tt != nil {
		tiktokRoutes = &web.TikTok{
			AppKey:    cfg.TikTok.AppKey,
			AppSecret: cfg.TikTok.AppSecret.Reveal(),
			Onboarding: shops.NewOnboarding(pool, tt.sealer, tt.api, shops.OnboardingOptions{
				AuthorizeURL:   cfg.TikTok.AuthorizeURL,
				ServiceID:      cfg.TikTok.ServiceID,
				AfterAuthorize: jobs.EnqueueWebhookSubscriptions(client),
			}),
			DB:   pool,
			Jobs: client,
		}
	}

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
			DB: pool, Metrics: m, RiverUI: ui, Logger: logger.With("component", "web"), TikTok: tiktokRoutes,
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
	if tt != nil {
		logger.Info("TikTok Shop is configured", "onboarding", cfg.Server.PublicURL+"/oauth/tiktok/start",
			"oauth_callback", cfg.Server.PublicURL+"/oauth/tiktok/callback", "webhooks", deps.TikTokWebhookURL)
	} else {
		logger.Info("TikTok Shop is not configured (TIKTOK_APP_KEY unset): no onboarding, webhooks or TikTok jobs")
	}

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
// A job whose process died (killed, crashed) stays running in River's table
// until the rescuer retries it, TIKTOKB1_RESCUE_STUCK_JOBS_AFTER (and its
// job timeout) after it started.
func NewRiverClient(pool *pgxpool.Pool, cfg *config.Config, logger *slog.Logger, deps jobs.Deps) (*river.Client[pgx.Tx], error) {
	deps.JobTimeout = cfg.Workers.JobTimeout
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:               logger.With("component", "river"),
		Schema:               migrations.RiverSchema,
		Queues:               jobs.Queues(cfg.Workers.ByQueue()),
		Workers:              jobs.Workers(deps),
		PeriodicJobs:         jobs.Periodic(deps),
		JobTimeout:           cfg.Workers.JobTimeout,
		RescueStuckJobsAfter: cfg.Workers.RescueStuckJobsAfter,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}

// tiktokParts are the TikTok Shop pieces of a configured process.
type tiktokParts struct {
	sealer *shops.Sealer
	store  *shops.Store
	api    *tiktok.Client // uses store for the shops' tokens
}

// newTikTok builds the TikTok client and the token store; nil when TikTok is
// not configured. The store refreshes through a client of its own, since the
// API client asks the store for tokens.
func newTikTok(cfg *config.Config, pool *pgxpool.Pool) (*tiktokParts, error) {
	if !cfg.TikTok.Enabled() {
		return nil, nil
	}
	sealer, err := shops.NewSealer([]byte(cfg.TikTok.TokenKey.Reveal()))
	if err != nil {
		return nil, err
	}
	tcfg := tiktok.Config{
		AppKey:     cfg.TikTok.AppKey,
		AppSecret:  cfg.TikTok.AppSecret.Reveal(),
		APIURL:     cfg.TikTok.APIURL,
		AuthURL:    cfg.TikTok.AuthURL,
		RateLimit:  cfg.TikTok.RateLimit,
		RateLimits: cfg.TikTok.RateLimits,
	}
	store := shops.NewStore(pool, sealer, tiktok.New(tcfg), shops.StoreOptions{
		RefreshAhead:  cfg.TikTok.TokenRefreshAhead,
		OnboardingURL: cfg.Server.PublicURL + "/oauth/tiktok/start",
	})
	tcfg.Tokens = store
	return &tiktokParts{sealer: sealer, store: store, api: tiktok.New(tcfg)}, nil
}

// newSAP builds the Service Layer client behind the governor; nil when SAP
// is not configured.
func newSAP(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, m *metrics.Metrics, maxWait time.Duration) (*sapb1.Client, error) {
	if !cfg.SAPB1.Enabled() {
		return nil, nil
	}
	gcfg := governor.FromSettings(cfg.Governor)
	gcfg.MaxWait = maxWait
	g, err := governor.New(ctx, pool, gcfg)
	if err != nil {
		return nil, err
	}
	if err := g.Register(m.Registry); err != nil {
		return nil, fmt.Errorf("governor metrics: %w", err)
	}
	return sapb1.New(sapb1.Config{
		BaseURL:            cfg.SAPB1.ServiceLayerURL,
		CompanyDB:          cfg.SAPB1.CompanyDB,
		User:               cfg.SAPB1.User,
		Password:           cfg.SAPB1.Password.Reveal(),
		CAFile:             cfg.SAPB1.TLSCAFile,
		InsecureSkipVerify: cfg.SAPB1.TLSInsecureSkipVerify,
		RequestTimeout:     cfg.Governor.RequestTimeout,
		Gate:               g,
	})
}

// NewTikTokClient is the TikTok client of a configured process, with the
// shops' stored tokens; nil when TikTok is not configured.
func NewTikTokClient(cfg *config.Config, pool *pgxpool.Pool) (*tiktok.Client, error) {
	tt, err := newTikTok(cfg, pool)
	if err != nil || tt == nil {
		return nil, err
	}
	return tt.api, nil
}

// NewSAPClient is the Service Layer client behind the governor, as serve
// builds it; nil when SAP is not configured.
// A command waits for the governor (up to 30 s a request) instead of
// failing: it has no River job to snooze.
func NewSAPClient(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool) (*sapb1.Client, error) {
	return newSAP(ctx, cfg, pool, metrics.New(buildinfo.String()), 30*time.Second)
}
