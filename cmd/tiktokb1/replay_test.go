package main_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/landing"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

func TestReplayCommandLine(t *testing.T) {
	if r := tiktokb1(t, nil, "replay", "--help"); r.code != 0 || !strings.Contains(r.stdout, "Usage: tiktokb1 replay orders") || !strings.Contains(r.stdout, "--since") {
		t.Errorf("replay --help: exit %d, %q", r.code, r.stdout)
	}
	for args, want := range map[string]string{
		"replay":                           "expected what to replay: orders",
		"replay returns":                   "expected what to replay: orders",
		"replay orders --since yesterday":  `--since: "yesterday" is not a time`,
		"replay orders --page-size 0":      "--page-size 0 is not 1 to 10000",
		"replay orders --since 2026-13-01": "is not a time",
	} {
		if r := tiktokb1(t, nil, strings.Fields(args)...); r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("tiktokb1 %s: exit %d, stderr %q; want exit 2 and %q", args, r.code, r.stderr, want)
		}
	}
}

// The typed orders are gone (or wrong); `tiktokb1 replay orders` rebuilds
// them from the landed payloads, page by page, saying how far it got.
func TestReplayOrdersRebuildsTypedTables(t *testing.T) {
	ctx := context.Background()
	dbURL := testdb.NewURL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	const shopID = "7495540735365777507"
	q := db.New(pool)
	if _, err := q.UpsertTikTokAuthorization(ctx, db.UpsertTikTokAuthorizationParams{
		OpenID: "open", GrantedScopes: []string{}, AccessTokenEnc: []byte{1}, RefreshTokenEnc: []byte{1},
		AccessExpiresAt: time.Now().Add(time.Hour), RefreshExpiresAt: time.Now().Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.UpsertTikTokShops(ctx, db.UpsertTikTokShopsParams{Ids: []string{shopID}, OpenID: "open", Names: []string{"S"},
		Regions: []string{"GB"}, SellerTypes: []string{"LOCAL"}, Ciphers: []string{"c"}, Codes: []string{"C"}}); err != nil {
		t.Fatal(err)
	}
	sim := tiktoksim.New(tiktoksim.Options{AppKey: "k", AppSecret: "s", Seed: 41, Demo: true})
	defer sim.Close()
	var orders []tiktok.Order
	for _, id := range sim.OrderIDs() {
		raw, err := sim.Order(id)
		if err != nil {
			t.Fatal(err)
		}
		var o tiktok.Order
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		orders = append(orders, o)
	}
	if _, err := landing.Land(ctx, pool, shopID, landing.SourcePoll, orders); err != nil {
		t.Fatal(err)
	}
	var lines int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM tiktok.order_line`).Scan(&lines); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `TRUNCATE tiktok."order" CASCADE`); err != nil {
		t.Fatal(err)
	}

	r := tiktokb1(t, []string{"DATABASE_URL=" + dbURL}, "replay", "orders", "--page-size", "10")
	if r.code != 0 {
		t.Fatalf("replay orders: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"page 1: 10 of 22 orders (45%)", "page 3: 22 of 22 orders (100%)", "replayed 22 orders in 3 pages"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	var orderRows, lineRows int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM tiktok."order"), (SELECT count(*) FROM tiktok.order_line)`).Scan(&orderRows, &lineRows); err != nil {
		t.Fatal(err)
	}
	if orderRows != len(orders) || lineRows != lines {
		t.Fatalf("after replay: %d orders and %d lines, want %d and %d", orderRows, lineRows, len(orders), lines)
	}
	r = tiktokb1(t, []string{"DATABASE_URL=" + dbURL}, "replay", "orders", "--since", "1h")
	if r.code != 0 || !strings.Contains(r.stdout, "replayed 22 orders") {
		t.Fatalf("replay orders --since 1h: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
