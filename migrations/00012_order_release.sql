-- The release gate and patching of posted Sales Orders (DESIGN.md "Orders",
-- "Release gate", "Cancellations": line-level cancellations patch the Sales
-- Order). Code: internal/posting/release.go and patch.go,
-- jobs/release_orders.go, jobs/patch_order.go; queries/orders_release.sql;
-- decision: docs/decisions/0013-release-and-patch.md.

-- +goose Up
ALTER TABLE integration.order_posting
    ADD COLUMN release_checked_at  timestamptz,
    ADD COLUMN release_hold        text,
    ADD COLUMN release_approved_at timestamptz,
    ADD COLUMN released_at         timestamptz,
    ADD COLUMN patch_queued_at     timestamptz,
    ADD COLUMN patched_at          timestamptz,
    ADD COLUMN address_hash        text,
    ADD COLUMN address_changed_at  timestamptz;

-- The release job reads the posted orders not released yet.
CREATE INDEX order_posting_unreleased ON integration.order_posting (shop_id, posted_at)
    WHERE state = 'posted' AND released_at IS NULL;

COMMENT ON COLUMN integration.order_posting.release_checked_at IS 'When the release job last checked the order against TikTok (one batched order detail call per shop).';
COMMENT ON COLUMN integration.order_posting.release_hold IS 'Why the last check did not release the order (a pending cancellation request, cancelled, not awaiting shipment, not found); null once approved.';
COMMENT ON COLUMN integration.order_posting.release_approved_at IS 'When TikTok confirmed the order shippable with no pending cancellation request: patch_order then sets the release UDF (U_TikTokRelease = Y) in SAP.';
COMMENT ON COLUMN integration.order_posting.released_at IS 'When SAP accepted the release (U_TikTokRelease = Y): the warehouse may pick it from then on.';
COMMENT ON COLUMN integration.order_posting.patch_queued_at IS 'When a patch_order job was last queued because the landed order no longer matches the posted lines (units cancelled on TikTok).';
COMMENT ON COLUMN integration.order_posting.patched_at IS 'When the Sales Order''s lines were last patched to follow TikTok.';
COMMENT ON COLUMN integration.order_posting.address_hash IS 'md5 of the buyer''s address as last seen for a posted order (the Sales Order carries no address from us; a change is only noted).';
COMMENT ON COLUMN integration.order_posting.address_changed_at IS 'When the buyer''s address of a posted order last changed on TikTok (webhook 3).';

-- +goose Down
DROP INDEX integration.order_posting_unreleased;
ALTER TABLE integration.order_posting
    DROP COLUMN release_checked_at,
    DROP COLUMN release_hold,
    DROP COLUMN release_approved_at,
    DROP COLUMN released_at,
    DROP COLUMN patch_queued_at,
    DROP COLUMN patched_at,
    DROP COLUMN address_hash,
    DROP COLUMN address_changed_at;
