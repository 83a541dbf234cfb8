-- Allocation of one SAP item's available-to-sell to the listings that sell it
-- (DESIGN.md "Inventory": "default: the whole amount to each; shares or
-- priorities configurable; the audit flags overlaps"; issue 7; decision
-- 0015). The listing → SAP item expansion that available-to-sell uses is a
-- view here, so the computation (queries/inventory.sql) and the overlap audit
-- read the same resolution.

-- +goose Up
CREATE TABLE integration.listing_allocation (
    shop_id    text          NOT NULL CHECK (shop_id <> ''),
    seller_sku text          NOT NULL CHECK (seller_sku <> ''),
    share      numeric(5,4)  NOT NULL CHECK (share >= 0 AND share <= 1),
    updated_at timestamptz   NOT NULL DEFAULT now(),
    updated_by text          NOT NULL DEFAULT current_user,
    PRIMARY KEY (shop_id, seller_sku)
);
COMMENT ON TABLE integration.listing_allocation IS 'The share of each SAP item''s available-to-sell a listing (shop, seller SKU) offers: floor(available × share ÷ quantity per unit). No row: the whole amount (share 1). Shares of the listings that sell one item in overlapping warehouse sets should add up to at most 1; report.allocation_overlap shows where they do not.';
COMMENT ON COLUMN integration.listing_allocation.share IS 'From 0 (offer nothing, keep the listing) to 1 (the whole amount). 0.7 and 0.3 split an item 70/30 between two shops; rounding is down, so the listings never offer more than SAP has.';

CREATE VIEW integration.listing_item AS
WITH shops AS (
    SELECT DISTINCT shop_id FROM integration.warehouse_set
), listing AS (
    -- Per shop with a warehouse set, each seller SKU and the items one unit
    -- of it puts on a Sales Order line, resolved as orders are
    -- (order_line_resolution): a bundle, the shop's SKU map row, the global
    -- one, the SAP item of the same code.
    SELECT s.shop_id, b.seller_sku, coalesce(bc.item_code, b.kit_item_code) AS item_code, coalesce(bc.quantity, 1) AS quantity
    FROM shops s
    CROSS JOIN integration.bundle b
    LEFT JOIN integration.bundle_component bc ON b.mode = 'components' AND bc.seller_sku = b.seller_sku
    UNION ALL
    (SELECT DISTINCT ON (s.shop_id, m.seller_sku) s.shop_id, m.seller_sku, m.item_code, 1::numeric
     FROM shops s
     JOIN integration.sku_map m ON m.shop_id IN (s.shop_id, '')
     WHERE NOT EXISTS (SELECT FROM integration.bundle b WHERE b.seller_sku = m.seller_sku)
     ORDER BY s.shop_id, m.seller_sku, m.shop_id DESC)
    UNION ALL
    SELECT s.shop_id, i.item_code, i.item_code, 1::numeric
    FROM shops s
    CROSS JOIN sapb1.item i
    WHERE (i.inventory_item OR i.tree_type = 'S')
      AND NOT EXISTS (SELECT FROM integration.bundle b WHERE b.seller_sku = i.item_code)
      AND NOT EXISTS (SELECT FROM integration.sku_map m WHERE m.seller_sku = i.item_code AND m.shop_id = s.shop_id)
      AND NOT EXISTS (SELECT FROM integration.sku_map m WHERE m.seller_sku = i.item_code AND m.shop_id = '')
)
SELECT l.shop_id,
       l.seller_sku,
       coalesce(b.component, l.item_code) AS item_code,
       l.quantity * coalesce(b.quantity / nullif(b.header_quantity, 0), 1) AS quantity,
       coalesce(li.valid AND NOT li.frozen AND li.sales_item, false)
           AND coalesce(pi.valid AND NOT pi.frozen, false) AS sellable,
       coalesce(a.share, 1) AS share
FROM listing l
LEFT JOIN sapb1.item li ON li.item_code = l.item_code
-- An SAP sales BOM (tree_type S) commits its components.
LEFT JOIN sapb1.bom_line b ON li.tree_type = 'S' AND b.father = l.item_code
LEFT JOIN sapb1.item pi ON pi.item_code = coalesce(b.component, l.item_code)
LEFT JOIN integration.listing_allocation a ON a.shop_id = l.shop_id AND a.seller_sku = l.seller_sku;
COMMENT ON VIEW integration.listing_item IS 'Per shop with a warehouse set and seller SKU: the SAP items one unit of the listing takes (bundle components, the mapped item, the item of the same code; a sales BOM''s components), how many of each, whether the item can be sold (valid, not frozen, a sales item), and the listing''s allocation share.';

CREATE VIEW report.allocation_overlap AS
WITH listed AS (
    -- Listings TikTok has (integration.tiktok_sku with ids).
    SELECT li.item_code, li.shop_id, li.seller_sku, li.share
    FROM integration.listing_item li
    JOIN integration.tiktok_sku t ON t.shop_id = li.shop_id AND t.seller_sku = li.seller_sku AND t.sku_id IS NOT NULL
), shared AS (
    -- Items sold by more than one of them with shares over 1 in all: only
    -- these can overlap in a warehouse.
    SELECT item_code FROM listed GROUP BY item_code HAVING count(*) > 1 AND sum(share) > 1
), per_warehouse AS (
    -- In the SAP warehouses their TikTok warehouse counts.
    SELECT l.item_code, ws.whs_code, count(*) AS listings, sum(l.share) AS total_share,
           string_agg(format('%s/%s/%s×%s', l.shop_id, ws.tiktok_warehouse_id, l.seller_sku, trim_scale(l.share)), ', '
                      ORDER BY l.shop_id, ws.tiktok_warehouse_id, l.seller_sku) AS sold_by
    FROM listed l
    JOIN shared s ON s.item_code = l.item_code
    JOIN integration.warehouse_set ws ON ws.shop_id = l.shop_id
    GROUP BY l.item_code, ws.whs_code
    HAVING count(*) > 1 AND sum(l.share) > 1
)
-- The warehouses where the same listings overlap, on one row.
SELECT item_code,
       string_agg(whs_code, ',' ORDER BY whs_code) AS whs_codes,
       listings,
       trim_scale(total_share)                     AS total_share,
       sold_by
FROM per_warehouse
GROUP BY item_code, listings, total_share, sold_by;
COMMENT ON VIEW report.allocation_overlap IS 'The allocation audit: SAP items offered, in the SAP warehouses whs_codes, by more than one TikTok listing whose allocation shares add up to more than 1, so the same units are offered more than once (the default: every listing offers the whole amount; a bundle and its component''s own SKU overlap too). sold_by lists the listings as shop/TikTok warehouse/seller SKU×share. Fix with integration.listing_allocation (tiktokb1 mapping import allocations), or accept it: TikTok lowers every listing when one sells, and pending orders are subtracted.';

-- +goose Down
DROP VIEW report.allocation_overlap;
DROP VIEW integration.listing_item;
DROP TABLE integration.listing_allocation;
