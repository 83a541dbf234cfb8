package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tiktokb1/tiktokb1/internal/landing"
	"github.com/tiktokb1/tiktokb1/internal/service"
	"github.com/tiktokb1/tiktokb1/migrations"
)

const replayUsage = `replay orders [--since TIME] [--page-size N]

  orders   derive the typed TikTok orders, order lines and packages again from
           the payloads landed in tiktok.order_payload: after a fix of the
           derivation, or to rebuild the typed tables. Each order takes the
           newest of all its payloads, exactly as landing them fresh would; an
           order that lands meanwhile is never set back. Running it twice
           changes nothing more.`

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", replayUsage, stdout, stderr, printVariables)
	since := fs.String("since", "", "replay only the orders with a payload received at or after this time: RFC 3339 (2026-11-26T08:00:00Z), a UTC date (2026-11-26) or a duration before now (36h); default: every order")
	pageSize := fs.Int("page-size", landing.DefaultReplayPageSize, "orders derived per transaction (1 to 10000)")
	var what string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		what, args = args[0], args[1:]
	}
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if what != "orders" || fs.NArg() > 0 {
		return usageError(fs, stderr, "expected what to replay: orders")
	}
	if *pageSize < 1 || *pageSize > 10000 {
		return usageError(fs, stderr, "--page-size %d is not 1 to 10000", *pageSize)
	}
	opts := landing.ReplayOptions{PageSize: *pageSize}
	if *since != "" {
		t, err := parseSince(*since, time.Now())
		if err != nil {
			return usageError(fs, stderr, "--since: %v", err)
		}
		opts.Since = &t
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
	if err := migrations.Check(ctx, sqlDB); err != nil {
		return err
	}

	scope := "every order"
	if opts.Since != nil {
		scope = "orders with a payload received since " + opts.Since.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(stdout, "replay orders: %s, %d per page\n", scope, opts.PageSize)
	terminal := isTerminal(stdout)
	opts.Progress = func(p landing.ReplayProgress) {
		line := fmt.Sprintf("page %d: %d of %d orders (%d%%), %d lines, %d unreadable, %s",
			p.Page, p.Done, p.Total, p.Done*100/max(p.Total, 1), p.Derive.Lines, p.Derive.Unreadable, p.Elapsed.Round(100*time.Millisecond))
		if terminal {
			fmt.Fprintf(stdout, "\r\033[K%s %s", bar(p.Done, p.Total, 30), line)
			return
		}
		fmt.Fprintln(stdout, line)
	}
	start := time.Now()
	res, err := landing.Replay(ctx, pool, opts)
	if terminal && res.Pages > 0 {
		fmt.Fprintln(stdout)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "replayed %d orders in %d pages (%s): %d typed orders, %d lines and %d packages written; %d unreadable (see ops.exception), %d exceptions resolved\n",
		res.Orders, res.Pages, time.Since(start).Round(time.Millisecond), res.Derive.Orders, res.Derive.Lines, res.Derive.Packages,
		res.Derive.Unreadable, res.Derive.Resolved)
	return nil
}

// parseSince reads --since: RFC 3339, a date (midnight UTC) or a duration
// before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: expected RFC 3339 (2026-11-26T08:00:00Z), a date (2026-11-26) or a duration (36h)", s)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// bar draws done of total as [#####.....].
func bar(done, total int64, width int) string {
	n := int(done * int64(width) / max(total, 1))
	n = min(max(n, 0), width)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}
