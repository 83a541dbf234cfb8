-- Posting TikTok orders to SAP as Sales Orders (DESIGN.md "Orders",
-- "Cancellations", invariants 3, 6 and 8): the posting ledger, the view that
-- resolves each landed line's seller SKU to what SAP is sent, and the
-- analysts' order pipeline. Code: internal/posting, jobs/validate_orders.go,
-- jobs/post_order.go, jobs/cancel_order.go; queries/orders_posting.sql;
-- decisions: docs/decisions/0011-order-posting.md.

-- +goose Up
CREATE TABLE integration.order_posting (
    shop_id            text        NOT NULL,
    order_id           text        NOT NULL CHECK (order_id <> ''),
    state              text        NOT NULL DEFAULT 'new' CHECK (state IN (
                           'new', 'blocked', 'waiting', 'skipped', 'ready', 'posting', 'unknown',
                           'posted', 'cancelled', 'closed', 'cancelled_before_post')),
    reason             text        NOT NULL DEFAULT '',
    reason_kind        text        NOT NULL DEFAULT '',
    exception_id       bigint      REFERENCES ops.exception (id) ON DELETE SET NULL,
    wait_until         timestamptz,
    payload_id         bigint,
    order_derived_at   timestamptz,
    checked_at         timestamptz,
    enqueued_at        timestamptz,
    bound_doc_entry    integer,
    posting_started_at timestamptz,
    doc_date           date,
    attempts           integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    doc_entry          integer,
    doc_num            integer,
    expected_total     numeric,
    tiktok_total       numeric,
    sap_total          numeric,
    total_check        text        CHECK (total_check IN ('matched', 'rounding', 'variance', 'missing')),
    totals             jsonb,
    lines              jsonb,
    as_shipped         boolean     NOT NULL DEFAULT false,
    posted_at          timestamptz,
    cancel_seen_at     timestamptz,
    cancel_result      text        CHECK (cancel_result IN ('cancelled', 'closed', 'after_dispatch', 'before_post')),
    cancelled_at       timestamptz,
    closed_at          timestamptz,
    last_error         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, order_id),
    CONSTRAINT order_posting_bound_first CHECK (state NOT IN ('posting', 'unknown') OR (bound_doc_entry IS NOT NULL AND posting_started_at IS NOT NULL)),
    CONSTRAINT order_posting_posted_has_doc CHECK (state NOT IN ('posted', 'cancelled', 'closed') OR doc_entry IS NOT NULL)
);
-- Validation re-checks the orders not decided yet; the watchdog and the
-- cancellation detector look at those in flight.
CREATE INDEX order_posting_open ON integration.order_posting (state, shop_id, order_id)
    WHERE state IN ('new', 'blocked', 'waiting', 'skipped', 'ready', 'posting', 'unknown');
CREATE INDEX order_posting_derived ON integration.order_posting (order_derived_at);
CREATE INDEX order_posting_doc_entry ON integration.order_posting (doc_entry) WHERE doc_entry IS NOT NULL;
-- Validation finds the orders landed since its last run by derived_at.
CREATE INDEX order_derived_at ON tiktok."order" (derived_at);

COMMENT ON TABLE integration.order_posting IS 'The posting ledger: one row per TikTok order, its SAP Sales Order''s state, and the intent, attempt and result of every Service Layer write for it. All work on one order is serialised through this row (a row lock, or a compare-and-set on state).';
COMMENT ON COLUMN integration.order_posting.state IS 'new, blocked (an exception stops it), waiting (unpaid, on hold, extra hold, paused, cancel requested), skipped (before the cut-over, or FBT skipped), ready (a post_order job is queued), posting (POST sent or about to be), unknown (the POST''s answer was lost: looked up by UDF after the Service Layer''s timeout), posted, cancelled, closed, cancelled_before_post (never posted).';
COMMENT ON COLUMN integration.order_posting.reason IS 'Why the order is in its state, for people.';
COMMENT ON COLUMN integration.order_posting.reason_kind IS 'The reason as a code: a decision (unpaid, on_hold, extra_hold, orders_paused, before_cutover, fbt_skipped, ready, ...) or the kind of the exception that blocks it.';
COMMENT ON COLUMN integration.order_posting.exception_id IS 'The exception that blocks the order (state blocked).';
COMMENT ON COLUMN integration.order_posting.wait_until IS 'When a wait ends by itself (the shop''s extra hold).';
COMMENT ON COLUMN integration.order_posting.payload_id IS 'The tiktok.order_payload of the order state last evaluated.';
COMMENT ON COLUMN integration.order_posting.order_derived_at IS 'tiktok."order".derived_at of that state: validation reads orders derived since the newest of these (less an overlap).';
COMMENT ON COLUMN integration.order_posting.bound_doc_entry IS 'SAP''s highest ORDR DocEntry read just before the POST and committed before it was sent: a lost answer is looked up by U_TikTokOrderId above it.';
COMMENT ON COLUMN integration.order_posting.posting_started_at IS 'When the last POST was about to be sent; the lookup of a lost answer waits until the Service Layer''s own timeout after it.';
COMMENT ON COLUMN integration.order_posting.doc_date IS 'The DocDate sent; it also bounds the lookup of a lost answer.';
COMMENT ON COLUMN integration.order_posting.attempts IS 'POSTs sent for this order.';
COMMENT ON COLUMN integration.order_posting.expected_total IS 'The DocTotal SAP should show: lines + shipping + the tax SAP adds.';
COMMENT ON COLUMN integration.order_posting.tiktok_total IS 'TikTok''s payment.total_amount when posted.';
COMMENT ON COLUMN integration.order_posting.sap_total IS 'The DocTotal SAP answered.';
COMMENT ON COLUMN integration.order_posting.total_check IS 'matched, rounding (SAP''s tax rounding, within a cent per line), variance (an exception for finance), missing (SAP sent no DocTotal).';
COMMENT ON COLUMN integration.order_posting.totals IS 'How TikTok''s total becomes the expected total (orders.Totals, with its bridge), as posted.';
COMMENT ON COLUMN integration.order_posting.lines IS 'The Sales Order''s lines as posted: SAP LineNum, kind, seller SKU, ItemCode, TikTok package id, gift flag, quantity, price, line total and the TikTok line item ids. The authority on which package each SAP line belongs to (TikTok splits and combines packages later).';
COMMENT ON COLUMN integration.order_posting.as_shipped IS 'Posted although TikTok showed it shipped already (the shop''s post_as_shipped rule).';
COMMENT ON COLUMN integration.order_posting.cancel_seen_at IS 'When the order''s cancellation on TikTok was handed to cancel_order.';
COMMENT ON COLUMN integration.order_posting.cancel_result IS 'What the cancellation did: cancelled (the Sales Order), closed (partly delivered), after_dispatch (wholly delivered: exception cancelled_after_dispatch), before_post (never posted).';
COMMENT ON COLUMN integration.order_posting.last_error IS 'The last error of a POST or a cancellation (SAP''s message), kept after success for the record.';

-- What each active TikTok line (one unit) of a landed order is in SAP: a
-- bundle definition first, then the shop's SKU map row, then the global one
-- (shop_id ''), then an SAP item of the same code (identity).
CREATE VIEW integration.order_line_resolution AS
SELECT l.shop_id,
       l.order_id,
       l.line_id,
       l.position,
       l.seller_sku,
       CASE
           WHEN l.seller_sku IS NULL THEN 'no_seller_sku'
           WHEN b.seller_sku IS NOT NULL THEN 'bundle'
           WHEN ms.item_code IS NOT NULL THEN 'shop_map'
           WHEN mg.item_code IS NOT NULL THEN 'global_map'
           WHEN ii.item_code IS NOT NULL THEN 'identity'
           ELSE 'unmapped'
       END AS resolved_by,
       b.mode AS bundle_mode,
       b.kit_item_code,
       CASE WHEN b.seller_sku IS NULL THEN coalesce(ms.item_code, mg.item_code, ii.item_code) END AS item_code
FROM tiktok.order_line l
LEFT JOIN integration.bundle b ON b.seller_sku = l.seller_sku
LEFT JOIN integration.sku_map ms ON ms.shop_id = l.shop_id AND ms.shop_id <> '' AND ms.seller_sku = l.seller_sku
LEFT JOIN integration.sku_map mg ON mg.shop_id = '' AND mg.seller_sku = l.seller_sku
LEFT JOIN sapb1.item ii ON ii.item_code = l.seller_sku
WHERE l.display_status IS DISTINCT FROM 'CANCELLED';
COMMENT ON VIEW integration.order_line_resolution IS 'Each active TikTok line item of a landed order with what its seller SKU resolves to: a bundle (kit or components), the shop''s SKU map, the global SKU map, or the SAP item of the same code. resolved_by unmapped / no_seller_sku: nothing.';

CREATE VIEW report.order_pipeline AS
SELECT o.shop_id,
       s.name                                  AS shop_name,
       o.order_id,
       o.status                                AS tiktok_status,
       o.fulfillment_type,
       o.shipping_type,
       o.create_time,
       o.paid_time,
       o.update_time,
       o.currency,
       o.total_amount                          AS tiktok_total,
       coalesce(p.state, 'new')                AS posting_state,
       coalesce(p.reason, 'Not validated yet.') AS reason,
       p.reason_kind,
       p.wait_until,
       p.doc_entry,
       p.doc_num,
       p.posted_at,
       p.expected_total,
       p.sap_total,
       p.total_check,
       p.attempts,
       p.cancel_result,
       p.cancelled_at,
       now() - o.create_time                   AS age,
       now() - coalesce(p.updated_at, o.derived_at) AS in_state_for,
       e.id                                    AS exception_id,
       e.kind                                  AS exception_kind,
       e.owner_team                            AS exception_owner,
       e.status                                AS exception_status,
       e.message                               AS exception_message
FROM tiktok."order" o
LEFT JOIN tiktok.shop s ON s.id = o.shop_id
LEFT JOIN integration.order_posting p ON p.shop_id = o.shop_id AND p.order_id = o.order_id
LEFT JOIN LATERAL (
    SELECT x.id, x.kind, x.owner_team, x.status, x.message
    FROM ops.exception x
    WHERE x.status <> 'resolved'
      AND x.shop_id = o.shop_id
      AND (x.order_id = o.order_id OR (x.order_id IS NULL AND x.kind = 'shop_not_configured'))
    ORDER BY x.id = p.exception_id DESC NULLS LAST,
             CASE x.severity WHEN 'critical' THEN 0 WHEN 'error' THEN 1 WHEN 'warning' THEN 2 ELSE 3 END,
             x.first_seen_at, x.id
    LIMIT 1
) e ON true;
COMMENT ON VIEW report.order_pipeline IS 'Every landed TikTok order: its TikTok status, where its SAP Sales Order stands (posting_state, DocEntry/DocNum, totals), its age, and the live exception that blocks it or concerns it most. No personal data.';

-- +goose Down
DROP VIEW report.order_pipeline;
DROP VIEW integration.order_line_resolution;
DROP INDEX tiktok.order_derived_at;
DROP TABLE integration.order_posting;
