-- Products TikTok deactivated (DESIGN.md "Inventory": "products TikTok
-- deactivated → 0 / not pushed"; issue 7): each product's status per shop,
-- from webhook 5 (PRODUCT_STATUS_CHANGE) and from the product search the
-- inventory push makes. The push skips the SKUs of a deactivated product and
-- sends them again once the product is reactivated. Code:
-- jobs/process_tiktok_webhook.go, internal/inventory/push.go.

-- +goose Up
CREATE TABLE integration.tiktok_product_status (
    shop_id     text        NOT NULL CHECK (shop_id <> ''),
    product_id  text        NOT NULL CHECK (product_id <> ''),
    status      text        NOT NULL CHECK (status <> ''),
    deactivated boolean     NOT NULL GENERATED ALWAYS AS (status IN ('SELLER_DEACTIVATED', 'PLATFORM_DEACTIVATED', 'FREEZE', 'DELETED')) STORED,
    status_time timestamptz NOT NULL,
    source      text        NOT NULL CHECK (source IN ('webhook', 'search')),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, product_id)
);
COMMENT ON TABLE integration.tiktok_product_status IS 'The TikTok status of each product of a shop, as webhook 5 (PRODUCT_STATUS_CHANGE) or the latest product search showed it. The inventory push skips the SKUs of a deactivated product.';
COMMENT ON COLUMN integration.tiktok_product_status.status IS 'TikTok''s product status (ACTIVATE, SELLER_DEACTIVATED, PLATFORM_DEACTIVATED, FREEZE, DELETED, DRAFT, PENDING, FAILED, or a review status a webhook names).';
COMMENT ON COLUMN integration.tiktok_product_status.deactivated IS 'The product is SELLER_DEACTIVATED, PLATFORM_DEACTIVATED, FREEZE or DELETED: its SKUs are not pushed.';
COMMENT ON COLUMN integration.tiktok_product_status.status_time IS 'When TikTok says the status took effect (webhook update_time, else its timestamp) or when the search read it; an older event never overwrites a newer status.';
COMMENT ON COLUMN integration.tiktok_product_status.source IS 'webhook (type 5) or search (the inventory push''s product search).';

-- +goose Down
DROP TABLE integration.tiktok_product_status;
