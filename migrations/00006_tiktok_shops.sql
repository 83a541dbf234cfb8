-- TikTok shop onboarding and token custody (DESIGN.md, "Shops"), and the raw
-- landing of TikTok's webhooks (invariant 2: land first, act second).
--
-- Tokens live in integration, not tiktok: the analyst role reads the whole
-- tiktok schema, and even ciphertext stays out of its reach
-- (docs/decisions/0007-tiktok-tokens-in-integration.md).

-- +goose Up
CREATE TABLE integration.tiktok_authorization (
    open_id            text        PRIMARY KEY CHECK (open_id <> ''),
    seller_name        text        NOT NULL DEFAULT '',
    seller_base_region text        NOT NULL DEFAULT '',
    user_type          integer     NOT NULL DEFAULT 0,
    granted_scopes     text[]      NOT NULL DEFAULT '{}',
    access_token_enc   bytea       NOT NULL,
    access_expires_at  timestamptz NOT NULL,
    refresh_token_enc  bytea       NOT NULL,
    refresh_expires_at timestamptz NOT NULL,
    status             text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'reauthorize', 'deauthorized')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tiktok_authorization_refresh_due ON integration.tiktok_authorization (access_expires_at)
    WHERE status = 'active';

COMMENT ON TABLE integration.tiktok_authorization IS 'One row per seller authorisation of the app (TikTok''s open_id): its tokens, encrypted, and whether it still works. One authorisation covers one or more shops (tiktok.shop).';
COMMENT ON COLUMN integration.tiktok_authorization.open_id IS 'TikTok''s id of the authorising seller account, from the token answer.';
COMMENT ON COLUMN integration.tiktok_authorization.user_type IS 'TikTok''s user_type: 0 seller, 1 creator.';
COMMENT ON COLUMN integration.tiktok_authorization.granted_scopes IS 'The API packages the seller granted (granted_scopes of the token answer).';
COMMENT ON COLUMN integration.tiktok_authorization.access_token_enc IS 'Access token, AES-256-GCM with TIKTOKB1_TOKEN_KEY: one key-version byte, the 12-byte nonce, then the ciphertext. Never stored in clear.';
COMMENT ON COLUMN integration.tiktok_authorization.access_expires_at IS 'When TikTok stops accepting the access token; it is refreshed TIKTOK_TOKEN_REFRESH_AHEAD before.';
COMMENT ON COLUMN integration.tiktok_authorization.refresh_token_enc IS 'Refresh token, encrypted like access_token_enc. TikTok rotates it on every refresh; both are saved together.';
COMMENT ON COLUMN integration.tiktok_authorization.refresh_expires_at IS 'When the refresh token expires; after it only a new authorisation by the seller helps.';
COMMENT ON COLUMN integration.tiktok_authorization.status IS 'active; reauthorize (TikTok refused the refresh token: the seller must authorise again); deauthorized (every shop of it was deauthorised).';

CREATE TABLE tiktok.shop (
    id              text        PRIMARY KEY CHECK (id <> ''),
    open_id         text        NOT NULL REFERENCES integration.tiktok_authorization (open_id),
    name            text        NOT NULL DEFAULT '',
    region          text        NOT NULL DEFAULT '',
    seller_type     text        NOT NULL DEFAULT '',
    cipher          text        NOT NULL CHECK (cipher <> ''),
    code            text        NOT NULL DEFAULT '',
    status          text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deauthorized')),
    authorized_at   timestamptz NOT NULL DEFAULT now(),
    deauthorized_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shop_deauthorized_at CHECK ((status = 'deauthorized') = (deauthorized_at IS NOT NULL))
);
CREATE INDEX shop_open_id ON tiktok.shop (open_id);

COMMENT ON TABLE tiktok.shop IS 'TikTok shops onboarded through the seller''s authorisation (/oauth/tiktok/start), as TikTok lists them.';
COMMENT ON COLUMN tiktok.shop.id IS 'TikTok''s shop id (18-19 digits, kept as text).';
COMMENT ON COLUMN tiktok.shop.open_id IS 'The authorisation whose tokens act for this shop (integration.tiktok_authorization).';
COMMENT ON COLUMN tiktok.shop.seller_type IS 'LOCAL or CROSS_BORDER.';
COMMENT ON COLUMN tiktok.shop.cipher IS 'TikTok''s shop_cipher, sent with every shop-scoped API call. Not a credential.';
COMMENT ON COLUMN tiktok.shop.code IS 'TikTok''s short shop code, as shown in Seller Center.';
COMMENT ON COLUMN tiktok.shop.status IS 'active, or deauthorized (the seller removed the app: webhook 6); its flows stop until it is authorised again.';
COMMENT ON COLUMN tiktok.shop.authorized_at IS 'When the shop was last authorised (onboarded or re-authorised).';

CREATE TABLE integration.oauth_state (
    state      text        PRIMARY KEY CHECK (state ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CONSTRAINT oauth_state_expires_after_creation CHECK (expires_at > created_at)
);

COMMENT ON TABLE integration.oauth_state IS 'The state of each authorisation link handed out (/oauth/tiktok/start); the callback accepts it once, before it expires.';
COMMENT ON COLUMN integration.oauth_state.state IS '32 random bytes, hex: ties TikTok''s callback to a link this service handed out.';
COMMENT ON COLUMN integration.oauth_state.used_at IS 'When a callback used the state; a state is accepted once.';

CREATE TABLE tiktok.webhook_event (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id text        NOT NULL UNIQUE CHECK (notification_id <> ''),
    type            integer     NOT NULL,
    shop_id         text,
    event_time      timestamptz,
    received_at     timestamptz NOT NULL DEFAULT now(),
    body            bytea       NOT NULL,
    body_json       jsonb,
    body_sha256     bytea       NOT NULL GENERATED ALWAYS AS (sha256(body)) STORED,
    processed_at    timestamptz,
    process_error   text
);
CREATE INDEX webhook_event_unprocessed ON tiktok.webhook_event (received_at) WHERE processed_at IS NULL;
CREATE INDEX webhook_event_shop_type ON tiktok.webhook_event (shop_id, type, event_time);

COMMENT ON TABLE tiktok.webhook_event IS 'Every webhook TikTok delivered with a valid signature, stored before anything acts on it. A redelivery (same tts_notification_id) is acknowledged, not stored again.';
COMMENT ON COLUMN tiktok.webhook_event.notification_id IS 'TikTok''s tts_notification_id; TikTok redelivers with the same id.';
COMMENT ON COLUMN tiktok.webhook_event.type IS 'TikTok''s webhook type: 1 order status, 3 address, 5 product status, 6 deauthorisation, 7 authorisation expiring, 11 cancellation, 12 return, ...';
COMMENT ON COLUMN tiktok.webhook_event.event_time IS 'TikTok''s timestamp of the payload (when TikTok sent it), UTC; null when absent.';
COMMENT ON COLUMN tiktok.webhook_event.received_at IS 'When this service received and stored it.';
COMMENT ON COLUMN tiktok.webhook_event.body IS 'The exact bytes received (what the signature covers).';
COMMENT ON COLUMN tiktok.webhook_event.body_json IS 'The body as jsonb for queries; null only when Postgres cannot hold it as jsonb (a \u0000 escape or invalid UTF-8). body always has it.';
COMMENT ON COLUMN tiktok.webhook_event.body_sha256 IS 'SHA-256 of body.';
COMMENT ON COLUMN tiktok.webhook_event.processed_at IS 'When the process_tiktok_webhook job finished with it (acted, or found nothing to do, or failed for good); null while pending.';
COMMENT ON COLUMN tiktok.webhook_event.process_error IS 'Why processing failed: the last error of a retry, or the permanent error of a processed event.';

-- +goose Down
DROP TABLE tiktok.webhook_event;
DROP TABLE integration.oauth_state;
DROP TABLE tiktok.shop;
DROP TABLE integration.tiktok_authorization;
