package inventory_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/inventory"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

// benchmarkData is issue 7's benchmark data set, generated set-based: 100k
// SAP items in stock in 8 warehouses (800k OITW rows, some warehouses with
// more committed than on hand), one TikTok warehouse counting all 8, 10k
// buffers, 1k allocation shares, 10k component bundles of 3 items, and 25k
// orders: 5k open (2 units each, pending) and 20k posted before the last
// stock read.
var benchmarkData = []string{
	`INSERT INTO sapb1.item (item_code, inventory_item, sales_item, valid, frozen)
	 SELECT format('I%s', lpad(i::text, 6, '0')), true, true, i % 1000 <> 0, false FROM generate_series(1, 100000) i`,
	`INSERT INTO sapb1.stock (item_code, whs_code, on_hand, is_committed, read_from)
	 SELECT format('I%s', lpad(i::text, 6, '0')), format('W%s', w), (i * 7 + w * 13) % 60, (i + w * 3) % 12, now() - interval '1 hour'
	 FROM generate_series(1, 100000) i, generate_series(1, 8) w`,
	`INSERT INTO integration.warehouse_set (shop_id, tiktok_warehouse_id, whs_code)
	 SELECT 'S1', 'TW1', format('W%s', w) FROM generate_series(1, 8) w`,
	`INSERT INTO integration.stock_buffer (item_code, buffer)
	 SELECT format('I%s', lpad(i::text, 6, '0')), 2 FROM generate_series(1, 100000, 10) i`,
	`INSERT INTO integration.listing_allocation (shop_id, seller_sku, share)
	 SELECT 'S1', format('I%s', lpad(i::text, 6, '0')), 0.5 FROM generate_series(5, 100000, 100) i`,
	`INSERT INTO integration.bundle (seller_sku, mode) SELECT format('B%s', lpad(j::text, 5, '0')), 'components' FROM generate_series(1, 10000) j`,
	`INSERT INTO integration.bundle_component (seller_sku, item_code, quantity)
	 SELECT format('B%s', lpad(j::text, 5, '0')), format('I%s', lpad(((j * 3 + k * 7919) % 100000 + 1)::text, 6, '0')), 1 + (j + k) % 3
	 FROM generate_series(1, 10000) j, generate_series(0, 2) k`,
	`INSERT INTO integration.tiktok_authorization (open_id, access_token_enc, access_expires_at, refresh_token_enc, refresh_expires_at)
	 VALUES ('open', '\x00', now(), '\x00', now())`,
	`INSERT INTO tiktok.shop (id, open_id, cipher) VALUES ('S1', 'open', 'c')`,
	`INSERT INTO tiktok.order_payload (shop_id, order_id, source, body)
	 SELECT 'S1', format('O%s', o), 'poll', jsonb_build_object('id', o) FROM generate_series(1, 25000) o`,
	`INSERT INTO tiktok."order" (shop_id, order_id, status, status_rank, create_time, update_time, create_time_unix, update_time_unix,
	     fulfillment_type, is_on_hold_order, is_buyer_request_cancel, is_cod, is_sample_order, is_replacement_order,
	     has_updated_recipient_address, currency, sub_total, total_amount, line_count, payload_id)
	 SELECT shop_id, order_id, 'AWAITING_SHIPMENT', 3, now(), now(), 0, 0, 'FULFILLMENT_BY_SELLER',
	     false, false, false, false, false, false, 'USD', 1, 1, 2, id
	 FROM tiktok.order_payload`,
	`INSERT INTO tiktok.order_line (shop_id, order_id, line_id, position, seller_sku, original_price, sale_price, is_gift)
	 SELECT 'S1', format('O%s', o), format('O%s-%s', o, n), n,
	        CASE WHEN o % 10 = 0 THEN format('B%s', lpad((o % 10000 + 1)::text, 5, '0'))
	             ELSE format('I%s', lpad((o * 13 % 100000 + 1)::text, 6, '0')) END, 1, 1, false
	 FROM generate_series(1, 25000) o, generate_series(1, 2) n`,
	`INSERT INTO integration.order_posting (shop_id, order_id, state, doc_entry, posted_at)
	 SELECT 'S1', format('O%s', o), CASE WHEN o <= 5000 THEN 'waiting' ELSE 'posted' END,
	        CASE WHEN o > 5000 THEN o END, CASE WHEN o > 5000 THEN now() - interval '2 hours' END
	 FROM generate_series(1, 25000) o`,
	`ANALYZE`,
}

func setupBenchmark(b *testing.B) *pgxpool.Pool {
	b.Helper()
	pool := testdb.New(b)
	for _, q := range benchmarkData {
		exec(b, pool, q)
	}
	return pool
}

// BenchmarkAvailableToSell is issue 7's full recompute: 100k SKUs × 8
// warehouses + 10k bundles, diff and ledger writes included (target ≤ 2 s),
// side by side with a baseline of the same run. See docs/benchmarks.md.
func BenchmarkAvailableToSell(b *testing.B) {
	ctx := context.Background()
	pool := setupBenchmark(b)

	// Baseline: the cheapest useful read of the same stock, the per-item
	// sums over the warehouses, every row fetched by the client.
	b.Run("baseline_sum_group_by", func(b *testing.B) {
		for b.Loop() {
			rows, err := pool.Query(ctx, `SELECT item_code, sum(on_hand) - sum(is_committed) FROM sapb1.stock GROUP BY item_code`)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if rows.Close(); rows.Err() != nil || n != 100000 {
				b.Fatalf("%d rows, %v", n, rows.Err())
			}
		}
	})

	// Every listing new: 110k ledger rows written (counted per shop).
	b.Run("recompute_all_changed", func(b *testing.B) {
		var changed int
		for b.Loop() {
			b.StopTimer()
			exec(b, pool, `TRUNCATE integration.inventory_push`)
			b.StartTimer()
			shops, err := inventory.Recompute(ctx, pool)
			if err != nil {
				b.Fatal(err)
			}
			changed = int(inventory.Listings(shops))
		}
		if changed != 110000 {
			b.Fatalf("%d listings changed, want 110000", changed)
		}
		b.ReportMetric(float64(changed), "changed/op")
	})

	// A stock read moved 1,000 items: the steady state.
	b.Run("recompute_1k_items_moved", func(b *testing.B) {
		var changed, round int
		for b.Loop() {
			b.StopTimer()
			round++
			exec(b, pool, `UPDATE sapb1.stock SET on_hand = on_hand + 5 * (1 - 2 * ($1::int % 2))
			               WHERE whs_code = 'W1' AND item_code IN (SELECT format('I%s', lpad(i::text, 6, '0')) FROM generate_series(1, 100000, 100) i)`, round)
			b.StartTimer()
			shops, err := inventory.Recompute(ctx, pool)
			if err != nil {
				b.Fatal(err)
			}
			changed = int(inventory.Listings(shops))
		}
		b.ReportMetric(float64(changed), "changed/op")
	})

	// Nothing moved: the diff finds nothing, nothing is written.
	b.Run("recompute_unchanged", func(b *testing.B) {
		for b.Loop() {
			shops, err := inventory.Recompute(ctx, pool)
			if err != nil || len(shops) != 0 {
				b.Fatalf("%v changed, %v", shops, err)
			}
		}
	})
}
