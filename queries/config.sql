-- Configuration of the orders flow (integration schema), imported and
-- exported as CSV by `tiktokb1 mapping`. Imports are set-based: one
-- statement per file, the columns passed as arrays.

-- name: UpsertShopConfigs :execrows
INSERT INTO integration.shop_config (
    shop_id, card_code, currency, series, default_warehouse, shipping_mode, shipping_item_code,
    freight_expense_code, prices_include_tax, tiktok_remits_tax, exempt_tax_code, fbt_mode, fbt_warehouse,
    already_shipped, cutover_at, extra_hold, orders_paused, inventory_paused, cancellations_paused, price_list, updated_by
)
SELECT r.shop_id, r.card_code, r.currency, nullif(r.series, 0), r.default_warehouse, r.shipping_mode,
       nullif(r.shipping_item_code, ''), nullif(r.freight_expense_code, 0), r.prices_include_tax,
       r.tiktok_remits_tax, nullif(r.exempt_tax_code, ''), r.fbt_mode, nullif(r.fbt_warehouse, ''),
       r.already_shipped, r.cutover_at, make_interval(secs => r.extra_hold_seconds), r.orders_paused,
       r.inventory_paused, r.cancellations_paused,
       -- -1: the file has no price_list column, the shop's stays as it is.
       CASE WHEN r.price_list = -1 THEN (SELECT x.price_list FROM integration.shop_config x WHERE x.shop_id = r.shop_id)
            ELSE nullif(r.price_list, 0) END,
       @updated_by::text
FROM (SELECT unnest(@shop_ids::text[]) AS shop_id,
           unnest(@card_codes::text[]) AS card_code,
           unnest(@currencies::text[]) AS currency,
           unnest(@series::int[]) AS series,
           unnest(@default_warehouses::text[]) AS default_warehouse,
           unnest(@shipping_modes::text[]) AS shipping_mode,
           unnest(@shipping_item_codes::text[]) AS shipping_item_code,
           unnest(@freight_expense_codes::int[]) AS freight_expense_code,
           unnest(@prices_include_tax::boolean[]) AS prices_include_tax,
           unnest(@tiktok_remits_tax::boolean[]) AS tiktok_remits_tax,
           unnest(@exempt_tax_codes::text[]) AS exempt_tax_code,
           unnest(@fbt_modes::text[]) AS fbt_mode,
           unnest(@fbt_warehouses::text[]) AS fbt_warehouse,
           unnest(@already_shipped::text[]) AS already_shipped,
           unnest(@cutover_ats::timestamptz[]) AS cutover_at,
           unnest(@extra_hold_seconds::float8[]) AS extra_hold_seconds,
           unnest(@orders_paused::boolean[]) AS orders_paused,
           unnest(@inventory_paused::boolean[]) AS inventory_paused,
           unnest(@cancellations_paused::boolean[]) AS cancellations_paused,
           unnest(@price_lists::int[]) AS price_list) AS r
ON CONFLICT (shop_id) DO UPDATE SET
    card_code = excluded.card_code, currency = excluded.currency, series = excluded.series,
    default_warehouse = excluded.default_warehouse, shipping_mode = excluded.shipping_mode,
    shipping_item_code = excluded.shipping_item_code, freight_expense_code = excluded.freight_expense_code,
    prices_include_tax = excluded.prices_include_tax, tiktok_remits_tax = excluded.tiktok_remits_tax,
    exempt_tax_code = excluded.exempt_tax_code, fbt_mode = excluded.fbt_mode, fbt_warehouse = excluded.fbt_warehouse,
    already_shipped = excluded.already_shipped, cutover_at = excluded.cutover_at, extra_hold = excluded.extra_hold,
    orders_paused = excluded.orders_paused, inventory_paused = excluded.inventory_paused,
    cancellations_paused = excluded.cancellations_paused, price_list = excluded.price_list,
    updated_at = now(), updated_by = excluded.updated_by
WHERE (integration.shop_config.card_code, integration.shop_config.currency, integration.shop_config.series,
       integration.shop_config.default_warehouse, integration.shop_config.shipping_mode,
       integration.shop_config.shipping_item_code, integration.shop_config.freight_expense_code,
       integration.shop_config.prices_include_tax, integration.shop_config.tiktok_remits_tax,
       integration.shop_config.exempt_tax_code, integration.shop_config.fbt_mode, integration.shop_config.fbt_warehouse,
       integration.shop_config.already_shipped, integration.shop_config.cutover_at, integration.shop_config.extra_hold,
       integration.shop_config.orders_paused, integration.shop_config.inventory_paused,
       integration.shop_config.cancellations_paused, integration.shop_config.price_list)
  IS DISTINCT FROM
      (excluded.card_code, excluded.currency, excluded.series, excluded.default_warehouse, excluded.shipping_mode,
       excluded.shipping_item_code, excluded.freight_expense_code, excluded.prices_include_tax,
       excluded.tiktok_remits_tax, excluded.exempt_tax_code, excluded.fbt_mode, excluded.fbt_warehouse,
       excluded.already_shipped, excluded.cutover_at, excluded.extra_hold, excluded.orders_paused,
       excluded.inventory_paused, excluded.cancellations_paused, excluded.price_list);

-- name: ListShopConfigs :many
SELECT shop_id, card_code, currency, coalesce(series, 0)::int AS series, default_warehouse, shipping_mode,
       coalesce(shipping_item_code, '') AS shipping_item_code, coalesce(freight_expense_code, 0)::int AS freight_expense_code,
       prices_include_tax, tiktok_remits_tax, coalesce(exempt_tax_code, '') AS exempt_tax_code, fbt_mode,
       coalesce(fbt_warehouse, '') AS fbt_warehouse, already_shipped, cutover_at,
       extract(epoch FROM extra_hold)::float8 AS extra_hold_seconds, orders_paused, inventory_paused, cancellations_paused,
       coalesce(price_list, 0)::int AS price_list
FROM integration.shop_config
ORDER BY shop_id;

-- name: UpsertTaxCodes :execrows
INSERT INTO integration.tax_code (shop_id, region, tax_code, updated_by)
SELECT r.shop_id, r.region, r.tax_code, @updated_by::text
FROM (SELECT unnest(@shop_ids::text[]) AS shop_id,
           unnest(@regions::text[]) AS region,
           unnest(@tax_codes::text[]) AS tax_code) AS r
ON CONFLICT (shop_id, region) DO UPDATE SET tax_code = excluded.tax_code, updated_at = now(), updated_by = excluded.updated_by
WHERE integration.tax_code.tax_code IS DISTINCT FROM excluded.tax_code;

-- name: ListTaxCodes :many
SELECT shop_id, region, tax_code FROM integration.tax_code ORDER BY shop_id, region;

-- name: UpsertSKUMaps :execrows
INSERT INTO integration.sku_map (shop_id, seller_sku, item_code, updated_by)
SELECT r.shop_id, r.seller_sku, r.item_code, @updated_by::text
FROM (SELECT unnest(@shop_ids::text[]) AS shop_id,
           unnest(@seller_skus::text[]) AS seller_sku,
           unnest(@item_codes::text[]) AS item_code) AS r
ON CONFLICT (shop_id, seller_sku) DO UPDATE SET item_code = excluded.item_code, updated_at = now(), updated_by = excluded.updated_by
WHERE integration.sku_map.item_code IS DISTINCT FROM excluded.item_code;

-- name: DeleteSKUMapsNotIn :execrows
-- With --replace: the file is the whole map.
DELETE FROM integration.sku_map m
WHERE NOT EXISTS (
    SELECT FROM (SELECT unnest(@shop_ids::text[]) AS shop_id,
           unnest(@seller_skus::text[]) AS seller_sku) AS r
    WHERE r.shop_id = m.shop_id AND r.seller_sku = m.seller_sku
);

-- name: ListSKUMaps :many
SELECT shop_id, seller_sku, item_code FROM integration.sku_map ORDER BY shop_id, seller_sku;

-- name: UpsertBundles :execrows
INSERT INTO integration.bundle (seller_sku, mode, kit_item_code, updated_by)
SELECT r.seller_sku, r.mode, nullif(r.kit_item_code, ''), @updated_by::text
FROM (SELECT unnest(@seller_skus::text[]) AS seller_sku,
           unnest(@modes::text[]) AS mode,
           unnest(@kit_item_codes::text[]) AS kit_item_code) AS r
ON CONFLICT (seller_sku) DO UPDATE SET mode = excluded.mode, kit_item_code = excluded.kit_item_code,
    updated_at = now(), updated_by = excluded.updated_by;

-- name: DeleteBundleComponents :exec
-- The components of the bundles being imported are replaced, not merged.
DELETE FROM integration.bundle_component WHERE seller_sku = ANY (@seller_skus::text[]);

-- name: InsertBundleComponents :execrows
INSERT INTO integration.bundle_component (seller_sku, item_code, quantity, price_weight)
SELECT r.seller_sku, r.item_code, r.quantity, r.price_weight
FROM (SELECT unnest(@seller_skus::text[]) AS seller_sku,
           unnest(@item_codes::text[]) AS item_code,
           unnest(@quantities::numeric[]) AS quantity,
           unnest(@price_weights::numeric[]) AS price_weight) AS r;

-- name: ListBundles :many
SELECT b.seller_sku, b.mode, coalesce(b.kit_item_code, '') AS kit_item_code,
       coalesce(c.item_code, '') AS component_item_code, c.quantity, c.price_weight
FROM integration.bundle b
LEFT JOIN integration.bundle_component c ON c.seller_sku = b.seller_sku
ORDER BY b.seller_sku, c.item_code;

-- name: ShopConfigExists :one
SELECT EXISTS (SELECT FROM integration.shop_config WHERE shop_id = @shop_id) AS exists;

-- name: UpsertWarehouseSets :execrows
INSERT INTO integration.warehouse_set (shop_id, tiktok_warehouse_id, whs_code, updated_by)
SELECT r.shop_id, r.tiktok_warehouse_id, r.whs_code, @updated_by::text
FROM (SELECT unnest(@shop_ids::text[]) AS shop_id,
             unnest(@tiktok_warehouse_ids::text[]) AS tiktok_warehouse_id,
             unnest(@whs_codes::text[]) AS whs_code) AS r
ON CONFLICT (shop_id, tiktok_warehouse_id, whs_code) DO NOTHING;

-- name: DeleteWarehouseSetsNotIn :execrows
-- With --replace: the file is every warehouse set.
DELETE FROM integration.warehouse_set w
WHERE NOT EXISTS (
    SELECT FROM (SELECT unnest(@shop_ids::text[]) AS shop_id,
                        unnest(@tiktok_warehouse_ids::text[]) AS tiktok_warehouse_id,
                        unnest(@whs_codes::text[]) AS whs_code) AS r
    WHERE r.shop_id = w.shop_id AND r.tiktok_warehouse_id = w.tiktok_warehouse_id AND r.whs_code = w.whs_code
);

-- name: ListWarehouseSets :many
SELECT shop_id, tiktok_warehouse_id, whs_code FROM integration.warehouse_set ORDER BY shop_id, tiktok_warehouse_id, whs_code;

-- name: UpsertStockBuffers :execrows
INSERT INTO integration.stock_buffer (item_code, buffer, updated_by)
SELECT r.item_code, r.buffer, @updated_by::text
FROM (SELECT unnest(@item_codes::text[]) AS item_code,
             unnest(@buffers::numeric[]) AS buffer) AS r
ON CONFLICT (item_code) DO UPDATE SET buffer = excluded.buffer, updated_at = now(), updated_by = excluded.updated_by
WHERE integration.stock_buffer.buffer IS DISTINCT FROM excluded.buffer;

-- name: DeleteStockBuffersNotIn :execrows
-- With --replace: the file is every buffer.
DELETE FROM integration.stock_buffer b
WHERE b.item_code <> ALL (@item_codes::text[]);

-- name: ListStockBuffers :many
SELECT item_code, buffer FROM integration.stock_buffer ORDER BY item_code;

-- name: UpsertListingAllocations :execrows
INSERT INTO integration.listing_allocation (shop_id, seller_sku, share, updated_by)
SELECT r.shop_id, r.seller_sku, r.share, @updated_by::text
FROM (SELECT unnest(@shop_ids::text[]) AS shop_id,
             unnest(@seller_skus::text[]) AS seller_sku,
             unnest(@shares::numeric[]) AS share) AS r
ON CONFLICT (shop_id, seller_sku) DO UPDATE SET share = excluded.share, updated_at = now(), updated_by = excluded.updated_by
WHERE integration.listing_allocation.share IS DISTINCT FROM excluded.share;

-- name: DeleteListingAllocationsNotIn :execrows
-- With --replace: the file is every allocation.
DELETE FROM integration.listing_allocation a
WHERE NOT EXISTS (
    SELECT FROM (SELECT unnest(@shop_ids::text[]) AS shop_id,
                        unnest(@seller_skus::text[]) AS seller_sku) AS r
    WHERE r.shop_id = a.shop_id AND r.seller_sku = a.seller_sku
);

-- name: ListListingAllocations :many
SELECT shop_id, seller_sku, share FROM integration.listing_allocation ORDER BY shop_id, seller_sku;

-- name: DeleteOtherWarehouseSets :execrows
-- The sandbox's shop: the TikTok simulator's warehouse id changes with its
-- seed on every start, so the sets of the earlier ids go.
DELETE FROM integration.warehouse_set WHERE shop_id = @shop_id AND tiktok_warehouse_id <> @tiktok_warehouse_id;
