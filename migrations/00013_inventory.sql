-- Inventory, SAP → TikTok, first slice (DESIGN.md "Inventory", invariants 1,
-- 5 and 9; issue 7): SAP stock (OITW) landed by full snapshots swapped in
-- only once complete, the configuration that available-to-sell needs
-- (warehouse sets, buffers) and the push ledger the computation writes its
-- diff into. The computation is queries/inventory.sql; code: internal/inventory
-- and internal/sapmaster (SnapshotStock).

-- +goose Up
ALTER TABLE sapb1.snapshot DROP CONSTRAINT snapshot_kind_check;
ALTER TABLE sapb1.snapshot ADD CONSTRAINT snapshot_kind_check CHECK (kind IN ('items', 'boms', 'warehouses', 'stock'));

CREATE TABLE sapb1.stock (
    item_code    text          NOT NULL,
    whs_code     text          NOT NULL,
    on_hand      numeric(19,6) NOT NULL,
    is_committed numeric(19,6) NOT NULL,
    on_order     numeric(19,6) NOT NULL DEFAULT 0,
    read_from    timestamptz   NOT NULL,
    refreshed_at timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (item_code, whs_code)
);
-- Posted orders older than every stock row's read are seen: the oldest read
-- bounds the posted orders available-to-sell looks at.
CREATE INDEX stock_read_from ON sapb1.stock (read_from);
CREATE INDEX order_posting_posted_at ON integration.order_posting (posted_at) WHERE state = 'posted';
COMMENT ON TABLE sapb1.stock IS 'SAP stock per item and warehouse (OITW), from the last complete stock snapshot.';
COMMENT ON COLUMN sapb1.stock.is_committed IS 'OITW.IsCommited (SAP''s spelling): units committed by open sales orders and other documents.';
COMMENT ON COLUMN sapb1.stock.read_from IS 'When the read this row came from started (our clock, taken before the first page was requested): every SAP document whose answer we had before this time is reflected in the row. Posted TikTok orders stop counting as pending once the item''s rows are read from after their posted_at.';
COMMENT ON COLUMN sapb1.stock.refreshed_at IS 'When the row was published.';

CREATE UNLOGGED TABLE sapb1.stock_load (
    snapshot_id  bigint        NOT NULL REFERENCES sapb1.snapshot (id) ON DELETE CASCADE,
    item_code    text          NOT NULL,
    whs_code     text          NOT NULL,
    on_hand      numeric(19,6) NOT NULL,
    is_committed numeric(19,6) NOT NULL,
    on_order     numeric(19,6) NOT NULL,
    PRIMARY KEY (snapshot_id, item_code, whs_code)
);
COMMENT ON TABLE sapb1.stock_load IS 'A stock snapshot being read, page by page; swapped into sapb1.stock only once complete.';

CREATE TABLE integration.warehouse_set (
    shop_id             text        NOT NULL CHECK (shop_id <> ''),
    tiktok_warehouse_id text        NOT NULL CHECK (tiktok_warehouse_id <> ''),
    whs_code            text        NOT NULL CHECK (whs_code <> ''),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    updated_by          text        NOT NULL DEFAULT current_user,
    PRIMARY KEY (shop_id, tiktok_warehouse_id, whs_code)
);
COMMENT ON TABLE integration.warehouse_set IS 'The SAP warehouses (OWHS.WhsCode) whose stock is counted for one TikTok warehouse of a shop: available-to-sell sums OnHand and IsCommited over them.';

CREATE TABLE integration.stock_buffer (
    item_code  text          PRIMARY KEY CHECK (item_code <> ''),
    buffer     numeric(19,6) NOT NULL CHECK (buffer >= 0),
    updated_at timestamptz   NOT NULL DEFAULT now(),
    updated_by text          NOT NULL DEFAULT current_user
);
COMMENT ON TABLE integration.stock_buffer IS 'E-commerce buffer per SAP item: units never offered on TikTok. (An SAP UDF on OITM, such as U_EcomBuffer, is a later variant.)';

CREATE TABLE integration.inventory_push (
    shop_id             text        NOT NULL,
    tiktok_warehouse_id text        NOT NULL,
    seller_sku          text        NOT NULL,
    computed_quantity   bigint      NOT NULL CHECK (computed_quantity >= 0),
    computed_at         timestamptz NOT NULL DEFAULT now(),
    sent_quantity       bigint,
    sent_at             timestamptz,
    result              text        CHECK (result IN ('ok', 'failed', 'held')),
    error               text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, tiktok_warehouse_id, seller_sku)
);
CREATE INDEX inventory_push_due ON integration.inventory_push (shop_id, tiktok_warehouse_id)
    WHERE sent_quantity IS DISTINCT FROM computed_quantity;
COMMENT ON TABLE integration.inventory_push IS 'The inventory push ledger: per shop, TikTok warehouse and seller SKU, the last available-to-sell computed and the last value sent to TikTok, when and with what result.';
COMMENT ON COLUMN integration.inventory_push.computed_quantity IS 'Available-to-sell last computed (queries/inventory.sql); written only when it changes.';
COMMENT ON COLUMN integration.inventory_push.computed_at IS 'When computed_quantity last changed.';
COMMENT ON COLUMN integration.inventory_push.sent_quantity IS 'The quantity last sent to TikTok; null = never sent.';
COMMENT ON COLUMN integration.inventory_push.result IS 'ok, failed (TikTok refused it: error), held (a push changing too many SKUs at once waits for confirmation).';

-- +goose Down
DROP INDEX integration.order_posting_posted_at;
DROP TABLE integration.inventory_push;
DROP TABLE integration.stock_buffer;
DROP TABLE integration.warehouse_set;
DROP TABLE sapb1.stock_load;
DROP TABLE sapb1.stock;
DELETE FROM sapb1.snapshot WHERE kind = 'stock';
ALTER TABLE sapb1.snapshot DROP CONSTRAINT snapshot_kind_check;
ALTER TABLE sapb1.snapshot ADD CONSTRAINT snapshot_kind_check CHECK (kind IN ('items', 'boms', 'warehouses'));
