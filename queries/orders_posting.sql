-- Posting TikTok orders as SAP Sales Orders (migrations/00011_order_posting.sql,
-- internal/posting): which landed orders to look at, what is wrong with them
-- (validation against the configuration and the SAP master data snapshot),
-- the posting ledger's state changes, and the exceptions they raise and
-- resolve. Every statement works on a set of orders; single-order callers
-- pass sets of one.
--
-- Order keys travel as two parallel arrays (shop_ids, order_ids); rows of
-- several fields as one JSON array read with jsonb_to_recordset.

-- name: ValidationWatermark :one
-- The newest landed state validation has looked at (null before the first
-- run: the epoch): the next run reads orders derived since then, less an
-- overlap.
SELECT coalesce(max(order_derived_at), 'epoch')::timestamptz AS derived_at FROM integration.order_posting;

-- name: ChangedOrdersPage :many
-- Orders landed or changed since the watermark that the ledger has not seen
-- in this state (no ledger row, or another payload), keyset-paged by
-- derived_at and key.
SELECT o.shop_id, o.order_id, o.derived_at
FROM tiktok."order" o
LEFT JOIN integration.order_posting p ON p.shop_id = o.shop_id AND p.order_id = o.order_id
WHERE o.derived_at >= @since::timestamptz
  AND (o.derived_at, o.shop_id, o.order_id) > (@after_derived_at::timestamptz, @after_shop::text, @after_order::text)
  AND (p.order_id IS NULL OR p.payload_id IS DISTINCT FROM o.payload_id)
ORDER BY o.derived_at, o.shop_id, o.order_id
LIMIT @max_rows;

-- name: RecheckPostingsPage :many
-- Orders not decided yet whose decision may have changed without a new
-- landed state: new and blocked ones always (a mapping imported, an item
-- created or reactivated, a rejected POST retried by a person), waiting ones
-- once their hold ends or the shop's configuration changes, skipped ones
-- when the shop's configuration changes (a cut-over moved, FBT posted now).
SELECT p.shop_id, p.order_id
FROM integration.order_posting p
LEFT JOIN integration.shop_config c ON c.shop_id = p.shop_id
WHERE p.state IN ('new', 'blocked', 'waiting', 'skipped')
  AND (p.shop_id, p.order_id) > (@after_shop::text, @after_order::text)
  AND (p.state IN ('new', 'blocked')
       OR (p.state = 'waiting' AND (p.wait_until <= now() OR c.shop_id IS NULL OR c.updated_at > p.checked_at OR p.checked_at IS NULL))
       OR (p.state = 'skipped' AND (c.updated_at > p.checked_at OR p.checked_at IS NULL)))
ORDER BY p.shop_id, p.order_id
LIMIT @max_rows;

-- name: OrdersForPosting :many
-- The landed orders with what deciding and building their Sales Order needs:
-- the order and its payment, the buyer's region (the tax code's key; no
-- other personal data), the shop's configuration and tax codes, the ledger
-- row, and a live sap_rejected exception (a POST SAP refused: the order
-- waits for a person to retry it).
SELECT o.shop_id,
       o.order_id,
       o.status,
       coalesce(o.fulfillment_type, '')::text                       AS fulfillment_type,
       coalesce(o.shipping_type, '')::text                          AS shipping_type,
       o.currency,
       coalesce(r.recipient_address ->> 'region_code', '')::text    AS region,
       o.create_time,
       o.paid_time,
       o.rts_sla_time,
       o.is_buyer_request_cancel,
       o.sub_total,
       coalesce(o.shipping_fee, 0)::numeric                         AS shipping_fee,
       coalesce(o.original_shipping_fee, 0)::numeric                AS original_shipping_fee,
       coalesce(o.shipping_fee_seller_discount, 0)::numeric         AS shipping_fee_seller_discount,
       coalesce(o.shipping_fee_platform_discount, 0)::numeric       AS shipping_fee_platform_discount,
       coalesce(o.seller_discount, 0)::numeric                      AS seller_discount,
       coalesce(o.platform_discount, 0)::numeric                    AS platform_discount,
       coalesce(o.tax, 0)::numeric                                  AS tax,
       coalesce(o.product_tax, 0)::numeric                          AS product_tax,
       coalesce(o.shipping_fee_tax, 0)::numeric                     AS shipping_fee_tax,
       (coalesce(o.retail_delivery_fee, 0)
        + CASE WHEN pl.body -> 'payment' ->> 'small_order_fee' ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
               THEN (pl.body -> 'payment' ->> 'small_order_fee')::numeric ELSE 0 END
        + CASE WHEN pl.body -> 'payment' ->> 'buyer_service_fee' ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
               THEN (pl.body -> 'payment' ->> 'buyer_service_fee')::numeric ELSE 0 END)::numeric AS other_fees,
       o.total_amount,
       o.payload_id,
       o.derived_at,
       coalesce(p.state, '')::text                                  AS state,
       p.cancel_seen_at,
       coalesce(p.cancel_result, '')::text                          AS cancel_result,
       (c.shop_id IS NOT NULL)::boolean                             AS configured,
       coalesce(c.card_code, '')::text                              AS card_code,
       coalesce(c.currency, '')::text                               AS shop_currency,
       coalesce(c.series, 0)::integer                               AS series,
       coalesce(c.default_warehouse, '')::text                      AS default_warehouse,
       coalesce(c.shipping_mode, '')::text                          AS shipping_mode,
       coalesce(c.shipping_item_code, '')::text                     AS shipping_item_code,
       coalesce(c.freight_expense_code, 0)::integer                 AS freight_expense_code,
       coalesce(c.prices_include_tax, false)::boolean               AS prices_include_tax,
       coalesce(c.tiktok_remits_tax, false)::boolean                AS tiktok_remits_tax,
       coalesce(c.exempt_tax_code, '')::text                        AS exempt_tax_code,
       coalesce(c.fbt_mode, '')::text                               AS fbt_mode,
       coalesce(c.fbt_warehouse, '')::text                          AS fbt_warehouse,
       coalesce(c.already_shipped, '')::text                        AS already_shipped,
       c.cutover_at,
       coalesce(extract(epoch FROM c.extra_hold), 0)::float8        AS extra_hold_seconds,
       coalesce(c.orders_paused, false)::boolean                    AS orders_paused,
       coalesce(c.cancellations_paused, false)::boolean             AS cancellations_paused,
       coalesce((SELECT jsonb_object_agg(t.region, t.tax_code) FROM integration.tax_code t WHERE t.shop_id = o.shop_id),
                '{}'::jsonb)::jsonb                                 AS tax_codes,
       coalesce(sap.id, 0)::bigint                                  AS sap_exception_id,
       coalesce(sap.message, '')::text                              AS sap_exception_message
FROM (SELECT unnest(@shop_ids::text[]) AS shop_id, unnest(@order_ids::text[]) AS order_id) k
JOIN tiktok."order" o ON o.shop_id = k.shop_id AND o.order_id = k.order_id
LEFT JOIN tiktok.order_payload pl ON pl.id = o.payload_id
LEFT JOIN pii.order_recipient r ON r.shop_id = o.shop_id AND r.order_id = o.order_id
LEFT JOIN integration.order_posting p ON p.shop_id = o.shop_id AND p.order_id = o.order_id
LEFT JOIN integration.shop_config c ON c.shop_id = o.shop_id
LEFT JOIN LATERAL (
    SELECT e.id, e.message
    FROM ops.exception e
    WHERE e.kind = 'sap_rejected' AND e.status <> 'resolved' AND e.shop_id = o.shop_id AND e.order_id = o.order_id
    ORDER BY e.id DESC
    LIMIT 1
) sap ON true
ORDER BY o.shop_id, o.order_id;

-- name: OrderLinesForPosting :many
-- Every line item (unit) of the orders, cancelled ones included (Build
-- leaves them out and reconciles TikTok's total with them), each with what
-- its seller SKU resolves to and, for a bundle in components mode, its
-- components in item order.
SELECT l.shop_id,
       l.order_id,
       l.line_id,
       l.position,
       coalesce(l.sku_id, '')::text          AS sku_id,
       coalesce(l.seller_sku, '')::text      AS seller_sku,
       coalesce(l.currency, '')::text        AS currency,
       l.original_price,
       l.sale_price,
       coalesce(l.seller_discount, 0)::numeric   AS seller_discount,
       coalesce(l.platform_discount, 0)::numeric AS platform_discount,
       coalesce(l.tax, 0)::numeric               AS tax,
       l.is_gift,
       coalesce(l.package_id, '')::text      AS package_id,
       coalesce(l.display_status, '')::text  AS display_status,
       coalesce(r.resolved_by, '')::text     AS resolved_by,
       coalesce(r.bundle_mode, '')::text     AS bundle_mode,
       coalesce(r.kit_item_code, '')::text   AS kit_item_code,
       coalesce(r.item_code, '')::text       AS item_code,
       coalesce((SELECT jsonb_agg(jsonb_build_object('item_code', bc.item_code, 'quantity', bc.quantity, 'price_weight', bc.price_weight)
                                  ORDER BY bc.item_code)
                 FROM integration.bundle_component bc
                 WHERE bc.seller_sku = l.seller_sku AND r.bundle_mode = 'components'), '[]'::jsonb)::jsonb AS components
FROM (SELECT unnest(@shop_ids::text[]) AS shop_id, unnest(@order_ids::text[]) AS order_id) k
JOIN tiktok.order_line l ON l.shop_id = k.shop_id AND l.order_id = k.order_id
LEFT JOIN integration.order_line_resolution r ON r.shop_id = l.shop_id AND r.order_id = l.order_id AND r.line_id = l.line_id
ORDER BY l.shop_id, l.order_id, l.position;

-- name: OrderProblems :many
-- What stops each order from posting, judged against the shop's
-- configuration and the SAP master data snapshot (sapb1.item, sapb1.warehouse):
-- one row per (order, kind, SKU, item) with the TikTok line items concerned
-- and a message for the person who fixes it. Kinds: unmapped_sku,
-- item_missing, item_inactive, item_frozen, item_not_sales_item (the item a
-- SKU, a kit or the shipping service resolves to), bundle_undefined (a kit
-- that is not a sales BOM, components mode without components),
-- bundle_bad_component (a component item SAP cannot sell), currency_mismatch,
-- warehouse_unknown, absurd_quantity and absurd_amount (more units of one SKU
-- or a higher unit price than an order may believably have). Orders of a
-- shop without configuration get none here (the caller raises
-- shop_not_configured).
WITH keys AS (
    SELECT unnest(@shop_ids::text[]) AS shop_id, unnest(@order_ids::text[]) AS order_id
), ord AS (
    SELECT o.shop_id, o.order_id, o.currency, c.currency AS shop_currency, c.shipping_mode, c.shipping_item_code,
           CASE WHEN o.fulfillment_type = 'FULFILLMENT_BY_TIKTOK' AND c.fbt_mode = 'warehouse' THEN c.fbt_warehouse
                ELSE c.default_warehouse END AS warehouse,
           coalesce(o.shipping_fee, 0) + coalesce(o.shipping_fee_platform_discount, 0) AS shipping_revenue
    FROM keys k
    JOIN tiktok."order" o ON o.shop_id = k.shop_id AND o.order_id = k.order_id
    JOIN integration.shop_config c ON c.shop_id = o.shop_id
), res AS (
    SELECT r.*
    FROM ord
    JOIN integration.order_line_resolution r ON r.shop_id = ord.shop_id AND r.order_id = ord.order_id
), needs AS (
    -- Every SAP item an order needs, and why.
    SELECT r.shop_id, r.order_id, r.line_id, r.position, r.seller_sku, 'item'::text AS role, r.item_code, ''::text AS tree_type_need
    FROM res r WHERE r.resolved_by IN ('shop_map', 'global_map', 'identity')
    UNION ALL
    SELECT r.shop_id, r.order_id, r.line_id, r.position, r.seller_sku, 'kit', r.kit_item_code, 'S'
    FROM res r WHERE r.bundle_mode = 'kit'
    UNION ALL
    SELECT r.shop_id, r.order_id, r.line_id, r.position, r.seller_sku, 'component', bc.item_code, ''
    FROM res r JOIN integration.bundle_component bc ON bc.seller_sku = r.seller_sku
    WHERE r.bundle_mode = 'components'
    UNION ALL
    SELECT o.shop_id, o.order_id, NULL, 2147483647, NULL, 'shipping', o.shipping_item_code, ''
    FROM ord o WHERE o.shipping_mode = 'service_item' AND o.shipping_revenue > 0
), found AS (
    SELECT r.shop_id, r.order_id, r.line_id, r.position, 'unmapped_sku'::text AS kind, r.seller_sku AS sku, NULL::text AS item_code,
           'operations'::text AS owner,
           CASE WHEN r.resolved_by = 'no_seller_sku'
                THEN 'A line item has no seller SKU, so it cannot be mapped to an SAP item: give the TikTok SKU a seller SKU, then reload the order.'
                ELSE format('Seller SKU %s maps to no SAP item: create the item in SAP with that code, add it to the SKU map (tiktokb1 mapping import skus), or define it as a bundle. The order posts by itself once it maps.', r.seller_sku)
           END AS message
    FROM res r WHERE r.resolved_by IN ('unmapped', 'no_seller_sku')
    UNION ALL
    SELECT r.shop_id, r.order_id, r.line_id, r.position, 'bundle_undefined', r.seller_sku, NULL, 'operations',
           format('Bundle %s is posted as components but has none: add its components (tiktokb1 mapping import bundles). The order posts by itself once they are there.', r.seller_sku)
    FROM res r
    WHERE r.bundle_mode = 'components' AND NOT EXISTS (SELECT FROM integration.bundle_component bc WHERE bc.seller_sku = r.seller_sku)
    UNION ALL
    SELECT n.shop_id, n.order_id, n.line_id, n.position,
           CASE WHEN n.role = 'component' THEN 'bundle_bad_component' ELSE v.kind END, n.seller_sku, n.item_code, 'operations',
           CASE n.role
               WHEN 'item' THEN format('Seller SKU %s maps to SAP item %s, which %s. %s The order posts by itself once it is fixed.', n.seller_sku, n.item_code, v.what, v.fix)
               WHEN 'kit' THEN format('Bundle %s is the SAP kit item %s, which %s. %s The order posts by itself once it is fixed.', n.seller_sku, n.item_code, v.what, v.fix)
               WHEN 'component' THEN format('Bundle %s has the component %s, which %s. %s Or change the bundle''s components (tiktokb1 mapping import bundles). The order posts by itself once it is fixed.', n.seller_sku, n.item_code, v.what, v.fix)
               ELSE format('The shop''s shipping service item %s %s. %s Or change the shop''s shipping_item_code. The order posts by itself once it is fixed.', n.item_code, v.what, v.fix)
           END
    FROM needs n
    LEFT JOIN sapb1.item i ON i.item_code = n.item_code
    CROSS JOIN LATERAL (VALUES
        (i.item_code IS NULL, 'item_missing', 'does not exist in SAP (as of the last item snapshot)', 'Create it in SAP, or map the SKU to an item that exists.'),
        (NOT i.valid, 'item_inactive', 'is inactive in SAP', 'Reactivate it in SAP.'),
        (i.frozen, 'item_frozen', 'is frozen in SAP', 'Unfreeze it in SAP.'),
        (NOT i.sales_item, 'item_not_sales_item', 'is not a sales item in SAP', 'Mark it as a sales item in SAP.'),
        (n.tree_type_need = 'S' AND i.tree_type <> 'S', 'bundle_undefined',
         format('is not a sales BOM (its tree type is %s, not S)', i.tree_type), 'Make it a sales BOM in SAP, or post the bundle as components.')
    ) AS v(hit, kind, what, fix)
    WHERE v.hit
    UNION ALL
    SELECT o.shop_id, o.order_id, NULL, 0, 'currency_mismatch', NULL, NULL, 'operations',
           format('The order is in %s but shop %s posts in %s: correct the shop''s currency (tiktokb1 mapping import shops), or post the order by hand.',
                  o.currency, o.shop_id, o.shop_currency)
    FROM ord o WHERE o.currency <> o.shop_currency
    UNION ALL
    SELECT l.shop_id, l.order_id, l.line_id, l.position, 'currency_mismatch', l.seller_sku, NULL, 'operations',
           format('Line items of %s are in %s but the order is in %s: post the order by hand.', coalesce(l.seller_sku, l.sku_id, 'a SKU'), l.currency, o.currency)
    FROM ord o
    JOIN tiktok.order_line l ON l.shop_id = o.shop_id AND l.order_id = o.order_id
    WHERE l.display_status IS DISTINCT FROM 'CANCELLED' AND l.currency IS NOT NULL AND l.currency <> o.currency
    UNION ALL
    SELECT o.shop_id, o.order_id, NULL, 0, 'warehouse_unknown', NULL, NULL, 'it',
           format('The shop''s warehouse %s %s in SAP (as of the last warehouse snapshot): correct default_warehouse or fbt_warehouse (tiktokb1 mapping import shops), or the warehouse in SAP.',
                  coalesce(o.warehouse, '(none)'), CASE WHEN w.whs_code IS NULL THEN 'does not exist' ELSE 'is inactive' END)
    FROM ord o
    LEFT JOIN sapb1.warehouse w ON w.whs_code = o.warehouse
    WHERE w.whs_code IS NULL OR w.inactive
    UNION ALL
    SELECT q.shop_id, q.order_id, q.line_id, q.position, 'absurd_quantity', q.seller_sku, NULL, 'operations',
           format('The order holds %s units of seller SKU %s, more than the %s an order may believably hold: check the order on TikTok. Nothing is posted; if it is genuine, post it by hand in SAP and ignore this exception.',
                  q.units, q.seller_sku, @max_units_per_sku::integer)
    FROM (
        SELECT r.shop_id, r.order_id, r.seller_sku, r.line_id, r.position, count(*) OVER (PARTITION BY r.shop_id, r.order_id, r.seller_sku) AS units
        FROM res r
        WHERE r.seller_sku IS NOT NULL
    ) q
    WHERE q.units > @max_units_per_sku::integer
    UNION ALL
    SELECT l.shop_id, l.order_id, l.line_id, l.position, 'absurd_amount', l.seller_sku, NULL, 'operations',
           format('A unit of seller SKU %s costs %s %s (original price %s), more than the %s a unit may believably cost: check the order on TikTok. Nothing is posted; if it is genuine, post it by hand in SAP and ignore this exception.',
                  coalesce(l.seller_sku, l.sku_id, '(none)'), l.sale_price, o.currency, l.original_price, @max_unit_price::numeric)
    FROM ord o
    JOIN tiktok.order_line l ON l.shop_id = o.shop_id AND l.order_id = o.order_id
    WHERE l.display_status IS DISTINCT FROM 'CANCELLED'
      AND greatest(l.original_price, l.sale_price) > @max_unit_price::numeric
)
SELECT f.shop_id,
       f.order_id,
       f.kind,
       coalesce(f.sku, '')::text                                                     AS sku,
       coalesce(f.item_code, '')::text                                               AS item_code,
       min(f.owner)::text                                                            AS owner,
       min(f.message)::text                                                          AS message,
       coalesce(array_agg(DISTINCT f.line_id) FILTER (WHERE f.line_id IS NOT NULL), '{}')::text[] AS line_ids,
       min(f.position)::integer                                                      AS first_position
FROM found f
GROUP BY f.shop_id, f.order_id, f.kind, f.sku, f.item_code
ORDER BY f.shop_id, f.order_id, min(f.position), f.kind, sku, item_code;

-- name: RaiseOrderProblems :many
-- Opens an exception per problem that has no live one yet; a live one
-- (open or ignored) keeps its occurrences and gets the newest message and
-- details, so re-checking a blocked order every few seconds is not counted
-- as new occurrences. problems: [{kind, owner, severity, shop_id, order_id
-- (null for a shop-level problem), sku, item_code, message, details}].
INSERT INTO ops.exception AS e (kind, owner_team, severity, shop_id, order_id, sku, item_code, message, details)
SELECT p.kind, p.owner, coalesce(nullif(p.severity, ''), 'error'), p.shop_id, nullif(p.order_id, ''), nullif(p.sku, ''),
       nullif(p.item_code, ''), p.message, coalesce(p.details, '{}'::jsonb)
FROM jsonb_to_recordset(@problems::jsonb) AS p(kind text, owner text, severity text, shop_id text, order_id text, sku text,
                                              item_code text, message text, details jsonb)
ORDER BY p.kind, p.shop_id, p.order_id, p.sku, p.item_code
ON CONFLICT (kind, shop_id, order_id, sku, item_code, doc_type, doc_entry) WHERE status <> 'resolved'
DO UPDATE SET
    owner_team   = excluded.owner_team,
    severity     = excluded.severity,
    message      = excluded.message,
    details      = excluded.details,
    last_seen_at = now()
WHERE (e.owner_team, e.severity, e.message, e.details) IS DISTINCT FROM
      (excluded.owner_team, excluded.severity, excluded.message, excluded.details)
RETURNING e.id, e.kind, e.shop_id, e.order_id;

-- name: ResolveClearedOrderProblems :many
-- Resolves by itself every live exception of the given kinds for the
-- evaluated orders whose cause cleared: those not among the problems found
-- now (keep). An order that is no longer to be posted (final: skipped,
-- cancelled before posting) also has its sap_rejected resolved.
-- orders: [{shop_id, order_id, final, resolution}] (resolution "" = the
-- kind's own); keep: [{shop_id, order_id, kind, sku, item_code}].
UPDATE ops.exception e
SET status = 'resolved', resolved_at = now(), resolved_by = 'tiktokb1',
    resolution = CASE
        WHEN coalesce(v.resolution, '') <> '' THEN v.resolution
        WHEN e.kind = 'unmapped_sku' THEN 'auto: the SKU maps to an SAP item now'
        WHEN e.kind = 'item_missing' THEN 'auto: the item exists in SAP now, or the SKU maps to another'
        WHEN e.kind = 'item_inactive' THEN 'auto: the item is active in SAP now, or the SKU maps to another'
        WHEN e.kind = 'item_frozen' THEN 'auto: the item is no longer frozen in SAP, or the SKU maps to another'
        WHEN e.kind = 'item_not_sales_item' THEN 'auto: the item is a sales item in SAP now, or the SKU maps to another'
        WHEN e.kind IN ('bundle_undefined', 'bundle_bad_component') THEN 'auto: the bundle''s definition is usable now'
        WHEN e.kind IN ('currency_mismatch', 'warehouse_unknown', 'shop_config_incomplete') THEN 'auto: the shop''s configuration fits the order now'
        WHEN e.kind = 'order_already_shipped' THEN 'auto: the shop''s already-shipped rule posts the order now'
        ELSE 'auto: the cause cleared when the order was validated again'
    END
FROM jsonb_to_recordset(@orders::jsonb) AS v(shop_id text, order_id text, final boolean, resolution text)
WHERE e.status <> 'resolved'
  AND e.shop_id = v.shop_id AND e.order_id = v.order_id
  AND (e.kind = ANY (@kinds::text[]) OR (v.final AND e.kind = 'sap_rejected'))
  AND NOT EXISTS (
      SELECT FROM jsonb_to_recordset(@keep::jsonb) AS k(shop_id text, order_id text, kind text, sku text, item_code text)
      WHERE k.shop_id = e.shop_id AND k.order_id = e.order_id AND k.kind = e.kind
        AND coalesce(nullif(k.sku, ''), '') = coalesce(e.sku, '') AND coalesce(nullif(k.item_code, ''), '') = coalesce(e.item_code, ''))
RETURNING e.id, e.kind, e.shop_id, e.order_id;

-- name: InsertOrderPostings :many
-- Ledger rows for orders seen for the first time, in the state validation
-- decided (a row another job added meanwhile is left alone).
-- states: [{shop_id, order_id, state, reason, reason_kind, wait_until,
-- payload_id, order_derived_at, as_shipped}].
INSERT INTO integration.order_posting AS p (
    shop_id, order_id, state, reason, reason_kind, exception_id, wait_until, payload_id, order_derived_at, checked_at,
    enqueued_at, as_shipped, cancel_result, cancelled_at
)
SELECT s.shop_id, s.order_id, s.state, s.reason, s.reason_kind,
       CASE WHEN s.state = 'blocked' THEN (
           SELECT e.id FROM ops.exception e
           WHERE e.status <> 'resolved' AND e.kind = s.reason_kind AND e.shop_id = s.shop_id
             AND (e.order_id = s.order_id OR (e.order_id IS NULL AND e.kind = 'shop_not_configured'))
           ORDER BY e.id LIMIT 1) END,
       s.wait_until, s.payload_id, s.order_derived_at, now(),
       CASE WHEN s.state = 'ready' THEN now() END,
       coalesce(s.as_shipped, false),
       CASE WHEN s.state = 'cancelled_before_post' THEN 'before_post' END,
       CASE WHEN s.state = 'cancelled_before_post' THEN now() END
FROM jsonb_to_recordset(@states::jsonb) AS s(shop_id text, order_id text, state text, reason text, reason_kind text,
                                            wait_until timestamptz, payload_id bigint, order_derived_at timestamptz, as_shipped boolean)
ORDER BY s.shop_id, s.order_id
ON CONFLICT (shop_id, order_id) DO NOTHING
RETURNING p.shop_id, p.order_id, p.state;

-- name: UpdateOrderPostings :many
-- Moves ledger rows to the state validation decided, each only while it is
-- still in the state that was evaluated (compare-and-set: a job that moved
-- it meanwhile wins). states: as InsertOrderPostings, plus expected (the
-- state evaluated).
UPDATE integration.order_posting p
SET state            = s.state,
    reason           = s.reason,
    reason_kind      = s.reason_kind,
    exception_id     = CASE WHEN s.state = 'blocked' THEN (
                           SELECT e.id FROM ops.exception e
                           WHERE e.status <> 'resolved' AND e.kind = s.reason_kind AND e.shop_id = s.shop_id
                             AND (e.order_id = s.order_id OR (e.order_id IS NULL AND e.kind = 'shop_not_configured'))
                           ORDER BY e.id LIMIT 1) END,
    wait_until       = s.wait_until,
    payload_id       = coalesce(s.payload_id, p.payload_id),
    order_derived_at = coalesce(s.order_derived_at, p.order_derived_at),
    checked_at       = now(),
    enqueued_at      = CASE WHEN s.state = 'ready' THEN now() ELSE p.enqueued_at END,
    as_shipped       = coalesce(s.as_shipped, false),
    cancel_result    = CASE WHEN s.state = 'cancelled_before_post' THEN 'before_post' ELSE p.cancel_result END,
    cancelled_at     = CASE WHEN s.state = 'cancelled_before_post' THEN now() ELSE p.cancelled_at END,
    updated_at       = CASE WHEN (p.state, p.reason) IS DISTINCT FROM (s.state, s.reason) THEN now() ELSE p.updated_at END
FROM jsonb_to_recordset(@states::jsonb) AS s(shop_id text, order_id text, expected text, state text, reason text, reason_kind text,
                                            wait_until timestamptz, payload_id bigint, order_derived_at timestamptz, as_shipped boolean)
WHERE p.shop_id = s.shop_id AND p.order_id = s.order_id AND p.state = s.expected
RETURNING p.shop_id, p.order_id, p.state, s.expected::text AS previous;

-- name: TouchOrderPostings :exec
-- Records that validation saw a new landed state of orders past its reach
-- (being posted, posted, cancelled): only the payload and its time move.
UPDATE integration.order_posting p
SET payload_id = s.payload_id, order_derived_at = s.order_derived_at
FROM jsonb_to_recordset(@states::jsonb) AS s(shop_id text, order_id text, payload_id bigint, order_derived_at timestamptz)
WHERE p.shop_id = s.shop_id AND p.order_id = s.order_id
  AND p.state NOT IN ('new', 'blocked', 'waiting', 'skipped');

-- name: MarkCancelSeen :many
-- Notes that TikTok cancelled orders whose Sales Order is queued, being
-- posted or posted. Returns those newly noted, with their state: the caller
-- enqueues cancel_order for ready and posted ones in the same transaction;
-- post_order hands posting and unknown ones over once SAP has answered.
UPDATE integration.order_posting p
SET cancel_seen_at = now(), enqueued_at = now()
FROM (SELECT unnest(@shop_ids::text[]) AS shop_id, unnest(@order_ids::text[]) AS order_id) k
WHERE p.shop_id = k.shop_id AND p.order_id = k.order_id
  AND p.cancel_seen_at IS NULL AND p.cancel_result IS NULL
  AND p.state IN ('ready', 'posting', 'unknown', 'posted')
RETURNING p.shop_id, p.order_id, p.state;

-- name: StalePostings :many
-- The watchdog: orders whose job should be queued but whose last enqueue is
-- older than stale_after_seconds (a job discarded after its last attempt, or lost
-- with a River table restore). Marked enqueued now; the caller enqueues
-- post_order (ready, posting, unknown) or cancel_order (a cancellation of a
-- posted order not settled) again in the same transaction. River's unique
-- jobs skip any still queued.
UPDATE integration.order_posting p
SET enqueued_at = now()
WHERE (p.shop_id, p.order_id) IN (
    SELECT x.shop_id, x.order_id
    FROM integration.order_posting x
    WHERE (x.state IN ('ready', 'posting', 'unknown')
           OR (x.state = 'posted' AND x.cancel_seen_at IS NOT NULL AND x.cancel_result IS NULL))
      AND coalesce(x.enqueued_at, x.updated_at) < now() - make_interval(secs => @stale_after_seconds::float8)
    ORDER BY coalesce(x.enqueued_at, x.updated_at)
    LIMIT @max_rows
    FOR UPDATE SKIP LOCKED
)
RETURNING p.shop_id, p.order_id, p.state;

-- name: GetOrderPosting :one
SELECT * FROM integration.order_posting WHERE shop_id = @shop_id AND order_id = @order_id;

-- name: LockOrderPosting :one
-- Locks an order's ledger row until the transaction ends: every job that
-- acts on one TikTok order goes through here (DESIGN invariant 8).
SELECT * FROM integration.order_posting WHERE shop_id = @shop_id AND order_id = @order_id FOR UPDATE;

-- name: LockOrderPostings :many
-- Locks the ledger rows of a set of orders, in key order, before validation
-- decides them: every transaction takes ledger rows before exceptions, so
-- validation and the jobs never wait for each other in a circle.
SELECT p.shop_id, p.order_id
FROM integration.order_posting p
JOIN (SELECT unnest(@shop_ids::text[]) AS shop_id, unnest(@order_ids::text[]) AS order_id) k
  ON p.shop_id = k.shop_id AND p.order_id = k.order_id
ORDER BY p.shop_id, p.order_id
FOR UPDATE OF p;

-- name: StartPosting :execrows
-- The intent, committed before the POST is sent: the lower bound of the
-- lookup (SAP's highest DocEntry read just before), the time, the document
-- planned (lines, totals) and one more attempt. Only from ready.
UPDATE integration.order_posting
SET state = 'posting', bound_doc_entry = @bound_doc_entry::integer, posting_started_at = now(), doc_date = @doc_date::date,
    attempts = attempts + 1, lines = @lines::jsonb, totals = @totals::jsonb, expected_total = @expected_total::numeric,
    tiktok_total = @tiktok_total::numeric, as_shipped = @as_shipped::boolean, reason = @reason::text, reason_kind = 'posting',
    exception_id = NULL, updated_at = now()
WHERE shop_id = @shop_id AND order_id = @order_id AND state = 'ready';

-- name: SetPostingState :execrows
-- Moves an order between the posting states (compare-and-set on from).
UPDATE integration.order_posting
SET state = @state::text, reason = @reason::text, reason_kind = @reason_kind::text,
    last_error = coalesce(sqlc.narg(last_error)::text, last_error),
    exception_id = sqlc.narg(exception_id)::bigint,
    enqueued_at = CASE WHEN @state::text IN ('ready', 'posting', 'unknown') THEN now() ELSE enqueued_at END,
    updated_at = now()
WHERE shop_id = @shop_id AND order_id = @order_id AND state = ANY (@from_states::text[]);

-- name: RecordPosted :one
-- SAP has the Sales Order: its DocEntry and DocNum, the lines with SAP's
-- LineNum, SAP's total and how it compares. Refused (no row) when the
-- ledger already holds another DocEntry. Returns what the posting job needs
-- to hand a cancellation that arrived meanwhile to cancel_order.
UPDATE integration.order_posting p
SET state = 'posted', doc_entry = @doc_entry::integer, doc_num = @doc_num::integer, lines = @lines::jsonb,
    sap_total = sqlc.narg(sap_total)::numeric, total_check = @total_check::text, posted_at = coalesce(p.posted_at, now()),
    reason = @reason::text, reason_kind = 'posted', exception_id = NULL, updated_at = now()
WHERE p.shop_id = @shop_id AND p.order_id = @order_id AND (p.doc_entry IS NULL OR p.doc_entry = @doc_entry::integer)
RETURNING p.cancel_seen_at, coalesce(p.cancel_result, '')::text AS cancel_result,
          coalesce((SELECT o.status FROM tiktok."order" o WHERE o.shop_id = p.shop_id AND o.order_id = p.order_id), '')::text AS tiktok_status;

-- name: RecordCancellation :execrows
-- The outcome of a cancellation of a posted Sales Order: cancelled, closed,
-- or left open because it was wholly delivered (after_dispatch).
UPDATE integration.order_posting
SET state = @state::text, cancel_result = @cancel_result::text, reason = @reason::text, reason_kind = @cancel_result::text,
    cancel_seen_at = coalesce(cancel_seen_at, now()),
    cancelled_at = CASE WHEN @state::text = 'cancelled' THEN now() ELSE cancelled_at END,
    closed_at = CASE WHEN @state::text = 'closed' THEN now() ELSE closed_at END,
    exception_id = sqlc.narg(exception_id)::bigint,
    last_error = coalesce(sqlc.narg(last_error)::text, last_error),
    updated_at = now()
WHERE shop_id = @shop_id AND order_id = @order_id AND state = 'posted' AND cancel_result IS NULL;

-- name: UnsendPosting :execrows
-- The POST recorded by StartPosting never left (the governor had no slot
-- for it): back to ready, and the attempt does not count.
UPDATE integration.order_posting
SET state = 'ready', attempts = greatest(attempts - 1, 0), reason = @reason::text, reason_kind = @reason_kind::text,
    enqueued_at = now(), updated_at = now()
WHERE shop_id = @shop_id AND order_id = @order_id AND state = 'posting';

-- name: ResolveOrderExceptions :many
-- Resolves the live exceptions of given kinds of one order (e.g. a failed
-- cancellation once it succeeded).
UPDATE ops.exception
SET status = 'resolved', resolved_at = now(), resolved_by = 'tiktokb1', resolution = @resolution::text
WHERE status <> 'resolved' AND shop_id = @shop_id::text AND order_id = @order_id::text AND kind = ANY (@kinds::text[])
RETURNING id;
