-- Configuration of the orders flow (DESIGN.md, "Shops" and "Orders"), kept in
-- the integration schema and managed with `tiktokb1 mapping import|export`.
-- Every table carries who changed it last, so an operator can tell a mapping
-- import from a hand edit.

-- +goose Up
CREATE TABLE integration.shop_config (
    shop_id              text        PRIMARY KEY CHECK (shop_id <> ''),
    card_code            text        NOT NULL CHECK (card_code <> ''),
    currency             text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    series               integer,
    default_warehouse    text        NOT NULL CHECK (default_warehouse <> ''),
    shipping_mode        text        NOT NULL DEFAULT 'freight' CHECK (shipping_mode IN ('freight', 'service_item', 'none')),
    shipping_item_code   text,
    freight_expense_code integer,
    prices_include_tax   boolean     NOT NULL DEFAULT false,
    tiktok_remits_tax    boolean     NOT NULL DEFAULT false,
    exempt_tax_code      text,
    fbt_mode             text        NOT NULL DEFAULT 'skip' CHECK (fbt_mode IN ('skip', 'warehouse')),
    fbt_warehouse        text,
    already_shipped      text        NOT NULL DEFAULT 'exception' CHECK (already_shipped IN ('post_as_shipped', 'exception')),
    cutover_at           timestamptz NOT NULL,
    extra_hold           interval    NOT NULL DEFAULT '0 seconds' CHECK (extra_hold >= '0 seconds'),
    orders_paused        boolean     NOT NULL DEFAULT false,
    inventory_paused     boolean     NOT NULL DEFAULT false,
    cancellations_paused boolean     NOT NULL DEFAULT false,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    updated_by           text        NOT NULL DEFAULT current_user,
    CONSTRAINT shop_config_shipping_item CHECK (shipping_mode <> 'service_item' OR shipping_item_code IS NOT NULL),
    CONSTRAINT shop_config_freight CHECK (shipping_mode <> 'freight' OR freight_expense_code IS NOT NULL),
    CONSTRAINT shop_config_fbt_warehouse CHECK (fbt_mode <> 'warehouse' OR fbt_warehouse IS NOT NULL),
    CONSTRAINT shop_config_exempt CHECK (NOT tiktok_remits_tax OR exempt_tax_code IS NOT NULL)
);
COMMENT ON TABLE integration.shop_config IS 'How one TikTok shop posts to SAP: customer, currency, warehouse, shipping, tax, FBT, cut-over and pause switches.';
COMMENT ON COLUMN integration.shop_config.card_code IS 'The generic SAP customer (OCRD.CardCode) every order of the shop is posted to.';
COMMENT ON COLUMN integration.shop_config.series IS 'SAP numbering series of the Sales Orders; null = the default series.';
COMMENT ON COLUMN integration.shop_config.shipping_mode IS 'freight: a document freight line (freight_expense_code); service_item: a line of shipping_item_code; none.';
COMMENT ON COLUMN integration.shop_config.tiktok_remits_tax IS 'TikTok collects and remits the sales tax (US marketplace facilitator): lines use exempt_tax_code.';
COMMENT ON COLUMN integration.shop_config.fbt_mode IS 'Orders Fulfilled By TikTok never commit SAP stock: skip them, or post them against fbt_warehouse.';
COMMENT ON COLUMN integration.shop_config.already_shipped IS 'Orders first seen already IN_TRANSIT or DELIVERED: post them as shipped, or raise an exception.';
COMMENT ON COLUMN integration.shop_config.cutover_at IS 'Orders created before this are never posted (they were keyed into SAP before go-live).';
COMMENT ON COLUMN integration.shop_config.extra_hold IS 'Wait this long after AWAITING_SHIPMENT before posting (default none).';

CREATE TABLE integration.tax_code (
    shop_id    text        NOT NULL REFERENCES integration.shop_config (shop_id) ON DELETE CASCADE,
    region     text        NOT NULL,
    tax_code   text        NOT NULL CHECK (tax_code <> ''),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text        NOT NULL DEFAULT current_user,
    PRIMARY KEY (shop_id, region)
);
COMMENT ON TABLE integration.tax_code IS 'The SAP tax code of a shop''s lines per buyer region (the region code TikTok sends; empty = any other region).';

CREATE TABLE integration.sku_map (
    shop_id    text        NOT NULL DEFAULT '',
    seller_sku text        NOT NULL CHECK (seller_sku <> ''),
    item_code  text        NOT NULL CHECK (item_code <> ''),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text        NOT NULL DEFAULT current_user,
    PRIMARY KEY (shop_id, seller_sku)
);
COMMENT ON TABLE integration.sku_map IS 'TikTok seller SKU → SAP ItemCode. Without a row, a seller SKU maps to the SAP item of the same code when one exists. shop_id empty = every shop.';

CREATE TABLE integration.bundle (
    seller_sku    text        PRIMARY KEY CHECK (seller_sku <> ''),
    mode          text        NOT NULL CHECK (mode IN ('kit', 'components')),
    kit_item_code text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text        NOT NULL DEFAULT current_user,
    CONSTRAINT bundle_kit_item CHECK ((mode = 'kit') = (kit_item_code IS NOT NULL))
);
COMMENT ON TABLE integration.bundle IS 'A TikTok SKU sold as a bundle: posted as one SAP kit item (sales BOM), or translated to component lines.';

CREATE TABLE integration.bundle_component (
    seller_sku   text          NOT NULL REFERENCES integration.bundle (seller_sku) ON DELETE CASCADE,
    item_code    text          NOT NULL CHECK (item_code <> ''),
    quantity     numeric(19,6) NOT NULL CHECK (quantity > 0),
    price_weight numeric(19,6) NOT NULL DEFAULT 1 CHECK (price_weight > 0),
    PRIMARY KEY (seller_sku, item_code)
);
COMMENT ON TABLE integration.bundle_component IS 'Components of a bundle in component mode: SAP items, quantity per bundle, and the weight the bundle''s price is allocated by (largest remainder, to the cent).';

-- +goose Down
DROP TABLE integration.bundle_component;
DROP TABLE integration.bundle;
DROP TABLE integration.sku_map;
DROP TABLE integration.tax_code;
DROP TABLE integration.shop_config;
