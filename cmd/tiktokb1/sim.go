package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
)

// simulators are the outside systems the sandbox can play.
var simulators = []struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}{
	{"tiktok", "TikTok Shop: the API, the token paths, signed webhooks, and a control API under /_sim/", runSimTikTok},
	{"sapb1", "SAP Business One: the Service Layer (company kept in Postgres) and a control API under /_sim/", runSimSAPB1},
}

const simUsage = `sim SIMULATOR [flags]

Simulators:
%s
Run ` + "`tiktokb1 sim SIMULATOR --help`" + ` for its flags.`

func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var list strings.Builder
	for _, s := range simulators {
		fmt.Fprintf(&list, "  %-8s %s\n", s.name, s.summary)
	}
	fs := newFlags("sim", fmt.Sprintf(simUsage, list.String()), stdout, stderr, nil)
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := parse(fs, args, stderr); err != nil {
			return err
		}
		return usageError(fs, stderr, "expected a simulator: %s", simNames())
	}
	for _, s := range simulators {
		if s.name == args[0] {
			return s.run(ctx, args[1:], stdout, stderr)
		}
	}
	return usageError(fs, stderr, "unknown simulator %q: expected %s", args[0], simNames())
}

func simNames() string {
	names := make([]string, len(simulators))
	for i, s := range simulators {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

const simTikTokUsage = `sim tiktok --app-key K --app-secret S [flags]

Serves the TikTok Shop API paths (and the token paths) on one address, with
TikTok's checks, error codes, paging and rate limits, sends signed webhooks
with retries, and offers a control API under /_sim/ to create listings, place
and move orders, run a flash sale and read counters. Runs until interrupted.`

func runSimTikTok(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sim tiktok", simTikTokUsage, stdout, stderr, nil)
	addr := fs.String("addr", "127.0.0.1:8081", "address to listen on, HOST:PORT")
	appKey := fs.String("app-key", "", "the app key requests must carry and webhooks are signed with (required)")
	appSecret := fs.String("app-secret", "", "the app secret requests are signed with (required)")
	webhookURL := fs.String("webhook-url", "", "subscribe the order status, address and cancellation webhooks to this URL (default: no subscription)")
	seed := fs.Uint64("seed", 1, "seed of every id, name and demo order")
	demo := fs.Bool("demo", false, "seed demo listings and about twenty orders covering what real shops send")
	rate := fs.Float64("rate-limit", 50, "requests per second allowed per app, shop and endpoint; 0 disables rate limiting")
	burst := fs.Int("rate-burst", 0, "burst of each rate-limit bucket (default: the rate)")
	accessTTL := fs.Duration("access-token-ttl", 7*24*time.Hour, "life of an access token")
	refreshTTL := fs.Duration("refresh-token-ttl", 365*24*time.Hour, "life of a refresh token")
	shopID := fs.String("shop-id", "", "the shop's id (default: derived from the seed)")
	region := fs.String("region", "GB", "the shop's region code")
	currency := fs.String("currency", "GBP", "the currency of every amount")
	retries := fs.String("webhook-retries", "2m,30m,3h,12h", "waits before each retry of a failed webhook, comma-separated durations")
	webhookTimeout := fs.Duration("webhook-timeout", 5*time.Second, "time limit of one webhook delivery attempt")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected argument %q", fs.Arg(0))
	}
	if *appKey == "" || *appSecret == "" {
		return usageError(fs, stderr, "--app-key and --app-secret are required")
	}
	if *rate < 0 || *burst < 0 {
		return usageError(fs, stderr, "--rate-limit and --rate-burst must not be negative")
	}
	delays, err := parseDurations(*retries)
	if err != nil {
		return usageError(fs, stderr, "--webhook-retries: %v", err)
	}
	if *rate == 0 {
		*rate = -1 // the package's "no limit"
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	sim := tiktoksim.New(tiktoksim.Options{
		AppKey: *appKey, AppSecret: *appSecret, Seed: *seed, Demo: *demo,
		ShopID: *shopID, Region: *region, Currency: *currency,
		RateLimit: *rate, RateBurst: *burst,
		AccessTokenTTL: *accessTTL, RefreshTokenTTL: *refreshTTL,
		WebhookURL: *webhookURL, WebhookRetryDelays: delays, WebhookTimeout: *webhookTimeout,
		Logger: logger,
	})
	defer sim.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	sim.Start()
	shop := sim.Shop()
	logger.Info("tiktok simulator listening", "addr", ln.Addr().String(), "app_key", *appKey,
		"shop_id", shop.ID, "shop_cipher", shop.Cipher, "control_api", "http://"+ln.Addr().String()+tiktoksim.ControlBase,
		"demo", *demo, "webhook_url", *webhookURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// parseDurations reads "2m,30m,3h"; an empty string means no retries.
func parseDurations(s string) ([]time.Duration, error) {
	out := []time.Duration{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		if d <= 0 {
			return nil, fmt.Errorf("%q is not a positive duration", part)
		}
		out = append(out, d)
	}
	return out, nil
}
