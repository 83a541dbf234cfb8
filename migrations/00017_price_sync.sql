-- Price sync, SAP → TikTok (DESIGN.md "Master data": prices from a configured
-- SAP price list (ITM1/OPLN), pushed when they change; issue 7): the shop's
-- price list, SAP's prices per price list, and the ledger of the last price
-- sent per shop and seller SKU. Code: internal/sapmaster/prices.go,
-- internal/pricing, jobs/push_tiktok_prices.go.

-- +goose Up
ALTER TABLE integration.shop_config ADD COLUMN price_list integer CHECK (price_list > 0);
COMMENT ON COLUMN integration.shop_config.price_list IS 'The SAP price list (OPLN.ListNum) whose ITM1 prices are the shop''s TikTok prices; null = no price sync.';

CREATE TABLE sapb1.price (
    price_list   integer       NOT NULL,
    item_code    text          NOT NULL,
    price        numeric(19,6) NOT NULL,
    currency     text          NOT NULL DEFAULT '',
    read_from    timestamptz   NOT NULL,
    refreshed_at timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (price_list, item_code)
);
COMMENT ON TABLE sapb1.price IS 'SAP item prices (ITM1) of the price lists shops use, from the last complete read of each list (a failed read changes nothing).';
COMMENT ON COLUMN sapb1.price.currency IS 'ITM1.Currency; empty = SAP''s local currency (taken as the shop''s).';
COMMENT ON COLUMN sapb1.price.read_from IS 'When the read this row came from started.';
COMMENT ON COLUMN sapb1.price.refreshed_at IS 'When the row was last written (only when its price or currency changed).';

CREATE TABLE integration.price_push (
    shop_id          text          NOT NULL CHECK (shop_id <> ''),
    seller_sku       text          NOT NULL CHECK (seller_sku <> ''),
    sent_amount      numeric(19,2),
    sent_currency    text,
    sent_at          timestamptz,
    attempted_amount numeric(19,2),
    attempted_at     timestamptz,
    result           text          CHECK (result IN ('ok', 'failed')),
    error            text,
    PRIMARY KEY (shop_id, seller_sku)
);
COMMENT ON TABLE integration.price_push IS 'The price push ledger: the last price TikTok accepted per shop and seller SKU. A price is sent when SAP''s (rounded to cents) differs from sent_amount; a refused price is not tried again until it changes.';
COMMENT ON COLUMN integration.price_push.attempted_amount IS 'The price of the last try (sent_amount: of the last accepted one).';

-- +goose Down
DROP TABLE integration.price_push;
DROP TABLE sapb1.price;
ALTER TABLE integration.shop_config DROP COLUMN price_list;
