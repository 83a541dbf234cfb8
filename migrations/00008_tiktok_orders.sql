-- TikTok orders, landed (DESIGN.md invariant 2, "Orders"): every order object
-- TikTok gives us is stored raw in tiktok.order_payload, minus personal data,
-- which goes to pii.order_recipient; the typed tiktok."order", order_line and
-- order_package are derived from the payloads by SQL (queries/orders_landing.sql),
-- so they can be rebuilt with `tiktokb1 replay orders`.
-- Code: internal/landing; decisions: docs/decisions/0009-order-landing.md.

-- +goose Up
-- Personal data lives in a schema of its own that the analyst role is never
-- granted (decision 0002), so "SELECT on tiktok" never exposes it.
CREATE SCHEMA pii;
COMMENT ON SCHEMA pii IS 'Personal data of buyers (recipient name, phone, address, e-mail, messages). Readable by the app role only; purged after TIKTOKB1_PII_RETENTION.';

-- Status rank: on an equal update_time the later status in an order's life
-- wins. CANCELLED ranks highest: nothing follows it. An unknown status has no
-- rank (null); such a payload is reported as unreadable, never derived.
CREATE FUNCTION tiktok.order_status_rank(status text)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE status
        WHEN 'UNPAID'              THEN 1
        WHEN 'ON_HOLD'             THEN 2
        WHEN 'AWAITING_SHIPMENT'   THEN 3
        WHEN 'PARTIALLY_SHIPPING'  THEN 4
        WHEN 'AWAITING_COLLECTION' THEN 5
        WHEN 'IN_TRANSIT'          THEN 6
        WHEN 'DELIVERED'           THEN 7
        WHEN 'COMPLETED'           THEN 8
        WHEN 'CANCELLED'           THEN 9
    END
$$;
COMMENT ON FUNCTION tiktok.order_status_rank(text) IS 'Order of TikTok order statuses, UNPAID (1) to COMPLETED (8), CANCELLED (9) highest; null for a status this build does not know. Breaks update_time ties: the higher rank is the newer state.';

CREATE TABLE tiktok.order_payload (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop_id     text        NOT NULL REFERENCES tiktok.shop (id),
    order_id    text        CHECK (order_id <> ''),
    source      text        NOT NULL CHECK (source IN ('poll', 'webhook', 'detail')),
    received_at timestamptz NOT NULL DEFAULT now(),
    update_time bigint,
    status      text,
    body        jsonb       NOT NULL,
    body_sha256 bytea       NOT NULL GENERATED ALWAYS AS (sha256(jsonb_send(body))) STORED,
    CONSTRAINT order_payload_once UNIQUE NULLS NOT DISTINCT (shop_id, order_id, body_sha256)
);
CREATE INDEX order_payload_received ON tiktok.order_payload (received_at);

COMMENT ON TABLE tiktok.order_payload IS 'Every order object TikTok gave us (poll pages, webhook-triggered and other detail reads), as received minus personal data (in pii.order_recipient). The same state received twice is stored once. The typed orders are derived from here and can be rebuilt with `tiktokb1 replay orders`.';
COMMENT ON COLUMN tiktok.order_payload.order_id IS 'TikTok''s order id (body id, 18-19 digits as text); null only for an object TikTok sent without a usable id (reported as tiktok_order_unreadable).';
COMMENT ON COLUMN tiktok.order_payload.source IS 'How it arrived: poll (order search), webhook (detail read because of a webhook), detail (any other detail read).';
COMMENT ON COLUMN tiktok.order_payload.received_at IS 'When this service stored it (first time; a later identical copy is not stored again).';
COMMENT ON COLUMN tiktok.order_payload.update_time IS 'TikTok''s update_time of the order, unix seconds; null when the body has none that reads.';
COMMENT ON COLUMN tiktok.order_payload.status IS 'TikTok''s order status in the body.';
COMMENT ON COLUMN tiktok.order_payload.body IS 'The order object as TikTok sent it, without recipient_address, buyer_email, buyer_message, user_id, cpf and cpf_name (kept in pii.order_recipient).';
COMMENT ON COLUMN tiktok.order_payload.body_sha256 IS 'SHA-256 of body (its jsonb binary form), computed by Postgres: the same state fetched twice lands once.';

CREATE TABLE pii.order_recipient (
    shop_id           text        NOT NULL REFERENCES tiktok.shop (id),
    order_id          text        NOT NULL CHECK (order_id <> ''),
    update_time       bigint,
    recipient_address jsonb,
    buyer_email       text,
    buyer_message     text,
    buyer_user_id     text,
    other             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, order_id)
);
COMMENT ON TABLE pii.order_recipient IS 'Personal data of a TikTok order, split from the body before it is stored in tiktok.order_payload: the newest known value of each. App role only; purged TIKTOKB1_PII_RETENTION after the order completed or was cancelled.';
COMMENT ON COLUMN pii.order_recipient.update_time IS 'TikTok''s update_time (unix seconds) of the order state these values come from; an older state never overwrites a newer one.';
COMMENT ON COLUMN pii.order_recipient.recipient_address IS 'TikTok''s recipient_address object (name, phone, address lines, postcode, district_info); null while TikTok shows none (UNPAID, ON_HOLD). The last address shown is kept when a later state omits it.';
COMMENT ON COLUMN pii.order_recipient.buyer_user_id IS 'TikTok''s user_id of the buyer.';
COMMENT ON COLUMN pii.order_recipient.other IS 'Other personal fields TikTok sent (cpf, cpf_name), as an object.';

CREATE TABLE tiktok."order" (
    shop_id                        text        NOT NULL REFERENCES tiktok.shop (id),
    order_id                       text        NOT NULL CHECK (order_id <> ''),
    status                         text        NOT NULL,
    status_rank                    integer     NOT NULL,
    create_time                    timestamptz NOT NULL,
    update_time                    timestamptz NOT NULL,
    paid_time                      timestamptz,
    cancel_time                    timestamptz,
    request_cancel_time            timestamptz,
    rts_sla_time                   timestamptz,
    rts_time                       timestamptz,
    collection_time                timestamptz,
    delivery_time                  timestamptz,
    create_time_unix               bigint      NOT NULL,
    update_time_unix               bigint      NOT NULL,
    fulfillment_type               text,
    shipping_type                  text,
    delivery_type                  text,
    order_type                     text,
    warehouse_id                   text,
    shipping_provider              text,
    shipping_provider_id           text,
    tracking_number                text,
    split_or_combine_tag           text,
    is_on_hold_order               boolean     NOT NULL,
    is_buyer_request_cancel        boolean     NOT NULL,
    is_cod                         boolean     NOT NULL,
    is_sample_order                boolean     NOT NULL,
    is_replacement_order           boolean     NOT NULL,
    has_updated_recipient_address  boolean     NOT NULL,
    cancel_reason                  text,
    cancellation_initiator         text,
    currency                       text        NOT NULL,
    sub_total                      numeric     NOT NULL,
    shipping_fee                   numeric,
    seller_discount                numeric,
    platform_discount              numeric,
    original_total_product_price   numeric,
    original_shipping_fee          numeric,
    shipping_fee_seller_discount   numeric,
    shipping_fee_platform_discount numeric,
    tax                            numeric,
    product_tax                    numeric,
    shipping_fee_tax               numeric,
    retail_delivery_fee            numeric,
    total_amount                   numeric     NOT NULL,
    line_count                     integer     NOT NULL,
    payload_id                     bigint      NOT NULL REFERENCES tiktok.order_payload (id),
    derived_at                     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, order_id)
);
CREATE INDEX order_status ON tiktok."order" (shop_id, status);
CREATE INDEX order_update_time ON tiktok."order" (update_time);
CREATE INDEX order_payload_id ON tiktok."order" (payload_id);

COMMENT ON TABLE tiktok."order" IS 'One row per TikTok order: its newest state (highest update_time; on a tie the higher status rank; then the later payload), derived by SQL from tiktok.order_payload. Rebuilt by `tiktokb1 replay orders`.';
COMMENT ON COLUMN tiktok."order".status_rank IS 'tiktok.order_status_rank(status): breaks update_time ties.';
COMMENT ON COLUMN tiktok."order".update_time_unix IS 'TikTok''s update_time in unix seconds, as sent (the comparison key with status_rank and payload_id).';
COMMENT ON COLUMN tiktok."order".fulfillment_type IS 'FULFILLMENT_BY_SELLER, or FULFILLMENT_BY_TIKTOK (FBT: TikTok ships from its own stock).';
COMMENT ON COLUMN tiktok."order".shipping_type IS 'TIKTOK (TikTok''s logistics) or SELLER (the seller''s carrier).';
COMMENT ON COLUMN tiktok."order".sub_total IS 'payment.sub_total: original_total_product_price - seller_discount - platform_discount. Money is numeric, exact as TikTok''s decimal string.';
COMMENT ON COLUMN tiktok."order".platform_discount IS 'payment.platform_discount: paid by TikTok, not a discount the seller gave.';
COMMENT ON COLUMN tiktok."order".total_amount IS 'payment.total_amount: what the buyer paid (sub_total + shipping_fee + taxes + retail_delivery_fee).';
COMMENT ON COLUMN tiktok."order".line_count IS 'Line items in the order; TikTok sends one per unit, so this is the number of units.';
COMMENT ON COLUMN tiktok."order".payload_id IS 'The tiktok.order_payload this row was derived from.';
COMMENT ON COLUMN tiktok."order".derived_at IS 'When this row was last written from a payload.';

CREATE TABLE tiktok.order_line (
    shop_id               text        NOT NULL,
    order_id              text        NOT NULL,
    line_id               text        NOT NULL CHECK (line_id <> ''),
    position              integer     NOT NULL,
    sku_id                text,
    product_id            text,
    product_name          text,
    seller_sku            text,
    sku_name              text,
    sku_type              text,
    original_price        numeric     NOT NULL,
    sale_price            numeric     NOT NULL,
    seller_discount       numeric,
    platform_discount     numeric,
    tax                   numeric,
    currency              text,
    is_gift               boolean     NOT NULL,
    package_id            text,
    package_status        text,
    display_status        text,
    cancel_user           text,
    cancel_reason         text,
    shipping_provider_id  text,
    tracking_number       text,
    rts_time              timestamptz,
    combined_listing_skus jsonb,
    PRIMARY KEY (shop_id, order_id, line_id),
    FOREIGN KEY (shop_id, order_id) REFERENCES tiktok."order" (shop_id, order_id) ON DELETE CASCADE
);
CREATE INDEX order_line_seller_sku ON tiktok.order_line (seller_sku);

COMMENT ON TABLE tiktok.order_line IS 'One row per TikTok line item of an order''s newest state, i.e. one per unit (TikTok sends no quantity). Replaced together with its order.';
COMMENT ON COLUMN tiktok.order_line.position IS 'Place of the line item in TikTok''s line_items array, from 1.';
COMMENT ON COLUMN tiktok.order_line.sale_price IS 'Price of the unit after the seller''s and the platform''s discounts.';
COMMENT ON COLUMN tiktok.order_line.tax IS 'Sum of item_tax[].tax_amount; null when TikTok sent no item tax.';
COMMENT ON COLUMN tiktok.order_line.display_status IS 'The unit''s own status: CANCELLED for a line-level cancellation while the order goes on.';
COMMENT ON COLUMN tiktok.order_line.cancel_user IS 'Who cancelled the unit: BUYER, SELLER, OPERATOR or SYSTEM.';
COMMENT ON COLUMN tiktok.order_line.combined_listing_skus IS 'TikTok''s combined_listing_skus (the SKUs a combined listing unit is made of), as sent.';

CREATE TABLE tiktok.order_package (
    shop_id    text    NOT NULL,
    order_id   text    NOT NULL,
    package_id text    NOT NULL CHECK (package_id <> ''),
    position   integer NOT NULL,
    PRIMARY KEY (shop_id, order_id, package_id),
    FOREIGN KEY (shop_id, order_id) REFERENCES tiktok."order" (shop_id, order_id) ON DELETE CASCADE
);
COMMENT ON TABLE tiktok.order_package IS 'The package ids of an order''s newest state (packages[] and the lines'' package_id). TikTok splits and combines packages later; the posting ledger keeps what was posted.';

-- The app role gets pii as well; the analyst's schemas do not change.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ops.access_statements(app_role text, analyst_role text)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    app_schemas  constant text := 'tiktok, sapb1, integration, ops, report, river, pii';
    read_schemas constant text := 'tiktok, sapb1, report';
BEGIN
    IF app_role IS NULL OR analyst_role IS NULL OR app_role = analyst_role THEN
        RAISE EXCEPTION 'app role and analyst role must be two different names';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app_role) THEN
        RETURN NEXT format('CREATE ROLE %I NOLOGIN', app_role);
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = analyst_role) THEN
        RETURN NEXT format('CREATE ROLE %I NOLOGIN', analyst_role);
    END IF;

    RETURN NEXT format('GRANT USAGE ON SCHEMA %s TO %I', app_schemas, app_role);
    RETURN NEXT format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %s TO %I', app_schemas, app_role);
    RETURN NEXT format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %s TO %I', app_schemas, app_role);
    RETURN NEXT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %s GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I',
                       current_user, app_schemas, app_role);
    RETURN NEXT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %s GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I',
                       current_user, app_schemas, app_role);

    RETURN NEXT format('GRANT USAGE ON SCHEMA %s TO %I', read_schemas, analyst_role);
    RETURN NEXT format('GRANT SELECT ON ALL TABLES IN SCHEMA %s TO %I', read_schemas, analyst_role);
    RETURN NEXT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %s GRANT SELECT ON TABLES TO %I',
                       current_user, read_schemas, analyst_role);
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ops.access_statements(app_role text, analyst_role text)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    app_schemas  constant text := 'tiktok, sapb1, integration, ops, report, river';
    read_schemas constant text := 'tiktok, sapb1, report';
BEGIN
    IF app_role IS NULL OR analyst_role IS NULL OR app_role = analyst_role THEN
        RAISE EXCEPTION 'app role and analyst role must be two different names';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app_role) THEN
        RETURN NEXT format('CREATE ROLE %I NOLOGIN', app_role);
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = analyst_role) THEN
        RETURN NEXT format('CREATE ROLE %I NOLOGIN', analyst_role);
    END IF;

    RETURN NEXT format('GRANT USAGE ON SCHEMA %s TO %I', app_schemas, app_role);
    RETURN NEXT format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %s TO %I', app_schemas, app_role);
    RETURN NEXT format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %s TO %I', app_schemas, app_role);
    RETURN NEXT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %s GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I',
                       current_user, app_schemas, app_role);
    RETURN NEXT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %s GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I',
                       current_user, app_schemas, app_role);

    RETURN NEXT format('GRANT USAGE ON SCHEMA %s TO %I', read_schemas, analyst_role);
    RETURN NEXT format('GRANT SELECT ON ALL TABLES IN SCHEMA %s TO %I', read_schemas, analyst_role);
    RETURN NEXT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %s GRANT SELECT ON TABLES TO %I',
                       current_user, read_schemas, analyst_role);
END
$$;
-- +goose StatementEnd
DROP TABLE tiktok.order_package;
DROP TABLE tiktok.order_line;
DROP TABLE tiktok."order";
DROP TABLE pii.order_recipient;
DROP TABLE tiktok.order_payload;
DROP FUNCTION tiktok.order_status_rank(text);
DROP SCHEMA pii;
