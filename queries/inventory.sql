-- Inventory, SAP → TikTok (DESIGN.md "Inventory"): SAP stock snapshots and
-- available-to-sell, computed set-based and written as a diff into the push
-- ledger integration.inventory_push.

-- name: LoadStock :execrows
INSERT INTO sapb1.stock_load (snapshot_id, item_code, whs_code, on_hand, is_committed, on_order)
SELECT @snapshot_id, r.item_code, r.whs_code, r.on_hand, r.is_committed, r.on_order
FROM (SELECT unnest(@item_codes::text[]) AS item_code,
             unnest(@whs_codes::text[]) AS whs_code,
             unnest(@on_hands::numeric[]) AS on_hand,
             unnest(@is_committeds::numeric[]) AS is_committed,
             unnest(@on_orders::numeric[]) AS on_order) AS r;

-- name: DiscardStockLoad :exec
-- The rows of a failed stock read go; nothing of it was published.
DELETE FROM sapb1.stock_load WHERE snapshot_id = @snapshot_id;

-- name: PublishStock :execrows
-- Swaps a complete stock snapshot in, in one statement: rows upserted with
-- read_from = the time the read started, rows SAP no longer has deleted, the
-- load emptied, the snapshot marked complete. 0 rows: the snapshot was no
-- longer loading, and nothing was published.
WITH snap AS (
    SELECT sn.id AS snap_id, sn.started_at FROM sapb1.snapshot sn WHERE sn.id = @id AND sn.kind = 'stock' AND sn.status = 'loading'
), upserted AS (
    INSERT INTO sapb1.stock (item_code, whs_code, on_hand, is_committed, on_order, read_from, refreshed_at)
    SELECT l.item_code, l.whs_code, l.on_hand, l.is_committed, l.on_order, snap.started_at, now()
    FROM sapb1.stock_load l JOIN snap ON snap.snap_id = l.snapshot_id
    ON CONFLICT (item_code, whs_code) DO UPDATE SET
        on_hand = excluded.on_hand, is_committed = excluded.is_committed, on_order = excluded.on_order,
        read_from = excluded.read_from, refreshed_at = excluded.refreshed_at
    RETURNING 1
), deleted AS (
    DELETE FROM sapb1.stock s
    WHERE EXISTS (SELECT FROM snap)
      AND NOT EXISTS (SELECT FROM sapb1.stock_load l WHERE l.snapshot_id = @id AND l.item_code = s.item_code AND l.whs_code = s.whs_code)
), emptied AS (
    DELETE FROM sapb1.stock_load WHERE snapshot_id = @id
)
UPDATE sapb1.snapshot
SET status = 'complete', finished_at = now(), rows_loaded = (SELECT count(*) FROM upserted)
WHERE id = (SELECT snap_id FROM snap);

-- name: LockInventoryRecompute :exec
-- Recomputes wait for each other (the stock change detector, the hourly
-- snapshot, the master refresh, a mapping import): each statement then reads
-- what the one before committed, and an older computation never overwrites
-- a newer one in the ledger.
SELECT pg_advisory_xact_lock(hashtextextended('tiktokb1.inventory_recompute', 0));

-- name: MarkInventoryRecomputed :exec
-- The snapshot this recompute starts from, taken just before its statement:
-- every order version it shows is counted by the recompute (LandedCommittedUnits).
INSERT INTO integration.inventory_recompute (id, snapshot, recomputed_at)
VALUES (true, pg_current_snapshot(), now())
ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot, recomputed_at = excluded.recomputed_at;

-- name: TuneInventoryTransaction :exec
-- For the transaction of ComputeAvailableToSell only (docs/benchmarks.md,
-- measured at 100k SKUs): JIT compilation costs more than the statement runs
-- (1.6 s of 4 s); its aggregates need more than the default 4MB to stay in
-- memory; and every join of it reads most of both sides, where the planner's
-- merge joins (two sorts of 130k text keys) and nested loops (110k index
-- probes of the ledger) cost 0.6 s more than hash joins.
SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true),
       set_config('enable_mergejoin', 'off', true), set_config('enable_nestloop', 'off', true);

-- name: ComputeAvailableToSell :many
-- Available-to-sell of every listing in every TikTok warehouse, exactly as
-- DESIGN.md "Inventory" writes it, written into integration.inventory_push
-- where it changed; returns per shop how many listings changed. Per SAP item
-- and warehouse set:
--   max(0, Σ OnHand − Σ IsCommited over the set (sum first, then clamp)
--          − buffer − pending)
-- then per listing (integration.listing_item) the minimum over the items one
-- unit of it takes of floor(available × allocation share / quantity per
-- unit): a plain SKU takes 1 of its item, a bundle its components, an SAP
-- sales BOM (tree_type S) its BOM lines. A
-- listing any of whose items is missing, inactive or frozen in SAP, or whose
-- Sales Order item is not for sale, is 0.
WITH set_stock AS (
    -- Sum first, then clamp: a warehouse with more committed than on hand
    -- lowers what the others offer.
    SELECT ws.shop_id, ws.tiktok_warehouse_id, s.item_code, sum(s.on_hand - s.is_committed) AS net
    FROM integration.warehouse_set ws
    JOIN sapb1.stock s ON s.whs_code = ws.whs_code
    GROUP BY ws.shop_id, ws.tiktok_warehouse_id, s.item_code
), open_line AS (
    -- Active units of TikTok orders that SAP's stock may not reflect yet:
    -- not cancelled, not fulfilled by TikTok (FBT ships TikTok's stock), and
    -- either not evaluated yet (created after the shop's cut-over) or in a
    -- ledger state before or at posting. Skipped, cancelled, closed and
    -- cancelled_before_post orders never commit (more) SAP stock.
    SELECT r.seller_sku, r.bundle_mode, r.kit_item_code, r.item_code, p.state, p.posted_at
    FROM tiktok."order" o
    JOIN integration.order_line_resolution r ON r.shop_id = o.shop_id AND r.order_id = o.order_id
    LEFT JOIN integration.order_posting p ON p.shop_id = o.shop_id AND p.order_id = o.order_id
    LEFT JOIN integration.shop_config c ON c.shop_id = o.shop_id
    WHERE o.status <> 'CANCELLED'
      AND o.fulfillment_type IS DISTINCT FROM 'FULFILLMENT_BY_TIKTOK'
      AND CASE WHEN p.state IS NULL THEN o.create_time >= coalesce(c.cutover_at, '-infinity')
               WHEN p.state = 'posted' THEN p.posted_at IS NULL OR p.posted_at >= (SELECT min(read_from) FROM sapb1.stock)
               ELSE p.state IN ('new', 'blocked', 'waiting', 'ready', 'posting', 'unknown') END
), open_item AS (
    -- The items one unit puts on a Sales Order line.
    SELECT l.state, l.posted_at, coalesce(bc.item_code, l.kit_item_code, l.item_code) AS item_code,
           coalesce(bc.quantity, 1) AS quantity
    FROM open_line l
    LEFT JOIN integration.bundle_component bc ON l.bundle_mode = 'components' AND bc.seller_sku = l.seller_sku
), open_part AS (
    -- A sales BOM commits its components in SAP.
    SELECT oi.state, oi.posted_at, coalesce(b.component, oi.item_code) AS item_code,
           oi.quantity * coalesce(b.quantity / nullif(b.header_quantity, 0), 1) AS units
    FROM open_item oi
    LEFT JOIN sapb1.item k ON k.item_code = oi.item_code AND k.tree_type = 'S'
    LEFT JOIN sapb1.bom_line b ON b.father = k.item_code
    WHERE oi.item_code IS NOT NULL
), posted_read AS (
    -- When the stock of each item with posted orders was last read from.
    SELECT i.item_code, (SELECT min(s.read_from) FROM sapb1.stock s WHERE s.item_code = i.item_code) AS read_from
    FROM (SELECT DISTINCT item_code FROM open_part WHERE state = 'posted') i
), pending AS (
    -- A posted order stops being pending once every stock row of the item
    -- comes from a read that started after SAP answered the POST (the Sales
    -- Order was committed before the read, so the read counts it in
    -- IsCommited). Both times are our clock; SAP's is never compared.
    SELECT op.item_code, sum(op.units) AS units
    FROM open_part op
    LEFT JOIN posted_read r ON op.state = 'posted' AND r.item_code = op.item_code
    WHERE op.state IS DISTINCT FROM 'posted'
       OR op.posted_at IS NULL
       OR op.posted_at >= coalesce(r.read_from, 'infinity')
    GROUP BY op.item_code
), available AS (
    SELECT ss.shop_id, ss.tiktok_warehouse_id, ss.item_code,
           greatest(0, ss.net - coalesce(bf.buffer, ub.buffer, 0) - coalesce(pd.units, 0)) AS quantity
    FROM set_stock ss
    -- The buffer: integration.stock_buffer's row for the item wins over
    -- SAP's OITM.U_EcomBuffer (sapb1.item_buffer, migration 00018).
    LEFT JOIN integration.stock_buffer bf ON bf.item_code = ss.item_code
    LEFT JOIN sapb1.item_buffer ub ON ub.item_code = ss.item_code
    LEFT JOIN pending pd ON pd.item_code = ss.item_code
), sets AS (
    SELECT DISTINCT shop_id, tiktok_warehouse_id FROM integration.warehouse_set
), computed AS (
    -- The listing's allocation share of each item (no row: 1), rounded down.
    SELECT st.shop_id, st.tiktok_warehouse_id, lp.seller_sku,
           (CASE WHEN bool_and(lp.sellable)
                 THEN coalesce(min(floor(coalesce(a.quantity, 0) * lp.share / nullif(lp.quantity, 0))), 0)
                 ELSE 0 END)::bigint AS quantity
    FROM sets st
    JOIN integration.listing_item lp ON lp.shop_id = st.shop_id
    LEFT JOIN available a ON a.shop_id = st.shop_id AND a.tiktok_warehouse_id = st.tiktok_warehouse_id AND a.item_code = lp.item_code
    GROUP BY st.shop_id, st.tiktok_warehouse_id, lp.seller_sku
), changed AS (
    SELECT c.shop_id, c.tiktok_warehouse_id, c.seller_sku, c.quantity, p.computed_quantity AS previous_quantity
    FROM computed c
    LEFT JOIN integration.inventory_push p
           ON p.shop_id = c.shop_id AND p.tiktok_warehouse_id = c.tiktok_warehouse_id AND p.seller_sku = c.seller_sku
    WHERE p.computed_quantity IS DISTINCT FROM c.quantity
    UNION ALL
    -- A listing of the ledger no longer computed in a TikTok warehouse that
    -- still has a set (its SKU maps to no SAP item any more, its bundle or
    -- its item is gone) goes to 0: nothing in SAP backs it.
    SELECT p.shop_id, p.tiktok_warehouse_id, p.seller_sku, 0::bigint, p.computed_quantity
    FROM integration.inventory_push p
    JOIN sets st ON st.shop_id = p.shop_id AND st.tiktok_warehouse_id = p.tiktok_warehouse_id
    WHERE p.computed_quantity <> 0
      AND NOT EXISTS (SELECT FROM computed c
                      WHERE c.shop_id = p.shop_id AND c.tiktok_warehouse_id = p.tiktok_warehouse_id AND c.seller_sku = p.seller_sku)
), unmanaged AS (
    -- The rows of a TikTok warehouse that has no warehouse set any more:
    -- its stock is no longer managed, and nothing of it is pushed again.
    DELETE FROM integration.inventory_push p
    WHERE NOT EXISTS (SELECT FROM sets st WHERE st.shop_id = p.shop_id AND st.tiktok_warehouse_id = p.tiktok_warehouse_id)
), inserted AS (
    -- New listings: a plain insert (recomputes hold the recompute lock, and
    -- nothing else inserts into the ledger).
    INSERT INTO integration.inventory_push (shop_id, tiktok_warehouse_id, seller_sku, computed_quantity, computed_at)
    SELECT shop_id, tiktok_warehouse_id, seller_sku, quantity, now() FROM changed WHERE previous_quantity IS NULL
    RETURNING shop_id, computed_quantity, NULL::bigint AS previous_quantity
), updated AS (
    UPDATE integration.inventory_push p SET computed_quantity = c.quantity, computed_at = now()
    FROM changed c
    WHERE c.previous_quantity IS NOT NULL
      AND p.shop_id = c.shop_id AND p.tiktok_warehouse_id = c.tiktok_warehouse_id AND p.seller_sku = c.seller_sku
    RETURNING p.shop_id, p.computed_quantity, c.previous_quantity
), written AS (
    SELECT * FROM inserted UNION ALL SELECT * FROM updated
)
-- Per shop, how many listings changed: the rows themselves are in the
-- ledger (110k of them after a new warehouse set).
SELECT shop_id,
       count(*)                                                   AS listings,
       count(*) FILTER (WHERE previous_quantity IS NULL)          AS new_listings,
       count(*) FILTER (WHERE computed_quantity < previous_quantity) AS decreases,
       count(*) FILTER (WHERE computed_quantity > previous_quantity) AS increases
FROM written
GROUP BY shop_id
ORDER BY shop_id;

-- name: ReplaceItemBuffers :one
-- Swaps a complete read of OITM.U_EcomBuffer in: rows upserted where the
-- value changed, items the read no longer has (no value) deleted.
WITH r AS (
    SELECT unnest(@item_codes::text[]) AS item_code, unnest(@buffers::numeric[]) AS buffer
), upserted AS (
    INSERT INTO sapb1.item_buffer AS b (item_code, buffer, read_from)
    SELECT r.item_code, r.buffer, @read_from::timestamptz FROM r
    ON CONFLICT (item_code) DO UPDATE
        SET buffer = excluded.buffer, read_from = excluded.read_from, refreshed_at = now()
        WHERE b.buffer IS DISTINCT FROM excluded.buffer
    RETURNING 1
), deleted AS (
    DELETE FROM sapb1.item_buffer b WHERE NOT EXISTS (SELECT FROM r WHERE r.item_code = b.item_code)
    RETURNING 1
)
SELECT (SELECT count(*) FROM upserted)::bigint AS changed, (SELECT count(*) FROM deleted)::bigint AS deleted;

-- name: WarehouseSetProblems :many
-- Warehouse sets naming an SAP warehouse the last warehouse snapshot does
-- not have, or has as inactive (for tiktokb1 doctor). Without a snapshot
-- nothing can be judged, and nothing is returned.
SELECT ws.shop_id, ws.tiktok_warehouse_id, ws.whs_code,
       CASE WHEN w.whs_code IS NULL THEN 'unknown' ELSE 'inactive' END::text AS problem
FROM integration.warehouse_set ws
LEFT JOIN sapb1.warehouse w ON w.whs_code = ws.whs_code
WHERE EXISTS (SELECT FROM sapb1.warehouse)
  AND (w.whs_code IS NULL OR w.inactive)
ORDER BY ws.shop_id, ws.tiktok_warehouse_id, ws.whs_code;
