package landing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

const shopID = "7495540735365777507"

// addShop stores an onboarded shop (the payload tables refer to it).
func addShop(t testing.TB, pool *pgxpool.Pool, id string) {
	t.Helper()
	ctx := context.Background()
	q := db.New(pool)
	if _, err := q.UpsertTikTokAuthorization(ctx, db.UpsertTikTokAuthorizationParams{
		OpenID: "open-" + id, GrantedScopes: []string{}, AccessTokenEnc: []byte{1}, RefreshTokenEnc: []byte{1},
		AccessExpiresAt: time.Now().Add(time.Hour), RefreshExpiresAt: time.Now().Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.UpsertTikTokShops(ctx, db.UpsertTikTokShopsParams{
		Ids: []string{id}, OpenID: "open-" + id, Names: []string{"Test shop"}, Regions: []string{"GB"},
		SellerTypes: []string{"LOCAL"}, Ciphers: []string{"cipher"}, Codes: []string{"GBLC1"},
	}); err != nil {
		t.Fatal(err)
	}
}

// demoSim is a simulator with the demo shop's orders: every shape real shops send.
func demoSim(t testing.TB, seed uint64) *tiktoksim.Server {
	t.Helper()
	sim := tiktoksim.New(tiktoksim.Options{AppKey: "k", AppSecret: "s", Seed: seed, Demo: true})
	t.Cleanup(func() { sim.Close() })
	return sim
}

// simOrder is one order exactly as TikTok's API returns it.
func simOrder(t testing.TB, sim *tiktoksim.Server, id string) tiktok.Order {
	t.Helper()
	raw, err := sim.Order(id)
	if err != nil {
		t.Fatal(err)
	}
	return decodeOrder(t, raw)
}

func simOrders(t testing.TB, sim *tiktoksim.Server) []tiktok.Order {
	t.Helper()
	var out []tiktok.Order
	for _, id := range sim.OrderIDs() {
		out = append(out, simOrder(t, sim, id))
	}
	return out
}

func decodeOrder(t testing.TB, raw []byte) tiktok.Order {
	t.Helper()
	var o tiktok.Order
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return o
}

// edit returns a copy of o with its JSON changed by f (numbers stay exact).
func edit(t testing.TB, o tiktok.Order, f func(m map[string]any)) tiktok.Order {
	t.Helper()
	m := object(t, o.Raw)
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out tiktok.Order
	if err := json.Unmarshal(b, &out); err != nil {
		// Orders without an id do not decode; keep the raw bytes as a
		// client that kept them would.
		out = tiktok.Order{Raw: b}
	}
	return out
}

func object(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func text(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// typedChecksum summarises the typed tables (every column but derived_at and derived_xid).
func typedChecksum(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	return text(t, pool, `SELECT
		(SELECT count(*) FROM tiktok."order") || ' orders, ' || (SELECT count(*) FROM tiktok.order_line) || ' lines, '
		|| (SELECT count(*) FROM tiktok.order_package) || ' packages: '
		|| (SELECT coalesce(md5(string_agg((to_jsonb(o) - 'derived_at' - 'derived_xid')::text, '|' ORDER BY o.shop_id, o.order_id)), '') FROM tiktok."order" o)
		|| (SELECT coalesce(md5(string_agg(to_jsonb(l)::text, '|' ORDER BY l.shop_id, l.order_id, l.line_id)), '') FROM tiktok.order_line l)
		|| (SELECT coalesce(md5(string_agg(to_jsonb(k)::text, '|' ORDER BY k.shop_id, k.order_id, k.package_id)), '') FROM tiktok.order_package k)`)
}
