-- Inventory push, SAP → TikTok (DESIGN.md "Inventory" push rule, invariant 9;
-- issue 7): the TikTok ids of each seller SKU, cached per shop; what each
-- ledger row's last push was based on; and the per-shop hold of a push that
-- would change too many listings at once. Code: internal/inventory/push.go,
-- jobs/push_tiktok_inventory.go.

-- +goose Up
ALTER TABLE integration.inventory_push
    ADD COLUMN basis_quantity bigint,
    ADD COLUMN attempted_at   timestamptz;
COMMENT ON COLUMN integration.inventory_push.basis_quantity IS 'The computed_quantity the last push (or refused push) was based on: the value changed since the last push when computed_quantity differs. sent_quantity can be lower (an increase capped by sales TikTok shows that have not landed yet).';
COMMENT ON COLUMN integration.inventory_push.attempted_at IS 'When a push of this row was last tried (sent_at: last accepted).';

CREATE TABLE integration.tiktok_sku (
    shop_id    text        NOT NULL CHECK (shop_id <> ''),
    seller_sku text        NOT NULL CHECK (seller_sku <> ''),
    product_id text,
    sku_id     text,
    checked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, seller_sku),
    CHECK ((product_id IS NULL) = (sku_id IS NULL))
);
COMMENT ON TABLE integration.tiktok_sku IS 'TikTok''s product and SKU id of a seller SKU in a shop, from product search; null ids: no listing has the seller SKU (looked up again an hour after checked_at).';

CREATE TABLE integration.inventory_push_hold (
    shop_id      text        PRIMARY KEY CHECK (shop_id <> ''),
    skus         integer     NOT NULL,
    listings     integer     NOT NULL,
    held_at      timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    confirmed_by text
);
COMMENT ON TABLE integration.inventory_push_hold IS 'A shop''s inventory push held because it would change more than TIKTOKB1_INVENTORY_CONFIRM_SHARE of its listings at once (invariant 9). `tiktokb1 inventory confirm` sets confirmed_at; the next push sends everything due and deletes the row.';
COMMENT ON COLUMN integration.inventory_push_hold.skus IS 'Listings the held push would change (at the last check).';
COMMENT ON COLUMN integration.inventory_push_hold.listings IS 'The shop''s listings on TikTok (at the last check).';

-- +goose Down
DROP TABLE integration.inventory_push_hold;
DROP TABLE integration.tiktok_sku;
ALTER TABLE integration.inventory_push DROP COLUMN attempted_at, DROP COLUMN basis_quantity;
