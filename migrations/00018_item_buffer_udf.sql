-- The e-commerce buffer from SAP (DESIGN.md "Inventory": buffer = "SAP UDF
-- on OITM or an integration table"; issue 7): OITM.U_EcomBuffer, read when
-- SAPB1_BUFFER_UDF=U_EcomBuffer, landed into sapb1.item_buffer with each
-- full stock snapshot. Available-to-sell and report.inventory_health take
-- integration.stock_buffer where it has a row for the item (the table wins,
-- so an operator can override SAP), else the UDF, else 0.

-- +goose Up
CREATE TABLE sapb1.item_buffer (
    item_code    text          PRIMARY KEY,
    buffer       numeric(19,6) NOT NULL,
    read_from    timestamptz   NOT NULL,
    refreshed_at timestamptz   NOT NULL DEFAULT now()
);
COMMENT ON TABLE sapb1.item_buffer IS 'OITM.U_EcomBuffer of the items that have a value (SAPB1_BUFFER_UDF=U_EcomBuffer), from the last complete read. integration.stock_buffer wins where it has a row for the item.';

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


-- +goose Down
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
       coalesce(bf.buffer, 0)                                        AS buffer,
       CASE WHEN l.listing_kind = 'item' AND ss.item_code IS NOT NULL
            THEN greatest(0, ss.on_hand - ss.committed - coalesce(bf.buffer, 0) - l.computed_quantity) END AS pending,
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
LEFT JOIN integration.stock_buffer bf ON bf.item_code = l.item_code;
COMMENT ON VIEW report.inventory_health IS 'Per listing (shop, TikTok warehouse, seller SKU): SAP on hand and committed over the warehouse set, buffer, units held back for pending TikTok orders, available-to-sell, the last push and the drift between them. No personal data.';

DROP TABLE sapb1.item_buffer;
