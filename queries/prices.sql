-- Price sync, SAP → TikTok (DESIGN.md "Master data"): SAP price lists landed
-- into sapb1.price, and the shop's listings whose price changed.

-- name: ListConfiguredPriceLists :many
SELECT DISTINCT price_list::int AS price_list FROM integration.shop_config WHERE price_list IS NOT NULL ORDER BY 1;

-- name: ListShopsWithPriceList :many
SELECT shop_id FROM integration.shop_config WHERE price_list IS NOT NULL ORDER BY shop_id;

-- name: ReplacePriceList :one
-- Swaps a complete read of one price list in: rows upserted where the price
-- or currency changed, rows the read no longer has deleted.
WITH r AS (
    SELECT unnest(@item_codes::text[]) AS item_code, unnest(@prices::numeric[]) AS price, unnest(@currencies::text[]) AS currency
), upserted AS (
    INSERT INTO sapb1.price AS p (price_list, item_code, price, currency, read_from)
    SELECT @price_list::int, r.item_code, r.price, r.currency, @read_from::timestamptz FROM r
    ON CONFLICT (price_list, item_code) DO UPDATE
        SET price = excluded.price, currency = excluded.currency, read_from = excluded.read_from, refreshed_at = now()
        WHERE (p.price, p.currency) IS DISTINCT FROM (excluded.price, excluded.currency)
    RETURNING 1
), deleted AS (
    DELETE FROM sapb1.price p
    WHERE p.price_list = @price_list::int AND NOT EXISTS (SELECT FROM r WHERE r.item_code = p.item_code)
    RETURNING 1
)
SELECT (SELECT count(*) FROM upserted)::bigint AS changed, (SELECT count(*) FROM deleted)::bigint AS deleted;

-- name: ListPricePushDue :many
-- The shop's TikTok listings (seller SKUs with a known TikTok SKU id, not of
-- a product TikTok deactivated, not bundles) whose price in the shop's SAP
-- price list, rounded to cents, differs from the last price TikTok accepted.
-- The SAP item is the shop's SKU map row, the global one, or the item of
-- the same code. A refused price is not tried again until it changes; a
-- price in another currency than the shop's is not sent.
WITH cfg AS (
    SELECT c.price_list, c.currency FROM integration.shop_config c WHERE c.shop_id = @shop_id AND c.price_list IS NOT NULL
), listing AS (
    SELECT t.seller_sku, t.product_id, t.sku_id,
           coalesce((SELECT m.item_code FROM integration.sku_map m
                     WHERE m.seller_sku = t.seller_sku AND m.shop_id IN (t.shop_id, '')
                     ORDER BY m.shop_id DESC LIMIT 1), t.seller_sku) AS item_code
    FROM integration.tiktok_sku t
    WHERE t.shop_id = @shop_id AND t.sku_id IS NOT NULL
      AND NOT EXISTS (SELECT FROM integration.bundle b WHERE b.seller_sku = t.seller_sku)
      AND NOT EXISTS (SELECT FROM integration.tiktok_product_status s
                      WHERE s.shop_id = t.shop_id AND s.product_id = t.product_id AND s.deactivated)
)
SELECT l.seller_sku, l.product_id::text AS product_id, l.sku_id::text AS sku_id,
       round(p.price, 2)::numeric AS amount, cfg.currency
FROM listing l
CROSS JOIN cfg
JOIN sapb1.price p ON p.price_list = cfg.price_list AND p.item_code = l.item_code
LEFT JOIN integration.price_push pp ON pp.shop_id = @shop_id AND pp.seller_sku = l.seller_sku
WHERE round(p.price, 2) > 0
  AND coalesce(nullif(p.currency, ''), cfg.currency) = cfg.currency
  AND (pp.sent_amount IS DISTINCT FROM round(p.price, 2) OR pp.sent_currency IS DISTINCT FROM cfg.currency)
  AND NOT (pp.result IS NOT DISTINCT FROM 'failed' AND pp.attempted_amount IS NOT DISTINCT FROM round(p.price, 2))
ORDER BY l.product_id, l.seller_sku;

-- name: RecordPricePushSent :exec
INSERT INTO integration.price_push AS pp (shop_id, seller_sku, sent_amount, sent_currency, sent_at, attempted_amount, attempted_at, result, error)
SELECT @shop_id, r.sku, r.amount, @currency::text, now(), r.amount, now(), 'ok', NULL
FROM (SELECT unnest(@seller_skus::text[]) AS sku, unnest(@amounts::numeric[]) AS amount) AS r
ON CONFLICT (shop_id, seller_sku) DO UPDATE
    SET sent_amount = excluded.sent_amount, sent_currency = excluded.sent_currency, sent_at = excluded.sent_at,
        attempted_amount = excluded.attempted_amount, attempted_at = excluded.attempted_at, result = 'ok', error = NULL;

-- name: RecordPricePushFailed :exec
INSERT INTO integration.price_push AS pp (shop_id, seller_sku, attempted_amount, attempted_at, result, error)
SELECT @shop_id, r.sku, r.amount, now(), 'failed', @error::text
FROM (SELECT unnest(@seller_skus::text[]) AS sku, unnest(@amounts::numeric[]) AS amount) AS r
ON CONFLICT (shop_id, seller_sku) DO UPDATE
    SET attempted_amount = excluded.attempted_amount, attempted_at = excluded.attempted_at, result = 'failed', error = excluded.error;
