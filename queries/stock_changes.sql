-- The SAP stock change detector (DESIGN.md "Inventory": between full stock
-- snapshots, the items whose OIVL or ORDR watermark moved are read again and
-- upserted here). Code: internal/sapmaster/stock_changes.go.

-- name: UpsertChangedStock :one
-- Publishes the stock of the items the detector read again, in one statement:
-- their rows upserted with read_from = the time the read started (before its
-- first query), and rows of those items SAP no longer has (OITW) deleted. A
-- row already published from a later read (a concurrent run, or a full
-- snapshot that started after this read) is left alone: read_from never
-- goes back. A row whose values did not change is rewritten only when a
-- TikTok order was posted to SAP since it was read (its newer read_from is
-- what lets available-to-sell stop counting that order as pending), so
-- re-reading an overlap window with nothing new writes nothing. Returns the
-- rows written.
WITH r AS (
    SELECT unnest(@item_codes::text[]) AS item_code,
           unnest(@whs_codes::text[]) AS whs_code,
           unnest(@on_hands::numeric[]) AS on_hand,
           unnest(@is_committeds::numeric[]) AS is_committed,
           unnest(@on_orders::numeric[]) AS on_order
), upserted AS (
    INSERT INTO sapb1.stock AS s (item_code, whs_code, on_hand, is_committed, on_order, read_from, refreshed_at)
    SELECT r.item_code, r.whs_code, r.on_hand, r.is_committed, r.on_order, @read_from::timestamptz, now()
    FROM r
    ON CONFLICT (item_code, whs_code) DO UPDATE SET
        on_hand = excluded.on_hand, is_committed = excluded.is_committed, on_order = excluded.on_order,
        read_from = excluded.read_from, refreshed_at = excluded.refreshed_at
    WHERE s.read_from <= excluded.read_from
      AND ((s.on_hand, s.is_committed, s.on_order) IS DISTINCT FROM (excluded.on_hand, excluded.is_committed, excluded.on_order)
           OR s.read_from <= (SELECT max(op.posted_at) FROM integration.order_posting op WHERE op.state = 'posted'))
    RETURNING 1
), deleted AS (
    DELETE FROM sapb1.stock s
    WHERE s.item_code = ANY (@read_item_codes::text[])
      AND s.read_from <= @read_from::timestamptz
      AND NOT EXISTS (SELECT FROM r WHERE r.item_code = s.item_code AND r.whs_code = s.whs_code)
    RETURNING 1
)
SELECT ((SELECT count(*) FROM upserted) + (SELECT count(*) FROM deleted))::bigint AS written;

-- name: LockStockChanges :exec
-- Serialises the change detector's runs with each other and with the stock
-- snapshot's rewind of its watermark, across processes: held until the
-- transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended('tiktokb1.sapb1_stock_changes', 0));

-- name: TryLockStockChanges :one
-- LockStockChanges without waiting: false when another run holds it.
SELECT pg_try_advisory_xact_lock(hashtextextended('tiktokb1.sapb1_stock_changes', 0)) AS locked;

-- name: StockReadStart :one
-- The database's clock before a re-read's first query: its rows' read_from,
-- on the same clock as a full snapshot's started_at and order posted_at.
SELECT clock_timestamp()::timestamptz AS read_from;
