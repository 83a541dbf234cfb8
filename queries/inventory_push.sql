-- Inventory push, SAP → TikTok (DESIGN.md "Inventory" push rule): the ledger
-- rows due, the TikTok id cache, results, and the mass-change hold.

-- name: ListInventoryPushDue :many
-- The shop's ledger rows whose computed value was not sent: changed since the
-- last push (computed_quantity <> basis_quantity) or sent capped below it.
-- A refused value is not tried again until it changes; a seller SKU known
-- to have no listing is looked up again only an hour later.
SELECT p.tiktok_warehouse_id, p.seller_sku, p.computed_quantity, p.sent_quantity, p.basis_quantity,
       p.result, t.product_id, t.sku_id, (t.seller_sku IS NOT NULL)::boolean AS looked_up
FROM integration.inventory_push p
LEFT JOIN integration.tiktok_sku t ON t.shop_id = p.shop_id AND t.seller_sku = p.seller_sku
WHERE p.shop_id = @shop_id
  AND p.sent_quantity IS DISTINCT FROM p.computed_quantity
  AND NOT (p.result IS NOT DISTINCT FROM 'failed' AND p.basis_quantity IS NOT DISTINCT FROM p.computed_quantity)
  AND (t.seller_sku IS NULL OR t.sku_id IS NOT NULL OR t.checked_at < now() - interval '1 hour')
ORDER BY p.seller_sku, p.tiktok_warehouse_id;

-- name: CountShopListings :one
-- The shop's ledger rows that have a TikTok listing: the base of the
-- mass-change share.
SELECT count(*)::bigint
FROM integration.inventory_push p
JOIN integration.tiktok_sku t ON t.shop_id = p.shop_id AND t.seller_sku = p.seller_sku
WHERE p.shop_id = @shop_id AND t.sku_id IS NOT NULL;

-- name: UpsertTikTokSKUs :exec
-- Caches product search answers; an empty id means no listing.
INSERT INTO integration.tiktok_sku AS t (shop_id, seller_sku, product_id, sku_id, checked_at)
SELECT @shop_id, r.seller_sku, nullif(r.product_id, ''), nullif(r.sku_id, ''), now()
FROM (SELECT unnest(@seller_skus::text[]) AS seller_sku,
             unnest(@product_ids::text[]) AS product_id,
             unnest(@sku_ids::text[]) AS sku_id) AS r
ON CONFLICT (shop_id, seller_sku) DO UPDATE
    SET product_id = excluded.product_id, sku_id = excluded.sku_id, checked_at = excluded.checked_at;

-- name: ForgetTikTokSKU :exec
-- A cached id TikTok no longer knows: looked up again next time.
DELETE FROM integration.tiktok_sku WHERE shop_id = @shop_id AND seller_sku = @seller_sku;

-- name: LandedCommittedUnits :many
-- Per listing of the given seller SKUs: its available-to-sell as the ledger
-- has it now, and the units of the shop's landed orders of the SKU that
-- TikTok still holds as committed (sold, not dispatched, not cancelled) and
-- that the last recompute counted (its snapshot saw the order as it is now:
-- migration 00021). One statement, so the value and the orders it counts
-- agree. TikTok's committed quantity beyond these units is sales
-- available-to-sell does not include yet. Never recomputed: no units.
WITH landed AS (
    SELECT l.seller_sku, count(*)::bigint AS units
    FROM tiktok."order" o
    JOIN tiktok.order_line l ON l.shop_id = o.shop_id AND l.order_id = o.order_id
    WHERE o.shop_id = @shop_id
      AND l.seller_sku = ANY (@seller_skus::text[])
      AND o.status IN ('UNPAID', 'ON_HOLD', 'AWAITING_SHIPMENT', 'PARTIALLY_SHIPPING')
      AND o.fulfillment_type IS DISTINCT FROM 'FULFILLMENT_BY_TIKTOK'
      AND coalesce(l.display_status, '') NOT IN ('CANCELLED', 'AWAITING_COLLECTION', 'IN_TRANSIT', 'DELIVERED', 'COMPLETED')
      AND (o.derived_xid IS NULL OR pg_visible_in_snapshot(o.derived_xid, (SELECT r.snapshot FROM integration.inventory_recompute r)))
    GROUP BY l.seller_sku
)
SELECT p.tiktok_warehouse_id, p.seller_sku, p.computed_quantity, coalesce(d.units, 0)::bigint AS units
FROM integration.inventory_push p
LEFT JOIN landed d ON d.seller_sku = p.seller_sku
WHERE p.shop_id = @shop_id AND p.seller_sku = ANY (@seller_skus::text[]);

-- name: RecordInventoryPushSent :exec
-- TikTok accepted these quantities, each based on the computed value given.
UPDATE integration.inventory_push p
SET sent_quantity = r.sent, sent_at = now(), attempted_at = now(), basis_quantity = r.basis, result = 'ok', error = NULL
FROM (SELECT unnest(@tiktok_warehouse_ids::text[]) AS wh, unnest(@seller_skus::text[]) AS sku,
             unnest(@sent::bigint[]) AS sent, unnest(@basis::bigint[]) AS basis) AS r
WHERE p.shop_id = @shop_id AND p.tiktok_warehouse_id = r.wh AND p.seller_sku = r.sku;

-- name: RecordInventoryPushFailed :exec
-- TikTok refused the value (campaign lock, SKU not live, no listing): not
-- tried again until the computed value changes.
UPDATE integration.inventory_push
SET result = 'failed', error = @error::text, basis_quantity = @basis::bigint, attempted_at = now()
WHERE shop_id = @shop_id AND tiktok_warehouse_id = @tiktok_warehouse_id AND seller_sku = @seller_sku;

-- name: MarkInventoryPushHeld :exec
UPDATE integration.inventory_push p
SET result = 'held'
FROM (SELECT unnest(@tiktok_warehouse_ids::text[]) AS wh, unnest(@seller_skus::text[]) AS sku) AS r
WHERE p.shop_id = @shop_id AND p.tiktok_warehouse_id = r.wh AND p.seller_sku = r.sku;

-- name: GetInventoryPushHold :one
SELECT * FROM integration.inventory_push_hold WHERE shop_id = @shop_id;

-- name: HoldInventoryPush :one
-- Holds the shop's push (or updates the counts of the hold that waits).
INSERT INTO integration.inventory_push_hold AS h (shop_id, skus, listings)
VALUES (@shop_id, @skus, @listings)
ON CONFLICT (shop_id) DO UPDATE SET skus = excluded.skus, listings = excluded.listings
RETURNING *;

-- name: ReleaseInventoryPushHold :exec
-- The confirmed push went out, or the push is no longer a mass change.
DELETE FROM integration.inventory_push_hold WHERE shop_id = @shop_id;

-- name: ConfirmInventoryPush :many
-- `tiktokb1 inventory confirm`: the held pushes of one shop (or of every
-- shop when shop_id is null) may go out.
UPDATE integration.inventory_push_hold
SET confirmed_at = now(), confirmed_by = @confirmed_by::text
WHERE confirmed_at IS NULL AND (sqlc.narg(shop_id)::text IS NULL OR shop_id = sqlc.narg(shop_id))
RETURNING *;

-- name: ResolveSKUExceptions :exec
-- SKUs TikTok accepted again: their refusals are resolved.
UPDATE ops.exception
SET status = 'resolved', resolved_at = now(), resolved_by = 'tiktokb1', resolution = @resolution::text
WHERE status <> 'resolved' AND kind = @kind AND shop_id = @shop_id::text AND sku = ANY (@skus::text[]);

-- name: SetTikTokProductStatus :exec
-- A product's status from webhook 5; an event older than the status held
-- changes nothing.
INSERT INTO integration.tiktok_product_status AS s (shop_id, product_id, status, status_time, source)
VALUES (@shop_id, @product_id, @status, @status_time, 'webhook')
ON CONFLICT (shop_id, product_id) DO UPDATE
    SET status = excluded.status, status_time = excluded.status_time, source = excluded.source, updated_at = now()
    WHERE s.status_time <= excluded.status_time;

-- name: SetTikTokProductStatuses :exec
-- Product statuses the product search shows now.
INSERT INTO integration.tiktok_product_status AS s (shop_id, product_id, status, status_time, source)
SELECT @shop_id, r.product_id, r.status, now(), 'search'
FROM (SELECT unnest(@product_ids::text[]) AS product_id, unnest(@statuses::text[]) AS status) AS r
WHERE r.product_id <> '' AND r.status <> ''
ON CONFLICT (shop_id, product_id) DO UPDATE
    SET status = excluded.status, status_time = excluded.status_time, source = excluded.source, updated_at = now()
    WHERE s.status_time <= excluded.status_time;

-- name: ListDeactivatedTikTokProducts :many
-- The shop's products TikTok deactivated: their SKUs are not pushed.
SELECT product_id FROM integration.tiktok_product_status WHERE shop_id = @shop_id AND deactivated;

-- name: RecordTikTokSKUStock :exec
-- What TikTok's inventory search answered, per SKU and TikTok warehouse
-- ('' = the SKU's total, when TikTok gave no per-warehouse breakdown).
INSERT INTO tiktok.sku_stock AS s (shop_id, sku_id, tiktok_warehouse_id, product_id, seller_sku, available_quantity, committed_quantity, read_at)
SELECT @shop_id, r.sku_id, r.tiktok_warehouse_id, r.product_id, r.seller_sku, r.available, r.committed, now()
FROM (SELECT unnest(@sku_ids::text[]) AS sku_id,
             unnest(@tiktok_warehouse_ids::text[]) AS tiktok_warehouse_id,
             unnest(@product_ids::text[]) AS product_id,
             unnest(@seller_skus::text[]) AS seller_sku,
             unnest(@available::bigint[]) AS available,
             unnest(@committed::bigint[]) AS committed) AS r
ON CONFLICT (shop_id, sku_id, tiktok_warehouse_id) DO UPDATE
    SET product_id = excluded.product_id, seller_sku = excluded.seller_sku,
        available_quantity = excluded.available_quantity, committed_quantity = excluded.committed_quantity,
        read_at = excluded.read_at;

-- name: ListTikTokSKUsToRead :many
-- A shop's SKUs on TikTok, the ones read longest ago (or never) first, for
-- the periodic read of TikTok's stock.
SELECT t.sku_id::text AS sku_id
FROM integration.tiktok_sku t
LEFT JOIN (SELECT s.sku_id, min(s.read_at) AS read_at FROM tiktok.sku_stock s WHERE s.shop_id = @shop_id GROUP BY s.sku_id) r
       ON r.sku_id = t.sku_id
WHERE t.shop_id = @shop_id AND t.sku_id IS NOT NULL
  AND (r.read_at IS NULL OR r.read_at < @read_before::timestamptz)
ORDER BY r.read_at NULLS FIRST, t.sku_id
LIMIT @max_skus;

-- name: InventoryPushStatus :many
-- Per shop, its listings on TikTok by push state, how long the oldest
-- value not yet on TikTok has waited, and how many listings TikTok last
-- showed above available-to-sell (the metrics of /metrics).
SELECT p.shop_id,
       count(*) FILTER (WHERE p.sent_quantity = p.computed_quantity)                        AS in_sync,
       count(*) FILTER (WHERE p.sent_quantity IS DISTINCT FROM p.computed_quantity
                          AND coalesce(p.result, '') NOT IN ('failed', 'held'))              AS due,
       count(*) FILTER (WHERE p.result = 'failed' AND p.sent_quantity IS DISTINCT FROM p.computed_quantity) AS refused,
       count(*) FILTER (WHERE p.result = 'held')                                             AS held,
       coalesce(extract(epoch FROM now() - min(p.computed_at) FILTER (
           WHERE p.sent_quantity IS DISTINCT FROM p.computed_quantity AND coalesce(p.result, '') <> 'failed')), 0)::float8 AS oldest_due_seconds,
       count(*) FILTER (WHERE s.available_quantity > p.computed_quantity)                    AS tiktok_above_ats
FROM integration.inventory_push p
JOIN integration.tiktok_sku t ON t.shop_id = p.shop_id AND t.seller_sku = p.seller_sku AND t.sku_id IS NOT NULL
LEFT JOIN tiktok.sku_stock s ON s.shop_id = p.shop_id AND s.sku_id = t.sku_id AND s.tiktok_warehouse_id = p.tiktok_warehouse_id
GROUP BY p.shop_id
ORDER BY p.shop_id;
