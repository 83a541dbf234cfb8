-- Landing TikTok orders (migrations/00008_tiktok_orders.sql, internal/landing):
-- raw payloads in, personal data split off, typed orders, lines and packages
-- derived set-based. Every statement works on a whole page.
--
-- What derivation reads is checked first (CheckOrderPayloads) with the same
-- patterns it casts with, so no payload TikTok can send makes a derivation
-- statement fail: a payload that does not read is reported, not derived.
-- Patterns: an amount is ^[0-9]{1,12}(\.[0-9]{1,6})?$ (a decimal string or
-- number, never negative, at most 12 integer digits); a time is unix seconds,
-- ^[0-9]{1,11}$ (0 means "not yet"); an id is ^[0-9]{1,32}$.

-- name: LandOrderPayloads :many
-- Stores a page of order objects (a JSON array, one element per order) for a
-- shop: each body minus its personal data, once per distinct state (ON
-- CONFLICT DO NOTHING on shop, order and body hash). The personal data goes
-- to pii.order_recipient in the same statement, newest state winning. Returns
-- the payloads that were new.
WITH input AS (
    SELECT e.body, e.n,
           CASE WHEN jsonb_typeof(e.body -> 'id') IN ('string', 'number') AND length(e.body ->> 'id') BETWEEN 1 AND 64
                THEN e.body ->> 'id' END AS order_id,
           CASE WHEN e.body ->> 'update_time' ~ '^[0-9]{1,11}$' THEN (e.body ->> 'update_time')::bigint END AS update_time,
           CASE WHEN jsonb_typeof(e.body -> 'status') = 'string' THEN e.body ->> 'status' END AS status,
           jsonb_typeof(e.body) = 'object' AS is_object
    FROM jsonb_array_elements(@orders::jsonb) WITH ORDINALITY AS e(body, n)
), personal AS (
    INSERT INTO pii.order_recipient AS r (
        shop_id, order_id, update_time, recipient_address, buyer_email, buyer_message, buyer_user_id, other
    )
    SELECT DISTINCT ON (i.order_id)
           @shop_id::text, i.order_id, i.update_time,
           nullif(i.body -> 'recipient_address', 'null'::jsonb),
           nullif(i.body ->> 'buyer_email', ''),
           nullif(i.body ->> 'buyer_message', ''),
           nullif(i.body ->> 'user_id', ''),
           jsonb_strip_nulls(jsonb_build_object('cpf', i.body -> 'cpf', 'cpf_name', i.body -> 'cpf_name'))
    FROM input i
    WHERE i.order_id IS NOT NULL AND i.is_object
      AND i.body ?| ARRAY['recipient_address', 'buyer_email', 'buyer_message', 'user_id', 'cpf', 'cpf_name']
    ORDER BY i.order_id, i.update_time DESC NULLS LAST, tiktok.order_status_rank(i.status) DESC NULLS LAST, i.n DESC
    ON CONFLICT (shop_id, order_id) DO UPDATE SET
        update_time       = excluded.update_time,
        recipient_address = coalesce(excluded.recipient_address, r.recipient_address),
        buyer_email       = coalesce(excluded.buyer_email, r.buyer_email),
        buyer_message     = coalesce(excluded.buyer_message, r.buyer_message),
        buyer_user_id     = coalesce(excluded.buyer_user_id, r.buyer_user_id),
        other             = r.other || excluded.other,
        updated_at        = now()
    WHERE r.update_time IS NULL OR excluded.update_time >= r.update_time
    RETURNING 1
)
INSERT INTO tiktok.order_payload (shop_id, order_id, source, update_time, status, body)
SELECT @shop_id::text, i.order_id, @source::text, i.update_time, i.status,
       CASE WHEN i.is_object
            THEN i.body - ARRAY['recipient_address', 'buyer_email', 'buyer_message', 'user_id', 'cpf', 'cpf_name']
            ELSE i.body END
FROM input i
ORDER BY i.order_id, i.n
ON CONFLICT (shop_id, order_id, body_sha256) DO NOTHING
RETURNING id, order_id, update_time;

-- name: CheckOrderPayloads :many
-- The payloads among ids that derivation cannot read, each with every reason
-- (for people; never personal data: the body holds none). It checks exactly
-- what DeriveOrders and InsertOrderChildren cast.
SELECT p.id, p.shop_id, p.order_id, left(v.problem, 2000)::text AS problem
FROM (
    -- The body is read many times: decompressed once here (it is the body
    -- itself: jsonb_path_query_first(body, '$'); OFFSET 0 keeps the planner
    -- from inlining it back into every use), not once per use.
    SELECT p0.id, p0.shop_id, p0.order_id, p0.update_time, p0.status, jsonb_path_query_first(p0.body, '$') AS body
    FROM tiktok.order_payload p0
    WHERE p0.id = ANY (@ids::bigint[])
    OFFSET 0
) p
CROSS JOIN LATERAL (
    SELECT nullif(concat_ws('; ',
        CASE WHEN jsonb_typeof(p.body) <> 'object' THEN 'the order is not a JSON object' END,
        CASE WHEN p.order_id IS NULL THEN 'no order id'
             WHEN p.order_id !~ '^[0-9]{1,32}$' THEN format('order id %s is not a TikTok id', p.order_id) END,
        CASE WHEN p.update_time IS NULL THEN format('update_time %s is not a unix time', coalesce((p.body -> 'update_time')::text, '(missing)')) END,
        CASE WHEN tiktok.order_status_rank(p.status) IS NULL THEN format('status %s is not one this build knows', coalesce(p.status, '(missing)')) END,
        CASE WHEN coalesce(p.body ->> 'create_time', '') !~ '^[0-9]{1,11}$' THEN format('create_time %s is not a unix time', coalesce((p.body -> 'create_time')::text, '(missing)')) END,
        CASE WHEN coalesce(p.body ->> 'paid_time', '') NOT IN ('', '0') AND (p.body ->> 'paid_time') !~ '^[0-9]{1,11}$' THEN format('paid_time %s is not a unix time', p.body -> 'paid_time') END,
        CASE WHEN coalesce(p.body ->> 'cancel_time', '') NOT IN ('', '0') AND (p.body ->> 'cancel_time') !~ '^[0-9]{1,11}$' THEN format('cancel_time %s is not a unix time', p.body -> 'cancel_time') END,
        CASE WHEN coalesce(p.body ->> 'request_cancel_time', '') NOT IN ('', '0') AND (p.body ->> 'request_cancel_time') !~ '^[0-9]{1,11}$' THEN format('request_cancel_time %s is not a unix time', p.body -> 'request_cancel_time') END,
        CASE WHEN coalesce(p.body ->> 'rts_sla_time', '') NOT IN ('', '0') AND (p.body ->> 'rts_sla_time') !~ '^[0-9]{1,11}$' THEN format('rts_sla_time %s is not a unix time', p.body -> 'rts_sla_time') END,
        CASE WHEN coalesce(p.body ->> 'rts_time', '') NOT IN ('', '0') AND (p.body ->> 'rts_time') !~ '^[0-9]{1,11}$' THEN format('rts_time %s is not a unix time', p.body -> 'rts_time') END,
        CASE WHEN coalesce(p.body ->> 'collection_time', '') NOT IN ('', '0') AND (p.body ->> 'collection_time') !~ '^[0-9]{1,11}$' THEN format('collection_time %s is not a unix time', p.body -> 'collection_time') END,
        CASE WHEN coalesce(p.body ->> 'delivery_time', '') NOT IN ('', '0') AND (p.body ->> 'delivery_time') !~ '^[0-9]{1,11}$' THEN format('delivery_time %s is not a unix time', p.body -> 'delivery_time') END,
        CASE WHEN jsonb_typeof(p.body -> 'payment') IS DISTINCT FROM 'object' THEN 'payment missing' END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'currency', '') = '' THEN 'payment.currency missing' END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'sub_total', '') = '' THEN 'payment.sub_total missing' END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'total_amount', '') = '' THEN 'payment.total_amount missing' END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'sub_total', '') <> '' AND (p.body -> 'payment' ->> 'sub_total') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
             THEN format('payment.sub_total %s is not an amount', p.body -> 'payment' -> 'sub_total') END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'shipping_fee', '') <> '' AND (p.body -> 'payment' ->> 'shipping_fee') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
             THEN format('payment.shipping_fee %s is not an amount', p.body -> 'payment' -> 'shipping_fee') END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'seller_discount', '') <> '' AND (p.body -> 'payment' ->> 'seller_discount') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
             THEN format('payment.seller_discount %s is not an amount', p.body -> 'payment' -> 'seller_discount') END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'platform_discount', '') <> '' AND (p.body -> 'payment' ->> 'platform_discount') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
             THEN format('payment.platform_discount %s is not an amount', p.body -> 'payment' -> 'platform_discount') END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'original_total_product_price', '') <> '' AND (p.body -> 'payment' ->> 'original_total_product_price') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
             THEN format('payment.original_total_product_price %s is not an amount', p.body -> 'payment' -> 'original_total_product_price') END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'original_shipping_fee', '') <> '' AND (p.body -> 'payment' ->> 'original_shipping_fee') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
             THEN format('payment.original_shipping_fee %s is not an amount', p.body -> 'payment' -> 'original_shipping_fee') END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'shipping_fee_seller_discount', '') <> '' AND (p.body -> 'payment' ->> 'shipping_fee_seller_discount') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
             THEN format('payment.shipping_fee_seller_discount %s is not an amount', p.body -> 'payment' -> 'shipping_fee_seller_discount') END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'shipping_fee_platform_discount', '') <> '' AND (p.body -> 'payment' ->> 'shipping_fee_platform_discount') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
             THEN format('payment.shipping_fee_platform_discount %s is not an amount', p.body -> 'payment' -> 'shipping_fee_platform_discount') END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'tax', '') <> '' AND (p.body -> 'payment' ->> 'tax') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
             THEN format('payment.tax %s is not an amount', p.body -> 'payment' -> 'tax') END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'product_tax', '') <> '' AND (p.body -> 'payment' ->> 'product_tax') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
             THEN format('payment.product_tax %s is not an amount', p.body -> 'payment' -> 'product_tax') END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'shipping_fee_tax', '') <> '' AND (p.body -> 'payment' ->> 'shipping_fee_tax') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
             THEN format('payment.shipping_fee_tax %s is not an amount', p.body -> 'payment' -> 'shipping_fee_tax') END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'retail_delivery_fee', '') <> '' AND (p.body -> 'payment' ->> 'retail_delivery_fee') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
             THEN format('payment.retail_delivery_fee %s is not an amount', p.body -> 'payment' -> 'retail_delivery_fee') END,
        CASE WHEN coalesce(p.body -> 'payment' ->> 'total_amount', '') <> '' AND (p.body -> 'payment' ->> 'total_amount') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
             THEN format('payment.total_amount %s is not an amount', p.body -> 'payment' -> 'total_amount') END,
        CASE WHEN coalesce(p.body -> 'packages', 'null'::jsonb) <> 'null'::jsonb AND jsonb_typeof(p.body -> 'packages') <> 'array'
             THEN 'packages is not a list' END,
        CASE WHEN jsonb_typeof(p.body -> 'line_items') IS DISTINCT FROM 'array' THEN 'line_items missing'
             WHEN jsonb_array_length(p.body -> 'line_items') = 0 THEN 'line_items empty'
             WHEN jsonb_array_length(p.body -> 'line_items') > 5000
                 THEN format('%s line items (units) in one order: more than 5,000 is not believable', jsonb_array_length(p.body -> 'line_items'))
             ELSE (
                 SELECT nullif(concat_ws('; ',
                     CASE WHEN count(DISTINCT li.v ->> 'id') < count(li.v ->> 'id') THEN 'line item ids repeat' END,
                     string_agg(nullif(concat_ws('; ',
                         CASE WHEN jsonb_typeof(li.v) <> 'object' THEN format('line_items[%s] is not an object', li.n - 1) END,
                         CASE WHEN coalesce(li.v ->> 'id', '') !~ '^[0-9]{1,32}$'
                              THEN format('line_items[%s].id %s is not an id', li.n - 1, coalesce((li.v -> 'id')::text, '(missing)')) END,
                         CASE WHEN coalesce(li.v ->> 'original_price', '') = '' THEN format('line_items[%s].original_price missing', li.n - 1) END,
                         CASE WHEN coalesce(li.v ->> 'sale_price', '') = '' THEN format('line_items[%s].sale_price missing', li.n - 1) END,
                         CASE WHEN coalesce(li.v ->> 'original_price', '') <> '' AND (li.v ->> 'original_price') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
                              THEN format('line_items[%s].original_price %s is not an amount', li.n - 1, li.v -> 'original_price') END,
                         CASE WHEN coalesce(li.v ->> 'sale_price', '') <> '' AND (li.v ->> 'sale_price') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
                              THEN format('line_items[%s].sale_price %s is not an amount', li.n - 1, li.v -> 'sale_price') END,
                         CASE WHEN coalesce(li.v ->> 'seller_discount', '') <> '' AND (li.v ->> 'seller_discount') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
                              THEN format('line_items[%s].seller_discount %s is not an amount', li.n - 1, li.v -> 'seller_discount') END,
                         CASE WHEN coalesce(li.v ->> 'platform_discount', '') <> '' AND (li.v ->> 'platform_discount') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$'
                              THEN format('line_items[%s].platform_discount %s is not an amount', li.n - 1, li.v -> 'platform_discount') END,
                         CASE WHEN coalesce(li.v ->> 'rts_time', '') NOT IN ('', '0') AND (li.v ->> 'rts_time') !~ '^[0-9]{1,11}$'
                              THEN format('line_items[%s].rts_time %s is not a unix time', li.n - 1, li.v -> 'rts_time') END,
                         CASE WHEN jsonb_typeof(li.v -> 'item_tax') = 'array' THEN
                             CASE WHEN jsonb_array_length(li.v -> 'item_tax') > 0 THEN
                                 CASE WHEN EXISTS (
                                          SELECT FROM jsonb_array_elements(li.v -> 'item_tax') t
                                          WHERE coalesce(t ->> 'tax_amount', '') <> '' AND (t ->> 'tax_amount') !~ '^[0-9]{1,12}(\.[0-9]{1,6})?$')
                                      THEN format('line_items[%s].item_tax has an amount that is not one', li.n - 1) END
                             END
                         END
                     ), ''), '; ' ORDER BY li.n)), '')
                 FROM jsonb_array_elements(p.body -> 'line_items') WITH ORDINALITY AS li(v, n)
             )
        END
    ), '') AS problem
) v
WHERE v.problem IS NOT NULL
ORDER BY p.id;

-- name: DeriveOrders :many
-- Writes the typed order of each order among the payloads (which must have
-- passed CheckOrderPayloads): per order the newest payload (higher
-- update_time, then higher status rank, then the later payload) replaces the
-- typed row only when it is newer than the one the row came from. With
-- replay, an equal one rewrites it too (a fixed derivation over the same
-- payload). Returns the orders written; their lines and packages are replaced
-- next, in the same transaction.
WITH winner AS (
    -- The body decompressed once (jsonb_path_query_first(body, '$') is the
    -- body itself), not once per use below.
    SELECT DISTINCT ON (p.shop_id, p.order_id) p.id, p.shop_id, p.order_id, p.update_time, p.status,
           jsonb_path_query_first(p.body, '$') AS body
    FROM tiktok.order_payload p
    WHERE p.id = ANY (@payload_ids::bigint[])
      AND p.order_id IS NOT NULL AND p.update_time IS NOT NULL AND tiktok.order_status_rank(p.status) IS NOT NULL
    ORDER BY p.shop_id, p.order_id, p.update_time DESC, tiktok.order_status_rank(p.status) DESC, p.id DESC
)
INSERT INTO tiktok."order" AS o (
    shop_id, order_id, status, status_rank, create_time, update_time, paid_time, cancel_time, request_cancel_time,
    rts_sla_time, rts_time, collection_time, delivery_time, create_time_unix, update_time_unix, fulfillment_type,
    shipping_type, delivery_type, order_type, warehouse_id, shipping_provider, shipping_provider_id, tracking_number,
    split_or_combine_tag, is_on_hold_order, is_buyer_request_cancel, is_cod, is_sample_order, is_replacement_order,
    has_updated_recipient_address, cancel_reason, cancellation_initiator, currency, sub_total, shipping_fee,
    seller_discount, platform_discount, original_total_product_price, original_shipping_fee,
    shipping_fee_seller_discount, shipping_fee_platform_discount, tax, product_tax, shipping_fee_tax,
    retail_delivery_fee, total_amount, line_count, payload_id, derived_at, derived_xid
)
SELECT w.shop_id, w.order_id, w.status, tiktok.order_status_rank(w.status),
       to_timestamp((w.body ->> 'create_time')::bigint),
       to_timestamp(w.update_time),
       CASE WHEN (w.body ->> 'paid_time') ~ '^[0-9]{1,11}$' THEN to_timestamp(nullif((w.body ->> 'paid_time')::bigint, 0)) END,
       CASE WHEN (w.body ->> 'cancel_time') ~ '^[0-9]{1,11}$' THEN to_timestamp(nullif((w.body ->> 'cancel_time')::bigint, 0)) END,
       CASE WHEN (w.body ->> 'request_cancel_time') ~ '^[0-9]{1,11}$' THEN to_timestamp(nullif((w.body ->> 'request_cancel_time')::bigint, 0)) END,
       CASE WHEN (w.body ->> 'rts_sla_time') ~ '^[0-9]{1,11}$' THEN to_timestamp(nullif((w.body ->> 'rts_sla_time')::bigint, 0)) END,
       CASE WHEN (w.body ->> 'rts_time') ~ '^[0-9]{1,11}$' THEN to_timestamp(nullif((w.body ->> 'rts_time')::bigint, 0)) END,
       CASE WHEN (w.body ->> 'collection_time') ~ '^[0-9]{1,11}$' THEN to_timestamp(nullif((w.body ->> 'collection_time')::bigint, 0)) END,
       CASE WHEN (w.body ->> 'delivery_time') ~ '^[0-9]{1,11}$' THEN to_timestamp(nullif((w.body ->> 'delivery_time')::bigint, 0)) END,
       (w.body ->> 'create_time')::bigint,
       w.update_time,
       nullif(w.body ->> 'fulfillment_type', ''),
       nullif(w.body ->> 'shipping_type', ''),
       nullif(w.body ->> 'delivery_type', ''),
       nullif(w.body ->> 'order_type', ''),
       nullif(w.body ->> 'warehouse_id', ''),
       nullif(w.body ->> 'shipping_provider', ''),
       nullif(w.body ->> 'shipping_provider_id', ''),
       nullif(w.body ->> 'tracking_number', ''),
       nullif(w.body ->> 'split_or_combine_tag', ''),
       coalesce(w.body ->> 'is_on_hold_order' = 'true', false),
       coalesce(w.body ->> 'is_buyer_request_cancel' = 'true', false),
       coalesce(w.body ->> 'is_cod' = 'true', false),
       coalesce(w.body ->> 'is_sample_order' = 'true', false),
       coalesce(w.body ->> 'is_replacement_order' = 'true', false),
       coalesce(w.body ->> 'has_updated_recipient_address' = 'true', false),
       nullif(w.body ->> 'cancel_reason', ''),
       nullif(w.body ->> 'cancellation_initiator', ''),
       w.body -> 'payment' ->> 'currency',
       CASE WHEN (w.body -> 'payment' ->> 'sub_total') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (w.body -> 'payment' ->> 'sub_total')::numeric END,
       CASE WHEN (w.body -> 'payment' ->> 'shipping_fee') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (w.body -> 'payment' ->> 'shipping_fee')::numeric END,
       CASE WHEN (w.body -> 'payment' ->> 'seller_discount') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (w.body -> 'payment' ->> 'seller_discount')::numeric END,
       CASE WHEN (w.body -> 'payment' ->> 'platform_discount') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (w.body -> 'payment' ->> 'platform_discount')::numeric END,
       CASE WHEN (w.body -> 'payment' ->> 'original_total_product_price') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (w.body -> 'payment' ->> 'original_total_product_price')::numeric END,
       CASE WHEN (w.body -> 'payment' ->> 'original_shipping_fee') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (w.body -> 'payment' ->> 'original_shipping_fee')::numeric END,
       CASE WHEN (w.body -> 'payment' ->> 'shipping_fee_seller_discount') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (w.body -> 'payment' ->> 'shipping_fee_seller_discount')::numeric END,
       CASE WHEN (w.body -> 'payment' ->> 'shipping_fee_platform_discount') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (w.body -> 'payment' ->> 'shipping_fee_platform_discount')::numeric END,
       CASE WHEN (w.body -> 'payment' ->> 'tax') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (w.body -> 'payment' ->> 'tax')::numeric END,
       CASE WHEN (w.body -> 'payment' ->> 'product_tax') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (w.body -> 'payment' ->> 'product_tax')::numeric END,
       CASE WHEN (w.body -> 'payment' ->> 'shipping_fee_tax') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (w.body -> 'payment' ->> 'shipping_fee_tax')::numeric END,
       CASE WHEN (w.body -> 'payment' ->> 'retail_delivery_fee') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (w.body -> 'payment' ->> 'retail_delivery_fee')::numeric END,
       CASE WHEN (w.body -> 'payment' ->> 'total_amount') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (w.body -> 'payment' ->> 'total_amount')::numeric END,
       jsonb_array_length(w.body -> 'line_items'),
       w.id,
       now(),
       pg_current_xact_id()
FROM winner w
ORDER BY w.shop_id, w.order_id
ON CONFLICT (shop_id, order_id) DO UPDATE SET
    status                         = excluded.status,
    status_rank                    = excluded.status_rank,
    create_time                    = excluded.create_time,
    update_time                    = excluded.update_time,
    paid_time                      = excluded.paid_time,
    cancel_time                    = excluded.cancel_time,
    request_cancel_time            = excluded.request_cancel_time,
    rts_sla_time                   = excluded.rts_sla_time,
    rts_time                       = excluded.rts_time,
    collection_time                = excluded.collection_time,
    delivery_time                  = excluded.delivery_time,
    create_time_unix               = excluded.create_time_unix,
    update_time_unix               = excluded.update_time_unix,
    fulfillment_type               = excluded.fulfillment_type,
    shipping_type                  = excluded.shipping_type,
    delivery_type                  = excluded.delivery_type,
    order_type                     = excluded.order_type,
    warehouse_id                   = excluded.warehouse_id,
    shipping_provider              = excluded.shipping_provider,
    shipping_provider_id           = excluded.shipping_provider_id,
    tracking_number                = excluded.tracking_number,
    split_or_combine_tag           = excluded.split_or_combine_tag,
    is_on_hold_order               = excluded.is_on_hold_order,
    is_buyer_request_cancel        = excluded.is_buyer_request_cancel,
    is_cod                         = excluded.is_cod,
    is_sample_order                = excluded.is_sample_order,
    is_replacement_order           = excluded.is_replacement_order,
    has_updated_recipient_address  = excluded.has_updated_recipient_address,
    cancel_reason                  = excluded.cancel_reason,
    cancellation_initiator         = excluded.cancellation_initiator,
    currency                       = excluded.currency,
    sub_total                      = excluded.sub_total,
    shipping_fee                   = excluded.shipping_fee,
    seller_discount                = excluded.seller_discount,
    platform_discount              = excluded.platform_discount,
    original_total_product_price   = excluded.original_total_product_price,
    original_shipping_fee          = excluded.original_shipping_fee,
    shipping_fee_seller_discount   = excluded.shipping_fee_seller_discount,
    shipping_fee_platform_discount = excluded.shipping_fee_platform_discount,
    tax                            = excluded.tax,
    product_tax                    = excluded.product_tax,
    shipping_fee_tax               = excluded.shipping_fee_tax,
    retail_delivery_fee            = excluded.retail_delivery_fee,
    total_amount                   = excluded.total_amount,
    line_count                     = excluded.line_count,
    payload_id                     = excluded.payload_id,
    derived_at                     = excluded.derived_at,
    derived_xid                    = excluded.derived_xid
WHERE (excluded.update_time_unix, excluded.status_rank, excluded.payload_id) > (o.update_time_unix, o.status_rank, o.payload_id)
   OR (@replay::boolean AND (excluded.update_time_unix, excluded.status_rank, excluded.payload_id) >= (o.update_time_unix, o.status_rank, o.payload_id))
RETURNING o.shop_id, o.order_id, o.payload_id;

-- name: DeleteOrderChildren :exec
-- Removes the lines and packages of the orders just written from the given
-- payloads, before InsertOrderChildren writes them again.
WITH gone_lines AS (
    DELETE FROM tiktok.order_line l
    USING tiktok."order" o
    WHERE o.payload_id = ANY (@payload_ids::bigint[]) AND l.shop_id = o.shop_id AND l.order_id = o.order_id
    RETURNING 1
)
DELETE FROM tiktok.order_package k
USING tiktok."order" o
WHERE o.payload_id = ANY (@payload_ids::bigint[]) AND k.shop_id = o.shop_id AND k.order_id = o.order_id;

-- name: InsertOrderChildren :one
-- Writes the lines (one per line item, i.e. per unit) and the packages of the
-- orders whose typed row comes from the given payloads.
WITH src AS MATERIALIZED (
    -- The body decompressed once, not once per use below.
    SELECT o.shop_id, o.order_id, jsonb_path_query_first(p.body, '$') AS body
    FROM tiktok."order" o
    JOIN tiktok.order_payload p ON p.id = o.payload_id
    WHERE o.payload_id = ANY (@payload_ids::bigint[])
), items AS (
    SELECT s.shop_id, s.order_id, li.v, li.n
    FROM src s
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(s.body -> 'line_items') = 'array' THEN s.body -> 'line_items' ELSE '[]'::jsonb END
    ) WITH ORDINALITY AS li(v, n)
), lines AS (
    INSERT INTO tiktok.order_line (
        shop_id, order_id, line_id, position, sku_id, product_id, product_name, seller_sku, sku_name, sku_type,
        original_price, sale_price, seller_discount, platform_discount, tax, currency, is_gift, package_id,
        package_status, display_status, cancel_user, cancel_reason, shipping_provider_id, tracking_number, rts_time,
        combined_listing_skus
    )
    SELECT i.shop_id, i.order_id, i.v ->> 'id', i.n::integer,
           nullif(i.v ->> 'sku_id', ''),
           nullif(i.v ->> 'product_id', ''),
           nullif(i.v ->> 'product_name', ''),
           nullif(i.v ->> 'seller_sku', ''),
           nullif(i.v ->> 'sku_name', ''),
           nullif(i.v ->> 'sku_type', ''),
           CASE WHEN (i.v ->> 'original_price') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (i.v ->> 'original_price')::numeric END,
           CASE WHEN (i.v ->> 'sale_price') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (i.v ->> 'sale_price')::numeric END,
           CASE WHEN (i.v ->> 'seller_discount') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (i.v ->> 'seller_discount')::numeric END,
           CASE WHEN (i.v ->> 'platform_discount') ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (i.v ->> 'platform_discount')::numeric END,
           CASE WHEN jsonb_typeof(i.v -> 'item_tax') = 'array' THEN
               (SELECT sum(CASE WHEN t ->> 'tax_amount' ~ '^[0-9]{1,12}(\.[0-9]{1,6})?$' THEN (t ->> 'tax_amount')::numeric END)
                FROM jsonb_array_elements(i.v -> 'item_tax') t)
           END,
           nullif(i.v ->> 'currency', ''), coalesce(i.v ->> 'is_gift' = 'true', false), nullif(i.v ->> 'package_id', ''),
           nullif(i.v ->> 'package_status', ''), nullif(i.v ->> 'display_status', ''), nullif(i.v ->> 'cancel_user', ''),
           nullif(i.v ->> 'cancel_reason', ''), nullif(i.v ->> 'shipping_provider_id', ''), nullif(i.v ->> 'tracking_number', ''),
           CASE WHEN (i.v ->> 'rts_time') ~ '^[0-9]{1,11}$' THEN to_timestamp(nullif((i.v ->> 'rts_time')::bigint, 0)) END,
           nullif(i.v -> 'combined_listing_skus', 'null'::jsonb)
    FROM items i
    ORDER BY i.shop_id, i.order_id, i.n
    RETURNING 1
), packages AS (
    INSERT INTO tiktok.order_package (shop_id, order_id, package_id, position)
    SELECT x.shop_id, x.order_id, x.package_id,
           row_number() OVER (PARTITION BY x.shop_id, x.order_id ORDER BY min(x.pos))::integer
    FROM (
        SELECT s.shop_id, s.order_id, pk.v ->> 'id' AS package_id, pk.n AS pos
        FROM src s
        CROSS JOIN LATERAL jsonb_array_elements(
            CASE WHEN jsonb_typeof(s.body -> 'packages') = 'array' THEN s.body -> 'packages' ELSE '[]'::jsonb END
        ) WITH ORDINALITY AS pk(v, n)
        UNION ALL
        SELECT i.shop_id, i.order_id, i.v ->> 'package_id', 1000000 + i.n
        FROM items i
    ) x
    WHERE coalesce(x.package_id, '') <> ''
    GROUP BY x.shop_id, x.order_id, x.package_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM lines)::integer AS lines, (SELECT count(*) FROM packages)::integer AS packages;

-- name: RecordOrderProblems :one
-- Raises tiktok_order_unreadable (owner it) for the unreadable payloads that
-- are an order's newest state (one that a readable newer state supersedes no
-- longer matters), and resolves the live ones of the orders a readable state
-- was just written for (written_ids: the payloads DeriveOrders wrote).
WITH bad AS (
    SELECT DISTINCT ON (p.shop_id, p.order_id)
           p.id, p.shop_id, p.order_id, p.update_time, p.status, p.source, p.received_at, x.problem
    FROM (SELECT unnest(@bad_ids::bigint[]) AS id, unnest(@problems::text[]) AS problem) x
    JOIN tiktok.order_payload p ON p.id = x.id
    ORDER BY p.shop_id, p.order_id, p.id DESC
), newest AS (
    SELECT b.*, o.order_id IS NOT NULL AS has_typed
    FROM bad b
    LEFT JOIN tiktok."order" o ON o.shop_id = b.shop_id AND o.order_id = b.order_id
    WHERE o.order_id IS NULL
       OR (b.update_time IS NULL AND b.id > o.payload_id)
       OR (b.update_time, coalesce(tiktok.order_status_rank(b.status), 0), b.id) > (o.update_time_unix, o.status_rank, o.payload_id)
), resolved AS (
    UPDATE ops.exception e
    SET status = 'resolved', resolved_at = now(), resolved_by = 'tiktokb1',
        resolution = 'auto: a readable newer state of the order was landed'
    FROM tiktok."order" o
    WHERE o.payload_id = ANY (@written_ids::bigint[])
      AND e.kind = 'tiktok_order_unreadable' AND e.status <> 'resolved'
      AND e.shop_id = o.shop_id AND e.order_id = o.order_id
      AND NOT EXISTS (SELECT FROM newest n WHERE n.shop_id = o.shop_id AND n.order_id = o.order_id)
    RETURNING e.id
), raised AS (
    INSERT INTO ops.exception (kind, owner_team, severity, shop_id, order_id, message, details)
    SELECT 'tiktok_order_unreadable', 'it', 'error', n.shop_id, n.order_id,
           format('TikTok order %s of shop %s could not be read: %s. Its payload is kept in tiktok.order_payload (id %s, received %s by %s); %s '
                  'It flows again by itself when TikTok sends a readable update; if the reader is at fault, fix it and run `tiktokb1 replay orders`.',
                  coalesce(n.order_id, '(without id)'), n.shop_id, n.problem, n.id,
                  to_char(n.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'), n.source,
                  CASE WHEN n.has_typed THEN 'tiktok.order keeps the order''s previous state.'
                       ELSE 'the order has no typed row yet, so nothing downstream sees it.' END),
           jsonb_build_object('payload_id', n.id, 'source', n.source, 'update_time', n.update_time, 'status', n.status, 'problem', n.problem)
    FROM newest n
    ORDER BY n.shop_id, n.order_id
    ON CONFLICT (kind, shop_id, order_id, sku, item_code, doc_type, doc_entry) WHERE status <> 'resolved'
    DO UPDATE SET
        message      = excluded.message,
        details      = excluded.details,
        last_seen_at = greatest(ops.exception.last_seen_at, excluded.last_seen_at),
        occurrences  = ops.exception.occurrences + 1
    RETURNING id
)
SELECT (SELECT count(*) FROM raised)::integer AS raised, (SELECT count(*) FROM resolved)::integer AS resolved;

-- name: RaiseRejectedOrders :execrows
-- Order objects that could not even be stored (not JSON Postgres can hold,
-- e.g. a \u0000 escape): tiktok_order_unreadable for IT, one per order.
INSERT INTO ops.exception (kind, owner_team, severity, shop_id, order_id, message, details)
SELECT DISTINCT ON (x.order_id)
       'tiktok_order_unreadable', 'it', 'error', @shop_id::text, nullif(x.order_id, ''),
       format('TikTok order %s of shop %s could not be stored: %s. Nothing of it was landed; it flows when TikTok sends a readable update.',
              coalesce(nullif(x.order_id, ''), '(without id)'), @shop_id::text, x.problem),
       jsonb_build_object('source', @source::text, 'problem', x.problem)
FROM (SELECT unnest(@order_ids::text[]) AS order_id, unnest(@problems::text[]) AS problem) x
ORDER BY x.order_id
ON CONFLICT (kind, shop_id, order_id, sku, item_code, doc_type, doc_entry) WHERE status <> 'resolved'
DO UPDATE SET
    message      = excluded.message,
    details      = excluded.details,
    last_seen_at = greatest(ops.exception.last_seen_at, excluded.last_seen_at),
    occurrences  = ops.exception.occurrences + 1;

-- name: RaiseOrderDerivationFailed :exec
-- Derivation failed for a page (a fault of this build, not of the data): the
-- payloads are kept and IT is told to replay once it is fixed.
INSERT INTO ops.exception (kind, owner_team, severity, shop_id, message, details)
VALUES ('tiktok_order_derivation_failed', 'it', 'critical', @shop_id::text,
        format('Typed orders of shop %s could not be derived from the payloads just landed: %s. The payloads are kept in tiktok.order_payload; '
               'once the cause is fixed, run `tiktokb1 replay orders --since %s` to derive them.',
               @shop_id::text, @error::text, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
        jsonb_build_object('error', @error::text, 'payload_ids', @payload_ids::bigint[]))
ON CONFLICT (kind, shop_id, order_id, sku, item_code, doc_type, doc_entry) WHERE status <> 'resolved'
DO UPDATE SET
    message      = excluded.message,
    details      = excluded.details,
    last_seen_at = greatest(ops.exception.last_seen_at, excluded.last_seen_at),
    occurrences  = ops.exception.occurrences + 1;

-- name: CountReplayOrders :one
-- Orders with a payload received since the cutoff (all when it is null).
SELECT count(*)::bigint AS orders
FROM (
    SELECT DISTINCT p.shop_id, p.order_id
    FROM tiktok.order_payload p
    WHERE p.order_id IS NOT NULL
      AND (sqlc.narg(since)::timestamptz IS NULL OR p.received_at >= sqlc.narg(since)::timestamptz)
) x;

-- name: ReplayOrderPage :many
-- The next page of orders to replay, keyset-paged by shop and order id.
SELECT DISTINCT p.shop_id, p.order_id::text AS order_id
FROM tiktok.order_payload p
WHERE p.order_id IS NOT NULL
  AND (sqlc.narg(since)::timestamptz IS NULL OR p.received_at >= sqlc.narg(since)::timestamptz)
  AND (p.shop_id, p.order_id) > (@after_shop::text, @after_order::text)
ORDER BY p.shop_id, order_id
LIMIT @max_rows;

-- name: OrderPayloadIDs :many
-- Every payload of the given orders (parallel arrays), whenever received.
SELECT p.id
FROM tiktok.order_payload p
JOIN (SELECT unnest(@shop_ids::text[]) AS shop_id, unnest(@order_ids::text[]) AS order_id) k
  ON p.shop_id = k.shop_id AND p.order_id = k.order_id
ORDER BY p.id;

-- name: ListShopsToPoll :many
-- The shops whose orders are polled: the active ones.
SELECT id FROM tiktok.shop WHERE status = 'active' ORDER BY id;

-- name: PurgeOrderPII :execrows
-- Deletes the personal data of orders completed or cancelled before the
-- cutoff, and of orders that never got a typed row and were last seen before
-- it.
DELETE FROM pii.order_recipient r
WHERE EXISTS (
          SELECT FROM tiktok."order" o
          WHERE o.shop_id = r.shop_id AND o.order_id = r.order_id
            AND o.status IN ('COMPLETED', 'CANCELLED') AND o.update_time < @cutoff::timestamptz)
   OR (r.updated_at < @cutoff::timestamptz AND NOT EXISTS (
          SELECT FROM tiktok."order" o WHERE o.shop_id = r.shop_id AND o.order_id = r.order_id));
