-- TikTok shops, their authorisations (tokens), OAuth states and landed
-- webhooks (migrations/00006_tiktok_shops.sql).

-- name: CreateOAuthState :one
-- Hands out a state for an authorisation link, valid for ttl_seconds.
INSERT INTO integration.oauth_state (state, expires_at)
VALUES (@state, now() + make_interval(secs => @ttl_seconds::integer))
RETURNING *;

-- name: PurgeOAuthStates :execrows
-- States are worth nothing a day after they expire.
DELETE FROM integration.oauth_state WHERE expires_at < now() - interval '1 day';

-- name: UseOAuthState :one
-- Accepts a state once, before it expires. No row: unknown, used or expired
-- (GetOAuthState says which).
UPDATE integration.oauth_state
SET used_at = now()
WHERE state = @state AND used_at IS NULL AND expires_at > now()
RETURNING *;

-- name: GetOAuthState :one
SELECT * FROM integration.oauth_state WHERE state = @state;

-- name: UpsertTikTokAuthorization :one
-- Stores a seller's authorisation from the token answer; authorising again
-- replaces the tokens and makes it active.
INSERT INTO integration.tiktok_authorization (
    open_id, seller_name, seller_base_region, user_type, granted_scopes,
    access_token_enc, access_expires_at, refresh_token_enc, refresh_expires_at
) VALUES (
    @open_id, @seller_name, @seller_base_region, @user_type, @granted_scopes::text[],
    @access_token_enc, @access_expires_at, @refresh_token_enc, @refresh_expires_at
)
ON CONFLICT (open_id) DO UPDATE SET
    seller_name        = excluded.seller_name,
    seller_base_region = excluded.seller_base_region,
    user_type          = excluded.user_type,
    granted_scopes     = excluded.granted_scopes,
    access_token_enc   = excluded.access_token_enc,
    access_expires_at  = excluded.access_expires_at,
    refresh_token_enc  = excluded.refresh_token_enc,
    refresh_expires_at = excluded.refresh_expires_at,
    status             = 'active',
    updated_at         = now()
RETURNING *;

-- name: UpsertTikTokShops :many
-- Stores the shops an authorisation covers (parallel arrays, one element per
-- shop); a shop authorised again is active again.
INSERT INTO tiktok.shop (id, open_id, name, region, seller_type, cipher, code)
SELECT unnest(@ids::text[]), @open_id::text, unnest(@names::text[]), unnest(@regions::text[]),
       unnest(@seller_types::text[]), unnest(@ciphers::text[]), unnest(@codes::text[])
ON CONFLICT (id) DO UPDATE SET
    open_id         = excluded.open_id,
    name            = excluded.name,
    region          = excluded.region,
    seller_type     = excluded.seller_type,
    cipher          = excluded.cipher,
    code            = excluded.code,
    status          = 'active',
    authorized_at   = now(),
    deauthorized_at = NULL,
    updated_at      = now()
RETURNING *;

-- name: GetTikTokShop :one
SELECT * FROM tiktok.shop WHERE id = @id;

-- name: ListTikTokShopsOfAuthorization :many
SELECT * FROM tiktok.shop WHERE open_id = @open_id ORDER BY id;

-- name: GetShopAuthorization :one
-- The authorisation that acts for a shop, with the shop's own status.
SELECT a.open_id, a.status, a.access_token_enc, a.access_expires_at, s.status AS shop_status
FROM tiktok.shop s
JOIN integration.tiktok_authorization a ON a.open_id = s.open_id
WHERE s.id = @shop_id;

-- name: LockTikTokAuthorization :one
-- Locks the authorisation row for a refresh: whoever holds it is the one
-- refresher, in any process; the others wait and then see its new token.
SELECT * FROM integration.tiktok_authorization WHERE open_id = @open_id FOR UPDATE;

-- name: SaveRefreshedTikTokTokens :exec
-- Both tokens at once: TikTok rotates the refresh token on every refresh.
UPDATE integration.tiktok_authorization
SET access_token_enc   = @access_token_enc,
    access_expires_at  = @access_expires_at,
    refresh_token_enc  = @refresh_token_enc,
    refresh_expires_at = @refresh_expires_at,
    updated_at         = now()
WHERE open_id = @open_id;

-- name: SetTikTokAuthorizationStatus :exec
UPDATE integration.tiktok_authorization
SET status = @status, updated_at = now()
WHERE open_id = @open_id AND status <> @status;

-- name: ListTikTokAuthorizationsDue :many
-- Active authorisations whose access token expires before the cutoff, the
-- most urgent first.
SELECT open_id FROM integration.tiktok_authorization
WHERE status = 'active' AND access_expires_at < @cutoff::timestamptz
ORDER BY access_expires_at, open_id;

-- name: DeauthorizeTikTokShop :one
-- Marks a shop deauthorised (webhook 6), unless it was authorised again after
-- TikTok sent the event (a late redelivery). When no active shop is left under
-- its authorisation, the authorisation is deauthorised too. No row: unknown,
-- already deauthorised, or the event is older than the last authorisation.
WITH gone AS (
    UPDATE tiktok.shop
    SET status = 'deauthorized', deauthorized_at = now(), updated_at = now()
    WHERE tiktok.shop.id = @shop_id
      AND tiktok.shop.status = 'active'
      AND (sqlc.narg(event_time)::timestamptz IS NULL OR tiktok.shop.authorized_at < sqlc.narg(event_time)::timestamptz)
    RETURNING tiktok.shop.id, tiktok.shop.open_id
), auth AS (
    UPDATE integration.tiktok_authorization a
    SET status = 'deauthorized', updated_at = now()
    FROM gone
    WHERE a.open_id = gone.open_id
      AND NOT EXISTS (
          SELECT FROM tiktok.shop o
          WHERE o.open_id = gone.open_id AND o.id <> gone.id AND o.status = 'active'
      )
    RETURNING a.open_id
)
SELECT gone.id, gone.open_id, EXISTS (SELECT FROM auth) AS authorization_deauthorized FROM gone;

-- name: InsertWebhookEvent :one
-- Lands a verified webhook. No row: TikTok delivered this notification before.
INSERT INTO tiktok.webhook_event (notification_id, type, shop_id, event_time, body, body_json)
VALUES (@notification_id, @type, sqlc.narg(shop_id), sqlc.narg(event_time), @body, sqlc.narg(body_json))
ON CONFLICT (notification_id) DO NOTHING
RETURNING id;

-- name: LockWebhookEvent :one
-- The event for its processing job; the lock serialises two runs of it.
SELECT * FROM tiktok.webhook_event WHERE id = @id FOR UPDATE;

-- name: FinishWebhookEvent :exec
-- Marks an event processed, with the error that ended it for good, if any.
UPDATE tiktok.webhook_event
SET processed_at = now(), process_error = sqlc.narg(process_error)
WHERE id = @id;

-- name: NoteWebhookEventError :exec
-- Records why an attempt failed; the job is retried, so it stays pending.
UPDATE tiktok.webhook_event
SET process_error = @process_error
WHERE id = @id AND processed_at IS NULL;

-- name: ListActiveTikTokShops :many
SELECT id, name, cipher FROM tiktok.shop WHERE status = 'active' ORDER BY id;
