// Package inventorytest fills a test database with issue 7's benchmark data
// set, generated set-based, for the benchmarks that need available-to-sell at
// full size (internal/inventory's recompute, internal/sapmaster's freshness).
package inventorytest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Listings is how many listings Load's data set has per TikTok warehouse:
// 100k identity SKUs and 10k bundles.
const Listings = 110000

// Load adds, for the shop's TikTok warehouse: 100k SAP items
// (I000001…I100000; every 1000th inactive) in stock in 8 SAP warehouses
// W1…W8 (800k OITW rows, some with more committed than on hand) that the
// TikTok warehouse counts, 10k buffers, 1k allocation shares of 0.5, 10k
// component bundles of 3 items, and 25k orders: 5k open (2 units each,
// pending) and 20k posted before the last stock read. Then ANALYZE.
func Load(tb testing.TB, pool *pgxpool.Pool, shopID, tiktokWarehouseID string) {
	tb.Helper()
	for _, s := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO sapb1.item (item_code, inventory_item, sales_item, valid, frozen)
		  SELECT format('I%s', lpad(i::text, 6, '0')), true, true, i % 1000 <> 0, false FROM generate_series(1, 100000) i`, nil},
		{`INSERT INTO sapb1.stock (item_code, whs_code, on_hand, is_committed, read_from)
		  SELECT format('I%s', lpad(i::text, 6, '0')), format('W%s', w), (i * 7 + w * 13) % 60, (i + w * 3) % 12, now() - interval '1 hour'
		  FROM generate_series(1, 100000) i, generate_series(1, 8) w`, nil},
		{`INSERT INTO integration.warehouse_set (shop_id, tiktok_warehouse_id, whs_code)
		  SELECT $1, $2, format('W%s', w) FROM generate_series(1, 8) w`, []any{shopID, tiktokWarehouseID}},
		{`INSERT INTO integration.stock_buffer (item_code, buffer)
		  SELECT format('I%s', lpad(i::text, 6, '0')), 2 FROM generate_series(1, 100000, 10) i`, nil},
		{`INSERT INTO integration.listing_allocation (shop_id, seller_sku, share)
		  SELECT $1, format('I%s', lpad(i::text, 6, '0')), 0.5 FROM generate_series(5, 100000, 100) i`, []any{shopID}},
		{`INSERT INTO integration.bundle (seller_sku, mode) SELECT format('B%s', lpad(j::text, 5, '0')), 'components' FROM generate_series(1, 10000) j`, nil},
		{`INSERT INTO integration.bundle_component (seller_sku, item_code, quantity)
		  SELECT format('B%s', lpad(j::text, 5, '0')), format('I%s', lpad(((j * 3 + k * 7919) % 100000 + 1)::text, 6, '0')), 1 + (j + k) % 3
		  FROM generate_series(1, 10000) j, generate_series(0, 2) k`, nil},
		{`INSERT INTO integration.tiktok_authorization (open_id, access_token_enc, access_expires_at, refresh_token_enc, refresh_expires_at)
		  VALUES ('inventorytest', '\x00', now(), '\x00', now()) ON CONFLICT DO NOTHING`, nil},
		{`INSERT INTO tiktok.shop (id, open_id, cipher) VALUES ($1, 'inventorytest', 'c') ON CONFLICT DO NOTHING`, []any{shopID}},
		{`INSERT INTO tiktok.order_payload (shop_id, order_id, source, body)
		  SELECT $1, format('O%s', o), 'poll', jsonb_build_object('id', o) FROM generate_series(1, 25000) o`, []any{shopID}},
		{`INSERT INTO tiktok."order" (shop_id, order_id, status, status_rank, create_time, update_time, create_time_unix, update_time_unix,
		      fulfillment_type, is_on_hold_order, is_buyer_request_cancel, is_cod, is_sample_order, is_replacement_order,
		      has_updated_recipient_address, currency, sub_total, total_amount, line_count, payload_id)
		  SELECT shop_id, order_id, 'AWAITING_SHIPMENT', 3, now(), now(), 0, 0, 'FULFILLMENT_BY_SELLER',
		      false, false, false, false, false, false, 'USD', 1, 1, 2, id
		  FROM tiktok.order_payload WHERE shop_id = $1`, []any{shopID}},
		{`INSERT INTO tiktok.order_line (shop_id, order_id, line_id, position, seller_sku, original_price, sale_price, is_gift)
		  SELECT $1, format('O%s', o), format('O%s-%s', o, n), n,
		         CASE WHEN o % 10 = 0 THEN format('B%s', lpad((o % 10000 + 1)::text, 5, '0'))
		              ELSE format('I%s', lpad((o * 13 % 100000 + 1)::text, 6, '0')) END, 1, 1, false
		  FROM generate_series(1, 25000) o, generate_series(1, 2) n`, []any{shopID}},
		{`INSERT INTO integration.order_posting (shop_id, order_id, state, doc_entry, posted_at)
		  SELECT $1, format('O%s', o), CASE WHEN o <= 5000 THEN 'waiting' ELSE 'posted' END,
		         CASE WHEN o > 5000 THEN o END, CASE WHEN o > 5000 THEN now() - interval '2 hours' END
		  FROM generate_series(1, 25000) o`, []any{shopID}},
		{`ANALYZE`, nil},
	} {
		if _, err := pool.Exec(context.Background(), s.sql, s.args...); err != nil {
			tb.Fatalf("%v\n%s", err, s.sql)
		}
	}
}
