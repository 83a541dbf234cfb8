package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/inventory"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
	"github.com/tiktokb1/tiktokb1/internal/sapmaster"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

func exec(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
}

// item adds an SAP item: flags is a set of letters, i inactive, f frozen,
// n not for sale, k a sales BOM (kit).
func item(t testing.TB, pool *pgxpool.Pool, code, flags string) {
	t.Helper()
	tree := "N"
	if strings.Contains(flags, "k") {
		tree = "S"
	}
	exec(t, pool, `INSERT INTO sapb1.item (item_code, inventory_item, sales_item, valid, frozen, tree_type) VALUES ($1, $2, $3, $4, $5, $6)`,
		code, tree != "S", !strings.Contains(flags, "n"), !strings.Contains(flags, "i"), strings.Contains(flags, "f"), tree)
}

// stock sets an item's stock in a warehouse, read an hour ago.
func stock(t testing.TB, pool *pgxpool.Pool, code, whs string, onHand, committed float64) {
	t.Helper()
	exec(t, pool, `INSERT INTO sapb1.stock (item_code, whs_code, on_hand, is_committed, read_from) VALUES ($1, $2, $3, $4, now() - interval '1 hour')
	               ON CONFLICT (item_code, whs_code) DO UPDATE SET on_hand = excluded.on_hand, is_committed = excluded.is_committed`,
		code, whs, decimal.NewFromFloat(onHand), decimal.NewFromFloat(committed))
}

func warehouseSet(t testing.TB, pool *pgxpool.Pool, shop, tiktokWarehouse string, whs ...string) {
	t.Helper()
	for _, w := range whs {
		exec(t, pool, `INSERT INTO integration.warehouse_set (shop_id, tiktok_warehouse_id, whs_code) VALUES ($1, $2, $3)`, shop, tiktokWarehouse, w)
	}
}

// ledger reads integration.inventory_push as "shop/warehouse/sku" →
// computed quantity, and when each row was computed.
func ledger(t testing.TB, pool *pgxpool.Pool) (map[string]int64, map[string]time.Time) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT shop_id || '/' || tiktok_warehouse_id || '/' || seller_sku, computed_quantity, computed_at FROM integration.inventory_push`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	quantities, at := map[string]int64{}, map[string]time.Time{}
	for rows.Next() {
		var key string
		var q int64
		var when time.Time
		if err := rows.Scan(&key, &q, &when); err != nil {
			t.Fatal(err)
		}
		quantities[key], at[key] = q, when
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return quantities, at
}

// recompute runs the computation and returns the ledger rows it wrote as
// "shop/warehouse/sku" → quantity, checking that its count per shop agrees.
func recompute(t testing.TB, pool *pgxpool.Pool) map[string]int64 {
	t.Helper()
	before, beforeAt := ledger(t, pool)
	shops, err := inventory.Recompute(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	after, afterAt := ledger(t, pool)
	out := map[string]int64{}
	perShop := map[string]int64{}
	for k, q := range after {
		if old, ok := before[k]; !ok || old != q || !beforeAt[k].Equal(afterAt[k]) {
			out[k] = q
			perShop[strings.SplitN(k, "/", 2)[0]]++
		}
	}
	for _, c := range shops {
		if c.Listings != perShop[c.ShopID] {
			t.Fatalf("shop %s: %d listings counted, %d written", c.ShopID, c.Listings, perShop[c.ShopID])
		}
		delete(perShop, c.ShopID)
	}
	if len(perShop) > 0 {
		t.Fatalf("listings written but not counted: %v", perShop)
	}
	return out
}

func expect(t *testing.T, got map[string]int64, want map[string]int64) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %d (present %v), want %d", k, g, ok, w)
		}
	}
}

func TestWarehouseSumsBuffersAndInactiveItems(t *testing.T) {
	pool := testdb.New(t)
	warehouseSet(t, pool, "S1", "TW1", "01", "02", "03")
	for _, c := range []string{"A", "B", "C", "D"} {
		item(t, pool, c, "")
	}
	item(t, pool, "X", "i")
	item(t, pool, "F", "f")
	item(t, pool, "N", "n")
	// A: 10−2 in 01, 1−5 in 02 (more committed than on hand), 0 in 03,
	// 100 in 04 outside the set: 11 − 7 = 4, not 8 + 0 = 8.
	stock(t, pool, "A", "01", 10, 2)
	stock(t, pool, "A", "02", 1, 5)
	stock(t, pool, "A", "03", 0, 0)
	stock(t, pool, "A", "04", 100, 0)
	// B: 20 less a buffer of 5. C: 3 less a buffer of 10 → 0, never −7.
	stock(t, pool, "B", "01", 20, 0)
	stock(t, pool, "C", "02", 3, 0)
	exec(t, pool, `INSERT INTO integration.stock_buffer (item_code, buffer) VALUES ('B', 5), ('C', 10)`)
	// D: fractional stock is floored; committed over the whole set → 0.
	stock(t, pool, "D", "01", 7.5, 0)
	for _, c := range []string{"X", "F", "N"} {
		stock(t, pool, c, "01", 50, 0)
	}

	got := recompute(t, pool)
	expect(t, got, map[string]int64{
		"S1/TW1/A": 4, "S1/TW1/B": 15, "S1/TW1/C": 0, "S1/TW1/D": 7,
		"S1/TW1/X": 0, "S1/TW1/F": 0, "S1/TW1/N": 0,
	})
	if len(got) != 7 {
		t.Fatalf("first run wrote %d rows, want 7: %v", len(got), got)
	}

	// Nothing changed: nothing written.
	if got := recompute(t, pool); len(got) != 0 {
		t.Fatalf("second run changed %v", got)
	}

	// One more unit committed in 02 and the item reactivated: only those rows.
	stock(t, pool, "A", "02", 1, 6)
	exec(t, pool, `UPDATE sapb1.item SET valid = true WHERE item_code = 'X'`)
	exec(t, pool, `UPDATE integration.stock_buffer SET buffer = 25 WHERE item_code = 'B'`)
	shops, err := inventory.Recompute(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	// A 4→3 and B 15→0 decrease, X 0→50 increases; nothing else is written.
	if fmt.Sprint(shops) != "[{S1 3 0 2 1}]" {
		t.Fatalf("changes: %+v", shops)
	}
	if got, _ := ledger(t, pool); got["S1/TW1/A"] != 3 || got["S1/TW1/B"] != 0 || got["S1/TW1/X"] != 50 {
		t.Fatalf("ledger: %v", got)
	}
}

// order lands a TikTok order whose lines are the given seller SKUs (one
// unit each; a SKU prefixed with ! is a cancelled line), with its posting
// ledger state ("" = not evaluated yet) and, for posted, when it was posted
// relative to now.
func order(t testing.TB, pool *pgxpool.Pool, shop, id, status, state, postedAgo string, skus ...string) {
	t.Helper()
	exec(t, pool, `INSERT INTO integration.tiktok_authorization (open_id, access_token_enc, access_expires_at, refresh_token_enc, refresh_expires_at)
	               VALUES ('open', '\x00', now(), '\x00', now()) ON CONFLICT DO NOTHING`)
	exec(t, pool, `INSERT INTO tiktok.shop (id, open_id, cipher) VALUES ($1, 'open', 'c') ON CONFLICT DO NOTHING`, shop)
	exec(t, pool, `WITH p AS (INSERT INTO tiktok.order_payload (shop_id, order_id, source, body) VALUES ($1, $2, 'poll', jsonb_build_object('id', $2::text)) RETURNING id)
	               INSERT INTO tiktok."order" (shop_id, order_id, status, status_rank, create_time, update_time, create_time_unix, update_time_unix,
	                   fulfillment_type, is_on_hold_order, is_buyer_request_cancel, is_cod, is_sample_order, is_replacement_order,
	                   has_updated_recipient_address, currency, sub_total, total_amount, line_count, payload_id)
	               SELECT $1, $2, $3::text, tiktok.order_status_rank($3), now(), now(), 0, 0, 'FULFILLMENT_BY_SELLER',
	                   false, false, false, false, false, false, 'USD', 1, 1, $4, p.id FROM p`, shop, id, status, len(skus))
	for i, sku := range skus {
		display := "AWAITING_SHIPMENT"
		if strings.HasPrefix(sku, "!") {
			sku, display = sku[1:], "CANCELLED"
		}
		exec(t, pool, `INSERT INTO tiktok.order_line (shop_id, order_id, line_id, position, seller_sku, original_price, sale_price, is_gift, display_status)
		               VALUES ($1, $2, $3, $4, $5, 1, 1, false, $6)`, shop, id, fmt.Sprintf("%s-%d", id, i), i+1, sku, display)
	}
	switch state {
	case "":
	case "posted":
		exec(t, pool, `INSERT INTO integration.order_posting (shop_id, order_id, state, doc_entry, posted_at) VALUES ($1, $2, 'posted', 1, now() - $3::interval)`, shop, id, postedAgo)
	default:
		exec(t, pool, `INSERT INTO integration.order_posting (shop_id, order_id, state, doc_entry)
		               VALUES ($1, $2, $3, CASE WHEN $3 IN ('cancelled', 'closed') THEN 1 END)`, shop, id, state)
	}
}

// One item sold as a single SKU (identity, a shop's map row and a global
// one), in two bundles and in two shops: every unit of it in an order SAP
// does not reflect yet is taken off once, from every listing.
func TestBundlesAndPendingAcrossShops(t *testing.T) {
	pool := testdb.New(t)
	warehouseSet(t, pool, "S1", "TW1", "01")
	warehouseSet(t, pool, "S2", "TW2", "01", "02")
	item(t, pool, "P", "")
	item(t, pool, "Q", "")
	item(t, pool, "K", "k") // a sales BOM: 4 P per 2 K
	exec(t, pool, `INSERT INTO sapb1.bom_line (father, child_num, tree_type, header_quantity, component, quantity) VALUES ('K', 0, 'S', 2, 'P', 4)`)
	stock(t, pool, "P", "01", 100, 0)
	stock(t, pool, "Q", "01", 7, 0)
	exec(t, pool, `INSERT INTO integration.sku_map (shop_id, seller_sku, item_code) VALUES ('S1', 'P-RED', 'P'), ('', 'P-ANY', 'P')`)
	exec(t, pool, `INSERT INTO integration.bundle (seller_sku, mode, kit_item_code) VALUES ('BUN', 'components', NULL), ('KITB', 'kit', 'K')`)
	exec(t, pool, `INSERT INTO integration.bundle_component (seller_sku, item_code, quantity) VALUES ('BUN', 'P', 2), ('BUN', 'Q', 3)`)

	got := recompute(t, pool)
	// Nothing pending yet: P 100, Q 7; BUN min(100/2, 7/3) = 2; K and KITB 100/2 = 50.
	expect(t, got, map[string]int64{
		"S1/TW1/P": 100, "S1/TW1/P-RED": 100, "S1/TW1/P-ANY": 100, "S1/TW1/Q": 7, "S1/TW1/BUN": 2, "S1/TW1/K": 50, "S1/TW1/KITB": 50,
		"S2/TW2/P": 100, "S2/TW2/P-ANY": 100, "S2/TW2/Q": 7, "S2/TW2/BUN": 2, "S2/TW2/K": 50, "S2/TW2/KITB": 50,
	})
	if _, ok := got["S2/TW2/P-RED"]; ok || len(got) != 13 {
		t.Fatalf("listings: %v", got)
	}

	// Pending P: 1 (P-RED, waiting) + 2 (a BUN, not evaluated yet) + 2 (P
	// and P-ANY in shop 2, posted after the last stock read) + 2 (a KITB,
	// ready: 2 P per kit) = 7. Pending Q: 3 from the BUN.
	order(t, pool, "S1", "o1", "AWAITING_SHIPMENT", "waiting", "", "P-RED")
	order(t, pool, "S1", "o2", "UNPAID", "", "", "BUN")
	order(t, pool, "S2", "o3", "AWAITING_SHIPMENT", "posted", "10 minutes", "P", "P-ANY")
	order(t, pool, "S2", "o4", "AWAITING_SHIPMENT", "ready", "", "KITB")
	// Not pending: posted before the stock read (SAP's IsCommited has it), a
	// cancelled order, a cancelled line, a skipped order, a closed one.
	order(t, pool, "S2", "o5", "AWAITING_SHIPMENT", "posted", "2 hours", "P", "P")
	order(t, pool, "S1", "o6", "CANCELLED", "", "", "P", "P", "P")
	order(t, pool, "S1", "o7", "AWAITING_SHIPMENT", "waiting", "", "!P", "!Q")
	order(t, pool, "S1", "o8", "AWAITING_SHIPMENT", "skipped", "", "P")
	order(t, pool, "S2", "o9", "COMPLETED", "closed", "", "P")

	got = recompute(t, pool)
	// P 93, Q 4: BUN min(93/2, 4/3) = 1, K and KITB 93/2 = 46.
	want := map[string]int64{
		"S1/TW1/P": 93, "S1/TW1/P-RED": 93, "S1/TW1/P-ANY": 93, "S1/TW1/Q": 4, "S1/TW1/BUN": 1, "S1/TW1/K": 46, "S1/TW1/KITB": 46,
		"S2/TW2/P": 93, "S2/TW2/P-ANY": 93, "S2/TW2/Q": 4, "S2/TW2/BUN": 1, "S2/TW2/K": 46, "S2/TW2/KITB": 46,
	}
	expect(t, got, want)
	if len(got) != len(want) {
		t.Fatalf("changed: %v", got)
	}

	// A complete stock snapshot read after o3 was posted shows its 2 units
	// committed in SAP: they leave pending and enter IsCommited, counted once.
	r := &pagedReader{pages: [][]sqlreader.Stock{
		{st("P", "01", 100, 2), st("Q", "01", 7, 0)},
	}}
	if _, err := sapmaster.SnapshotStock(context.Background(), pool, r); err != nil {
		t.Fatal(err)
	}
	if got := recompute(t, pool); len(got) != 0 {
		t.Fatalf("the posted order was counted twice or not at all: %v", got)
	}
}

type pagedReader struct {
	pages  [][]sqlreader.Stock
	failAt int // fail instead of returning this page (1-based); 0 never
}

func (r *pagedReader) StockAll(ctx context.Context, fn func([]sqlreader.Stock) error) error {
	for i, p := range r.pages {
		if i+1 == r.failAt {
			return errors.New("connection reset by SAP's SQL Server")
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

func st(item, whs string, onHand, committed int64) sqlreader.Stock {
	return sqlreader.Stock{ItemCode: item, WhsCode: whs, OnHand: decimal.NewFromInt(onHand), IsCommited: decimal.NewFromInt(committed)}
}

// A stock read that fails half way publishes nothing: available-to-sell
// keeps the previous stock, and nothing changes (DESIGN invariant 9).
func TestAPartialStockSnapshotPublishesNothing(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	warehouseSet(t, pool, "S1", "TW1", "01", "02")
	item(t, pool, "A", "")
	item(t, pool, "B", "")
	item(t, pool, "C", "")
	full := &pagedReader{pages: [][]sqlreader.Stock{
		{st("A", "01", 10, 1), st("A", "02", 5, 0)},
		{st("B", "01", 8, 0), st("C", "01", 3, 0)},
	}}
	if n, err := sapmaster.SnapshotStock(ctx, pool, full); err != nil || n != 4 {
		t.Fatalf("complete snapshot: %d, %v", n, err)
	}
	expect(t, recompute(t, pool), map[string]int64{"S1/TW1/A": 14, "S1/TW1/B": 8, "S1/TW1/C": 3})

	// The next read sees A at 0 on its first page, then the connection drops.
	partial := &pagedReader{failAt: 2, pages: [][]sqlreader.Stock{
		{st("A", "01", 0, 0), st("A", "02", 0, 0)},
		{st("B", "01", 0, 0)},
	}}
	if _, err := sapmaster.SnapshotStock(ctx, pool, partial); err == nil || !strings.Contains(err.Error(), "nothing published") {
		t.Fatalf("a failed read reported %v", err)
	}
	if got := recompute(t, pool); len(got) != 0 {
		t.Fatalf("a partial read changed available-to-sell: %v", got)
	}
	var loads, failed int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM sapb1.stock_load), (SELECT count(*) FROM sapb1.snapshot WHERE kind = 'stock' AND status = 'failed')`).Scan(&loads, &failed); err != nil || loads != 0 || failed != 1 {
		t.Fatalf("load rows left %d, failed snapshots %d (%v)", loads, failed, err)
	}

	// A complete read without C's row removes it: C → 0.
	next := &pagedReader{pages: [][]sqlreader.Stock{{st("A", "01", 10, 1), st("A", "02", 5, 0), st("B", "01", 8, 0)}}}
	if _, err := sapmaster.SnapshotStock(ctx, pool, next); err != nil {
		t.Fatal(err)
	}
	if got := recompute(t, pool); len(got) != 1 || got["S1/TW1/C"] != 0 {
		t.Fatalf("after C left SAP's stock: %v", got)
	}
}

// Allocation (integration.listing_allocation): one item split 70/30 between
// two shops that count the same SAP warehouse, rounded down so the two never
// offer more than SAP has; a share applies to a bundle's components; share 0
// keeps a listing at 0; without a row a listing offers the whole amount, and
// report.allocation_overlap flags the items offered more than once.
func TestAllocationSharesAndOverlapAudit(t *testing.T) {
	pool := testdb.New(t)
	warehouseSet(t, pool, "S1", "TW1", "01")
	warehouseSet(t, pool, "S2", "TW2", "01")
	item(t, pool, "A", "")
	item(t, pool, "B", "")
	stock(t, pool, "A", "01", 10, 0)
	stock(t, pool, "B", "01", 9, 0)
	exec(t, pool, `INSERT INTO integration.bundle (seller_sku, mode) VALUES ('A-PAIR', 'components')`)
	exec(t, pool, `INSERT INTO integration.bundle_component (seller_sku, item_code, quantity) VALUES ('A-PAIR', 'A', 2)`)
	exec(t, pool, `INSERT INTO integration.listing_allocation (shop_id, seller_sku, share) VALUES
	               ('S1', 'A', 0.7), ('S2', 'A', 0.3), ('S1', 'A-PAIR', 0.5), ('S2', 'A-PAIR', 0)`)

	// A: 7 and 3. A-PAIR: half of A's 10 is 5 units, 2 per pair → 2; 0 in S2.
	// B: no rows, the whole 9 in both shops.
	got := recompute(t, pool)
	expect(t, got, map[string]int64{
		"S1/TW1/A": 7, "S2/TW2/A": 3, "S1/TW1/A-PAIR": 2, "S2/TW2/A-PAIR": 0,
		"S1/TW1/B": 9, "S2/TW2/B": 9,
	})

	// 7 units: 70% is 4.9 and 30% 2.1, rounded down: 4 + 2 ≤ 7.
	stock(t, pool, "A", "01", 7, 0)
	expect(t, recompute(t, pool), map[string]int64{"S1/TW1/A": 4, "S2/TW2/A": 2, "S1/TW1/A-PAIR": 1})

	// The audit looks at listings TikTok has. A is split (0.7 + 0.3 = 1) but
	// A-PAIR (0.5) sells it too: 1.5 of A's units offered. B is offered
	// whole by both shops: 2.
	exec(t, pool, `INSERT INTO integration.tiktok_sku (shop_id, seller_sku, product_id, sku_id) VALUES
	               ('S1', 'A', 'p1', 's1'), ('S2', 'A', 'p2', 's2'), ('S1', 'B', 'p3', 's3'), ('S2', 'B', 'p4', 's4')`)
	audit := func() map[string]string {
		rows, err := pool.Query(context.Background(), `SELECT item_code, whs_codes, total_share::text, sold_by FROM report.allocation_overlap`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var item, whs, total, soldBy string
			if err := rows.Scan(&item, &whs, &total, &soldBy); err != nil {
				t.Fatal(err)
			}
			out[item+"@"+whs] = total + " " + soldBy
		}
		return out
	}
	if got, want := audit(), map[string]string{"B@01": "2 S1/TW1/B×1, S2/TW2/B×1"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("overlaps before A-PAIR is listed: %v, want %v", got, want)
	}
	exec(t, pool, `INSERT INTO integration.tiktok_sku (shop_id, seller_sku, product_id, sku_id) VALUES ('S1', 'A-PAIR', 'p5', 's5')`)
	if got := audit()["A@01"]; got != "1.5 S1/TW1/A×0.7, S1/TW1/A-PAIR×0.5, S2/TW2/A×0.3" {
		t.Fatalf("A's overlap: %q", got)
	}
	// Splitting B fixes its row.
	exec(t, pool, `INSERT INTO integration.listing_allocation (shop_id, seller_sku, share) VALUES ('S1', 'B', 0.5), ('S2', 'B', 0.5)`)
	if _, ok := audit()["B@01"]; ok {
		t.Fatal("B still flagged after a 50/50 split")
	}
	expect(t, recompute(t, pool), map[string]int64{"S1/TW1/B": 4, "S2/TW2/B": 4})

	// report.inventory_health shows the share, and no pending derived from a
	// share of the stock (7 − 4 would read as 3 units pending).
	var share, pending string
	if err := pool.QueryRow(context.Background(), `SELECT allocation_share::text, coalesce(pending::text, 'null') FROM report.inventory_health
	                                               WHERE shop_id = 'S1' AND seller_sku = 'A'`).Scan(&share, &pending); err != nil {
		t.Fatal(err)
	}
	if share != "0.7000" || pending != "null" {
		t.Fatalf("inventory_health for S1/A: share %s, pending %s", share, pending)
	}
}

// Recomputes run one after the other: one that starts while another holds
// the recompute lock waits, then reads the stock as it is when it runs, so
// a computation from older stock never lands after a newer one.
func TestRecomputesRunOneAfterTheOther(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	warehouseSet(t, pool, "S1", "TW1", "01")
	item(t, pool, "A", "")
	stock(t, pool, "A", "01", 5, 0)
	expect(t, recompute(t, pool), map[string]int64{"S1/TW1/A": 5})

	// Another recompute holds the lock (as inventory.Recompute takes it).
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // committed below
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('tiktokb1.inventory_recompute', 0))`); err != nil {
		t.Fatal(err)
	}
	done := make(chan []inventory.ShopChanges, 1)
	go func() {
		shops, err := inventory.Recompute(ctx, pool)
		if err != nil {
			t.Error(err)
		}
		done <- shops
	}()
	select {
	case got := <-done:
		t.Fatalf("a recompute ran while another held the lock: %v", got)
	case <-time.After(300 * time.Millisecond):
	}
	// The holder moves the stock and commits: the waiting recompute sees it.
	if _, err := tx.Exec(ctx, `UPDATE sapb1.stock SET on_hand = 9 WHERE item_code = 'A'`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	<-done
	if got, _ := ledger(t, pool); got["S1/TW1/A"] != 9 {
		t.Fatalf("the waiting recompute wrote %v, want A = 9", got)
	}
}

// The ledger follows the configuration: a listing that is no longer
// computed (its SKU map row and its SAP item gone) goes to 0, since nothing
// in SAP backs it; the listings of a TikTok warehouse whose warehouse set is
// removed leave the ledger, and nothing of them is pushed again.
func TestListingsThatGoAway(t *testing.T) {
	pool := testdb.New(t)
	warehouseSet(t, pool, "S1", "TW1", "01")
	warehouseSet(t, pool, "S1", "TW2", "01")
	item(t, pool, "A", "")
	stock(t, pool, "A", "01", 10, 0)
	exec(t, pool, `INSERT INTO integration.sku_map (shop_id, seller_sku, item_code) VALUES ('S1', 'A-RED', 'A')`)
	expect(t, recompute(t, pool), map[string]int64{"S1/TW1/A": 10, "S1/TW1/A-RED": 10, "S1/TW2/A": 10, "S1/TW2/A-RED": 10})

	exec(t, pool, `DELETE FROM integration.sku_map WHERE seller_sku = 'A-RED'`)
	got := recompute(t, pool)
	if fmt.Sprint(got) != fmt.Sprint(map[string]int64{"S1/TW1/A-RED": 0, "S1/TW2/A-RED": 0}) {
		t.Fatalf("after the map row went: %v, want A-RED at 0 in both warehouses", got)
	}
	if got := recompute(t, pool); len(got) != 0 {
		t.Fatalf("again: %v", got)
	}

	exec(t, pool, `DELETE FROM integration.warehouse_set WHERE tiktok_warehouse_id = 'TW2'`)
	recompute(t, pool)
	if left, _ := ledger(t, pool); fmt.Sprint(left) != fmt.Sprint(map[string]int64{"S1/TW1/A": 10, "S1/TW1/A-RED": 0}) {
		t.Fatalf("after TW2's set went, the ledger is %v", left)
	}
}
