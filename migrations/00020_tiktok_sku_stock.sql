-- TikTok's own listing stock (issue 7: report.inventory_health shows "TikTok's
-- own listing stock and the drift"): what TikTok's inventory search answered
-- for each SKU and warehouse, recorded whenever the inventory push reads it
-- and by the periodic read_tiktok_inventory job. report.inventory_health
-- gains it with its drift, and the listing's allocation share (migration
-- 00019). Code: internal/inventory (tiktok_stock.go),
-- jobs/read_tiktok_inventory.go.

-- +goose Up
CREATE TABLE tiktok.sku_stock (
    shop_id             text        NOT NULL,
    sku_id              text        NOT NULL,
    tiktok_warehouse_id text        NOT NULL,
    product_id          text        NOT NULL,
    seller_sku          text        NOT NULL,
    available_quantity  bigint      NOT NULL,
    committed_quantity  bigint      NOT NULL,
    read_at             timestamptz NOT NULL,
    PRIMARY KEY (shop_id, sku_id, tiktok_warehouse_id)
);
COMMENT ON TABLE tiktok.sku_stock IS 'TikTok''s stock of each SKU per TikTok warehouse as last read (inventory search): what buyers can buy and what sold but has not shipped. tiktok_warehouse_id '''' is the SKU''s total when TikTok answered without a per-warehouse breakdown.';
COMMENT ON COLUMN tiktok.sku_stock.available_quantity IS 'What buyers can buy (TikTok lowers it by itself on every sale).';
COMMENT ON COLUMN tiktok.sku_stock.committed_quantity IS 'Units sold and not yet shipped.';
COMMENT ON COLUMN tiktok.sku_stock.read_at IS 'When TikTok answered.';

CREATE OR REPLACE VIEW report.inventory_health AS
WITH listing AS (
    -- The SAP item a seller SKU resolves to, as available-to-sell resolves
    -- it: a bundle (no single item), the shop's SKU map row, the global one,
    -- the SAP item of the same code.
    SELECT p.shop_id, p.tiktok_warehouse_id, p.seller_sku,
           CASE WHEN b.seller_sku IS NOT NULL THEN 'bundle' ELSE 'item' END AS listing_kind,
           CASE WHEN b.seller_sku IS NOT NULL THEN b.kit_item_code
                ELSE coalesce((SELECT m.item_code FROM integration.sku_map m
                               WHERE m.seller_sku = p.seller_sku AND m.shop_id IN (p.shop_id, '')
                               ORDER BY m.shop_id DESC LIMIT 1), p.seller_sku) END AS item_code,
           p.computed_quantity, p.computed_at, p.sent_quantity, p.sent_at, p.result, p.error
    FROM integration.inventory_push p
    LEFT JOIN integration.bundle b ON b.seller_sku = p.seller_sku
), sets AS (
    SELECT shop_id, tiktok_warehouse_id, string_agg(whs_code, ',' ORDER BY whs_code) AS sap_warehouses
    FROM integration.warehouse_set
    GROUP BY shop_id, tiktok_warehouse_id
)
SELECT l.shop_id,
       l.tiktok_warehouse_id,
       l.seller_sku,
       l.listing_kind,
       l.item_code,
       st.sap_warehouses,
       ss.on_hand                                                    AS sap_on_hand,
       ss.committed                                                  AS sap_committed,
       coalesce(bf.buffer, ub.buffer, 0)                                        AS buffer,
       CASE WHEN l.listing_kind = 'item' AND ss.on_hand IS NOT NULL AND al.share IS NULL
            THEN greatest(0, ss.on_hand - ss.committed - coalesce(bf.buffer, ub.buffer, 0) - l.computed_quantity) END AS pending,
       l.computed_quantity                                           AS ats,
       l.computed_at                                                 AS ats_computed_at,
       ss.read_from                                                  AS stock_read_from,
       l.sent_quantity                                               AS last_pushed_quantity,
       l.sent_at                                                     AS last_pushed_at,
       l.result                                                      AS push_result,
       l.error                                                       AS push_error,
       l.computed_quantity - l.sent_quantity                         AS drift,
       CASE WHEN l.sent_quantity IS NULL THEN 'never_pushed'
            WHEN l.sent_quantity = l.computed_quantity THEN 'in_sync'
            WHEN l.sent_quantity > l.computed_quantity THEN 'tiktok_higher'
            ELSE 'tiktok_lower' END                                  AS drift_status,
       now() - l.computed_at                                         AS ats_age,
       coalesce(al.share, 1)                                         AS allocation_share,
       ts.available_quantity                                         AS tiktok_available,
       ts.committed_quantity                                         AS tiktok_committed,
       ts.read_at                                                    AS tiktok_read_at,
       ts.available_quantity - l.computed_quantity                   AS tiktok_drift
FROM listing l
LEFT JOIN sets st ON st.shop_id = l.shop_id AND st.tiktok_warehouse_id = l.tiktok_warehouse_id
-- The item's stock over the set, per listing (an index lookup per SAP
-- warehouse, so a query for a few SKUs does not sum all of SAP's stock).
LEFT JOIN LATERAL (
    SELECT sum(s.on_hand) AS on_hand, sum(s.is_committed) AS committed, min(s.read_from) AS read_from
    FROM integration.warehouse_set ws
    JOIN sapb1.stock s ON s.item_code = l.item_code AND s.whs_code = ws.whs_code
    WHERE ws.shop_id = l.shop_id AND ws.tiktok_warehouse_id = l.tiktok_warehouse_id
) ss ON true
LEFT JOIN integration.stock_buffer bf ON bf.item_code = l.item_code
LEFT JOIN sapb1.item_buffer ub ON ub.item_code = l.item_code
LEFT JOIN integration.listing_allocation al ON al.shop_id = l.shop_id AND al.seller_sku = l.seller_sku
-- TikTok's own stock of the listing in this warehouse, or its total when
-- TikTok answered without a per-warehouse breakdown ('').
LEFT JOIN LATERAL (
    SELECT s.available_quantity, s.committed_quantity, s.read_at
    FROM integration.tiktok_sku t
    JOIN tiktok.sku_stock s ON s.shop_id = t.shop_id AND s.sku_id = t.sku_id AND s.tiktok_warehouse_id IN (l.tiktok_warehouse_id, '')
    WHERE t.shop_id = l.shop_id AND t.seller_sku = l.seller_sku
    ORDER BY s.tiktok_warehouse_id DESC
    LIMIT 1
) ts ON true;
COMMENT ON VIEW report.inventory_health IS 'Per listing (shop, TikTok warehouse, seller SKU): SAP on hand and committed over the warehouse set, buffer, units held back for pending TikTok orders, available-to-sell, the last push, the drift between them, the listing''s allocation share, and TikTok''s own stock of the listing as last read with its drift from available-to-sell. No personal data.';
COMMENT ON COLUMN report.inventory_health.allocation_share IS 'The listing''s share of the item''s available-to-sell (integration.listing_allocation; 1 without a row).';
COMMENT ON COLUMN report.inventory_health.pending IS 'Units of TikTok orders SAP does not reflect yet, derived as on hand − committed − buffer − ats; null for bundles and for listings with an allocation row (their ats is a share, not the whole).';
COMMENT ON COLUMN report.inventory_health.tiktok_available IS 'TikTok''s own available stock of the listing as last read (tiktok.sku_stock); null when never read.';
COMMENT ON COLUMN report.inventory_health.tiktok_committed IS 'Units TikTok shows sold and not shipped, as last read.';
COMMENT ON COLUMN report.inventory_health.tiktok_read_at IS 'When TikTok''s stock was last read.';
COMMENT ON COLUMN report.inventory_health.tiktok_drift IS 'tiktok_available − ats: positive, TikTok offers more than SAP''s stock allows (oversell risk; expected briefly after a sale lands in SAP before TikTok''s listing is read again); negative, TikTok offers less.';

-- +goose Down
DROP VIEW report.inventory_health;
CREATE VIEW report.inventory_health AS
WITH listing AS (
    -- The SAP item a seller SKU resolves to, as available-to-sell resolves
    -- it: a bundle (no single item), the shop's SKU map row, the global one,
    -- the SAP item of the same code.
    SELECT p.shop_id, p.tiktok_warehouse_id, p.seller_sku,
           CASE WHEN b.seller_sku IS NOT NULL THEN 'bundle' ELSE 'item' END AS listing_kind,
           CASE WHEN b.seller_sku IS NOT NULL THEN b.kit_item_code
                ELSE coalesce((SELECT m.item_code FROM integration.sku_map m
                               WHERE m.seller_sku = p.seller_sku AND m.shop_id IN (p.shop_id, '')
                               ORDER BY m.shop_id DESC LIMIT 1), p.seller_sku) END AS item_code,
           p.computed_quantity, p.computed_at, p.sent_quantity, p.sent_at, p.result, p.error
    FROM integration.inventory_push p
    LEFT JOIN integration.bundle b ON b.seller_sku = p.seller_sku
), set_stock AS (
    SELECT ws.shop_id, ws.tiktok_warehouse_id, s.item_code,
           sum(s.on_hand) AS on_hand, sum(s.is_committed) AS committed, min(s.read_from) AS read_from
    FROM integration.warehouse_set ws
    JOIN sapb1.stock s ON s.whs_code = ws.whs_code
    GROUP BY ws.shop_id, ws.tiktok_warehouse_id, s.item_code
), sets AS (
    SELECT shop_id, tiktok_warehouse_id, string_agg(whs_code, ',' ORDER BY whs_code) AS sap_warehouses
    FROM integration.warehouse_set
    GROUP BY shop_id, tiktok_warehouse_id
)
SELECT l.shop_id,
       l.tiktok_warehouse_id,
       l.seller_sku,
       l.listing_kind,
       l.item_code,
       st.sap_warehouses,
       ss.on_hand                                                    AS sap_on_hand,
       ss.committed                                                  AS sap_committed,
       coalesce(bf.buffer, ub.buffer, 0)                                        AS buffer,
       CASE WHEN l.listing_kind = 'item' AND ss.item_code IS NOT NULL
            THEN greatest(0, ss.on_hand - ss.committed - coalesce(bf.buffer, ub.buffer, 0) - l.computed_quantity) END AS pending,
       l.computed_quantity                                           AS ats,
       l.computed_at                                                 AS ats_computed_at,
       ss.read_from                                                  AS stock_read_from,
       l.sent_quantity                                               AS last_pushed_quantity,
       l.sent_at                                                     AS last_pushed_at,
       l.result                                                      AS push_result,
       l.error                                                       AS push_error,
       l.computed_quantity - l.sent_quantity                         AS drift,
       CASE WHEN l.sent_quantity IS NULL THEN 'never_pushed'
            WHEN l.sent_quantity = l.computed_quantity THEN 'in_sync'
            WHEN l.sent_quantity > l.computed_quantity THEN 'tiktok_higher'
            ELSE 'tiktok_lower' END                                  AS drift_status,
       now() - l.computed_at                                         AS ats_age
FROM listing l
LEFT JOIN sets st ON st.shop_id = l.shop_id AND st.tiktok_warehouse_id = l.tiktok_warehouse_id
LEFT JOIN set_stock ss ON ss.shop_id = l.shop_id AND ss.tiktok_warehouse_id = l.tiktok_warehouse_id AND ss.item_code = l.item_code
LEFT JOIN integration.stock_buffer bf ON bf.item_code = l.item_code
LEFT JOIN sapb1.item_buffer ub ON ub.item_code = l.item_code;
COMMENT ON VIEW report.inventory_health IS 'Per listing (shop, TikTok warehouse, seller SKU): SAP on hand and committed over the warehouse set, buffer, units held back for pending TikTok orders, available-to-sell, the last push and the drift between them. No personal data.';
DROP TABLE tiktok.sku_stock;
