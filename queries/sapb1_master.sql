-- SAP master data landed by the SQL reader (sapb1 schema).

-- name: StartSnapshot :one
INSERT INTO sapb1.snapshot (kind) VALUES (@kind) RETURNING id;

-- name: FailSnapshot :exec
-- A failed read is discarded: its loaded rows go, nothing was published.
WITH gone AS (
    DELETE FROM sapb1.item_load WHERE snapshot_id = @id
), gone_boms AS (
    DELETE FROM sapb1.bom_line_load WHERE snapshot_id = @id
)
UPDATE sapb1.snapshot SET status = 'failed', finished_at = now(), error = @error::text WHERE id = @id;

-- name: LoadItems :execrows
INSERT INTO sapb1.item_load (snapshot_id, item_code, item_name, inventory_item, sales_item, valid, frozen, tree_type, update_date, update_ts)
SELECT @snapshot_id, r.item_code, r.item_name, r.inventory_item, r.sales_item, r.valid, r.frozen, r.tree_type, r.update_date, r.update_ts
FROM (SELECT unnest(@item_codes::text[]) AS item_code,
             unnest(@item_names::text[]) AS item_name,
             unnest(@inventory_items::boolean[]) AS inventory_item,
             unnest(@sales_items::boolean[]) AS sales_item,
             unnest(@valids::boolean[]) AS valid,
             unnest(@frozens::boolean[]) AS frozen,
             unnest(@tree_types::text[]) AS tree_type,
             unnest(@update_dates::date[]) AS update_date,
             unnest(@update_tss::int[]) AS update_ts) AS r;

-- name: PublishItems :execrows
-- Swaps a complete item snapshot in: changed and new items upserted, items
-- SAP no longer has deleted, the load emptied, the snapshot marked complete.
WITH upserted AS (
    INSERT INTO sapb1.item (item_code, item_name, inventory_item, sales_item, valid, frozen, tree_type, update_date, update_ts, refreshed_at)
    SELECT item_code, item_name, inventory_item, sales_item, valid, frozen, tree_type, update_date, update_ts, now()
    FROM sapb1.item_load WHERE snapshot_id = @id
    ON CONFLICT (item_code) DO UPDATE SET
        item_name = excluded.item_name, inventory_item = excluded.inventory_item, sales_item = excluded.sales_item,
        valid = excluded.valid, frozen = excluded.frozen, tree_type = excluded.tree_type,
        update_date = excluded.update_date, update_ts = excluded.update_ts, refreshed_at = now()
    RETURNING 1
), deleted AS (
    DELETE FROM sapb1.item i
    WHERE NOT EXISTS (SELECT FROM sapb1.item_load l WHERE l.snapshot_id = @id AND l.item_code = i.item_code)
    RETURNING 1
), emptied AS (
    DELETE FROM sapb1.item_load WHERE snapshot_id = @id
)
UPDATE sapb1.snapshot
SET status = 'complete', finished_at = now(), rows_loaded = (SELECT count(*) FROM upserted)
WHERE id = @id AND status = 'loading';

-- name: UpsertChangedItems :execrows
-- Items whose UpdateDate+UpdateTS moved, between full snapshots.
INSERT INTO sapb1.item (item_code, item_name, inventory_item, sales_item, valid, frozen, tree_type, update_date, update_ts, refreshed_at)
SELECT r.item_code, r.item_name, r.inventory_item, r.sales_item, r.valid, r.frozen, r.tree_type, r.update_date, r.update_ts, now()
FROM (SELECT unnest(@item_codes::text[]) AS item_code,
             unnest(@item_names::text[]) AS item_name,
             unnest(@inventory_items::boolean[]) AS inventory_item,
             unnest(@sales_items::boolean[]) AS sales_item,
             unnest(@valids::boolean[]) AS valid,
             unnest(@frozens::boolean[]) AS frozen,
             unnest(@tree_types::text[]) AS tree_type,
             unnest(@update_dates::date[]) AS update_date,
             unnest(@update_tss::int[]) AS update_ts) AS r
ON CONFLICT (item_code) DO UPDATE SET
    item_name = excluded.item_name, inventory_item = excluded.inventory_item, sales_item = excluded.sales_item,
    valid = excluded.valid, frozen = excluded.frozen, tree_type = excluded.tree_type,
    update_date = excluded.update_date, update_ts = excluded.update_ts, refreshed_at = now();

-- name: LoadBOMLines :execrows
INSERT INTO sapb1.bom_line_load (snapshot_id, father, child_num, tree_type, header_quantity, component, quantity, warehouse)
SELECT @snapshot_id, r.father, r.child_num, r.tree_type, r.header_quantity, r.component, r.quantity, r.warehouse
FROM (SELECT unnest(@fathers::text[]) AS father,
             unnest(@child_nums::int[]) AS child_num,
             unnest(@tree_types::text[]) AS tree_type,
             unnest(@header_quantities::numeric[]) AS header_quantity,
             unnest(@components::text[]) AS component,
             unnest(@quantities::numeric[]) AS quantity,
             unnest(@warehouses::text[]) AS warehouse) AS r;

-- name: ClearBOMLines :exec
-- BOMs are replaced whole: cleared, then PublishBOMLines in the same transaction.
DELETE FROM sapb1.bom_line;

-- name: PublishBOMLines :execrows
WITH inserted AS (
    INSERT INTO sapb1.bom_line (father, child_num, tree_type, header_quantity, component, quantity, warehouse, refreshed_at)
    SELECT father, child_num, tree_type, header_quantity, component, quantity, warehouse, now()
    FROM sapb1.bom_line_load WHERE snapshot_id = @id
    RETURNING 1
), emptied AS (
    DELETE FROM sapb1.bom_line_load WHERE snapshot_id = @id
)
UPDATE sapb1.snapshot
SET status = 'complete', finished_at = now(), rows_loaded = (SELECT count(*) FROM inserted)
WHERE id = @id AND status = 'loading';

-- name: PublishWarehouses :execrows
-- Warehouses are few: read in one query and published at once.
WITH incoming AS (
    SELECT unnest(@whs_codes::text[]) AS whs_code, unnest(@whs_names::text[]) AS whs_name, unnest(@inactives::boolean[]) AS inactive
), upserted AS (
    INSERT INTO sapb1.warehouse (whs_code, whs_name, inactive, refreshed_at)
    SELECT whs_code, whs_name, inactive, now() FROM incoming
    ON CONFLICT (whs_code) DO UPDATE SET whs_name = excluded.whs_name, inactive = excluded.inactive, refreshed_at = now()
    RETURNING 1
)
DELETE FROM sapb1.warehouse w WHERE NOT EXISTS (SELECT FROM incoming i WHERE i.whs_code = w.whs_code);
