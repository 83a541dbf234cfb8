package jobs_test

import (
	"context"
	"testing"

	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
	"github.com/tiktokb1/tiktokb1/internal/sapmaster"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/jobs"
)

// priceList is an SAP price list as the SQL reader pages it.
type priceList map[string]string

func (p priceList) Prices(_ context.Context, list int, fn func([]sqlreader.Price) error) error {
	var page []sqlreader.Price
	for code, v := range p {
		page = append(page, sqlreader.Price{ItemCode: code, PriceList: list, Price: decimal.RequireFromString(v)})
	}
	return fn(page)
}

func (e *stockEnv) pushPrices(t *testing.T, sap priceList) {
	t.Helper()
	if _, err := sapmaster.LandPrices(context.Background(), e.pool, sap); err != nil {
		t.Fatal(err)
	}
	res := runJob(t, e.pool, &jobs.PushTikTokPricesWorker{Deps: e.deps}, jobs.PushTikTokPricesArgs{ShopID: e.shop.ID})
	if res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("price push: %s %v", res.EventKind, res.Job.Errors)
	}
}

func (e *stockEnv) wantPrice(t *testing.T, sku, price string, updates int) {
	t.Helper()
	if st := e.listing(t, sku); st.Price != price || st.PriceUpdates != updates {
		t.Fatalf("%s on TikTok: price %s after %d updates, want %s after %d", sku, st.Price, st.PriceUpdates, price, updates)
	}
}

// A price change in the shop's SAP price list reaches the TikTok listing
// once; unchanged prices are not sent; a shop without a price list gets none.
func TestPricePushSendsChangedPricesOnce(t *testing.T) {
	e := newStockEnv(t, tiktoksim.Options{Seed: 75}, map[string]int{"A": 1, "B": 1})
	e.push(t) // caches the TikTok ids of A and B
	e.exec(t, `INSERT INTO integration.shop_config (shop_id, card_code, currency, default_warehouse, shipping_mode, cutover_at)
	           VALUES ($1, 'C1', 'GBP', '01', 'none', now())`, e.shop.ID)

	// No price list: nothing is sent.
	e.pushPrices(t, priceList{"A": "12.5", "B": "7"})
	e.wantPrice(t, "A", "5", 0)

	e.exec(t, `UPDATE integration.shop_config SET price_list = 1 WHERE shop_id = $1`, e.shop.ID)
	e.pushPrices(t, priceList{"A": "12.5", "B": "7"})
	e.wantPrice(t, "A", "12.5", 1)
	e.wantPrice(t, "B", "7", 1)

	// Unchanged: no call at all.
	before := e.sim.Stats().Requests
	e.pushPrices(t, priceList{"A": "12.500", "B": "7.00"})
	if after := e.sim.Stats().Requests; after != before {
		t.Fatalf("prices unchanged, yet %d requests", after-before)
	}

	// A changes: only A is sent, once.
	e.pushPrices(t, priceList{"A": "13.99", "B": "7"})
	e.pushPrices(t, priceList{"A": "13.99", "B": "7"})
	e.wantPrice(t, "A", "13.99", 2)
	e.wantPrice(t, "B", "7", 1)
	if n := e.count(t, `SELECT count(*) FROM integration.price_push WHERE shop_id = $1 AND result = 'ok' AND sent_currency = 'GBP'`, e.shop.ID); n != 2 {
		t.Fatalf("%d ledger rows, want 2", n)
	}
}
