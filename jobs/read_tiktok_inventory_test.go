package jobs_test

import (
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertest"

	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/jobs"
)

// TikTok's own stock of each listing is kept as the push reads it and as
// the periodic read finds it, and report.inventory_health shows it next to
// available-to-sell with the drift: a sale TikTok made that SAP does not
// know of yet shows as TikTok offering less.
func TestTikTokStockInInventoryHealth(t *testing.T) {
	e := newStockEnv(t, tiktoksim.Options{Seed: 73}, map[string]int{"A": 10, "B": 20})
	e.push(t)
	health := func(sku string) (available, committed, drift int) {
		t.Helper()
		if err := e.pool.QueryRow(t.Context(), `SELECT coalesce(tiktok_available, -1), coalesce(tiktok_committed, -1), coalesce(tiktok_drift, -99)
		                                        FROM report.inventory_health WHERE shop_id = $1 AND seller_sku = $2`, e.shop.ID, sku).Scan(&available, &committed, &drift); err != nil {
			t.Fatal(err)
		}
		return
	}
	// The push read TikTok after its update: 10 and 20, no drift.
	if a, c, d := health("A"); a != 10 || c != 0 || d != 0 {
		t.Fatalf("A after the push: TikTok %d available, %d committed, drift %d", a, c, d)
	}

	// A buyer takes 3 A on TikTok; the order has not landed.
	e.buy(t, "A", 3)
	read := func() {
		t.Helper()
		res := runJob(t, e.pool, &jobs.ReadTikTokInventoryWorker{Deps: e.deps}, jobs.ReadTikTokInventoryArgs{ShopID: e.shop.ID})
		if res.EventKind != river.EventKindJobCompleted {
			t.Fatalf("read: %s %v", res.EventKind, res.Job.Errors)
		}
	}
	// Read within the hour: nothing is asked of TikTok.
	before := e.sim.Stats().Requests
	read()
	if n := e.sim.Stats().Requests - before; n != 0 {
		t.Fatalf("%d requests for listings read minutes ago", n)
	}
	if a, _, _ := health("A"); a != 10 {
		t.Fatalf("A changed without a read: %d", a)
	}

	// An hour later the periodic read finds the sale.
	e.exec(t, `UPDATE tiktok.sku_stock SET read_at = now() - interval '61 minutes' WHERE shop_id = $1`, e.shop.ID)
	read()
	if a, c, d := health("A"); a != 7 || c != 3 || d != -3 {
		t.Fatalf("A after the read: TikTok %d available, %d committed, drift %d; want 7, 3, -3", a, c, d)
	}
	if a, _, d := health("B"); a != 20 || d != 0 {
		t.Fatalf("B after the read: TikTok %d available, drift %d", a, d)
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok.sku_stock WHERE shop_id = $1 AND read_at > now() - interval '1 minute'`, e.shop.ID); n != 2 {
		t.Fatalf("%d SKUs read, want 2", n)
	}
}

// The jobs per shop share how they treat their shop: one that is not
// onboarded cancels the job with a message that says so; a deauthorised one
// ends it without a call to TikTok.
func TestPerShopJobsWithAnUnknownOrDeauthorisedShop(t *testing.T) {
	e := newStockEnv(t, tiktoksim.Options{Seed: 77}, map[string]int{"A": 10})
	for _, res := range []*rivertest.WorkResult{
		runJob(t, e.pool, &jobs.ReadTikTokInventoryWorker{Deps: e.deps}, jobs.ReadTikTokInventoryArgs{ShopID: "nope"}),
		runJob(t, e.pool, &jobs.PushTikTokInventoryWorker{Deps: e.deps}, jobs.PushTikTokInventoryArgs{ShopID: "nope"}),
		runJob(t, e.pool, &jobs.PushTikTokPricesWorker{Deps: e.deps}, jobs.PushTikTokPricesArgs{ShopID: "nope"}),
	} {
		if res.EventKind != river.EventKindJobCancelled || len(res.Job.Errors) == 0 || !strings.Contains(res.Job.Errors[0].Error, "shop nope is not onboarded") {
			t.Errorf("%s for an unknown shop: %s %v", res.Job.Kind, res.EventKind, res.Job.Errors)
		}
	}
	e.exec(t, `UPDATE tiktok.shop SET status = 'deauthorized', deauthorized_at = now() WHERE id = $1`, e.shop.ID)
	before := e.sim.Stats().Requests
	for _, res := range []*rivertest.WorkResult{
		runJob(t, e.pool, &jobs.ReadTikTokInventoryWorker{Deps: e.deps}, jobs.ReadTikTokInventoryArgs{ShopID: e.shop.ID}),
		runJob(t, e.pool, &jobs.PushTikTokInventoryWorker{Deps: e.deps}, jobs.PushTikTokInventoryArgs{ShopID: e.shop.ID}),
	} {
		if res.EventKind != river.EventKindJobCompleted {
			t.Errorf("%s for a deauthorised shop: %s %v", res.Job.Kind, res.EventKind, res.Job.Errors)
		}
	}
	if n := e.sim.Stats().Requests - before; n != 0 {
		t.Fatalf("%d requests to TikTok for a deauthorised shop", n)
	}
}
