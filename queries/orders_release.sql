-- The release gate and patching of posted Sales Orders
-- (migrations/00012_order_release.sql, internal/posting/release.go and
-- patch.go; docs/decisions/0013-release-and-patch.md). Order keys travel as
-- two parallel arrays (shop_ids, order_ids).

-- name: ReleaseCandidates :many
-- Posted Sales Orders still on hold whose release is due (posted at least
-- release_delay_seconds ago), with their shop's cipher for the batched
-- TikTok check: those not approved yet, and those approved whose release
-- did not reach SAP within stale_after_seconds (a patch_order job lost).
-- Orders with a cancellation handed on are the cancellation flow's.
SELECT p.shop_id, p.order_id, s.cipher, s.status AS shop_status
FROM integration.order_posting p
JOIN tiktok.shop s ON s.id = p.shop_id
WHERE p.state = 'posted' AND p.released_at IS NULL
  AND p.cancel_seen_at IS NULL AND p.cancel_result IS NULL AND p.doc_entry IS NOT NULL
  AND p.posted_at <= now() - make_interval(secs => @release_delay_seconds::float8)
  AND (p.release_approved_at IS NULL OR p.release_approved_at < now() - make_interval(secs => @stale_after_seconds::float8))
ORDER BY p.shop_id, p.posted_at, p.order_id
LIMIT @max_rows;

-- name: ApproveReleases :many
-- TikTok confirmed these orders shippable with no pending cancellation
-- request: approved for release (the caller enqueues patch_order for the
-- returned ones in the same transaction).
UPDATE integration.order_posting p
SET release_approved_at = now(), release_checked_at = now(), release_hold = NULL
FROM (SELECT unnest(@shop_ids::text[]) AS shop_id, unnest(@order_ids::text[]) AS order_id) k
WHERE p.shop_id = k.shop_id AND p.order_id = k.order_id
  AND p.state = 'posted' AND p.released_at IS NULL AND p.cancel_seen_at IS NULL AND p.cancel_result IS NULL
RETURNING p.shop_id, p.order_id;

-- name: HoldReleases :exec
-- The check did not release these orders: why, for people.
-- holds: [{shop_id, order_id, hold}].
UPDATE integration.order_posting p
SET release_checked_at = now(), release_hold = h.hold, release_approved_at = NULL
FROM jsonb_to_recordset(@holds::jsonb) AS h(shop_id text, order_id text, hold text)
WHERE p.shop_id = h.shop_id AND p.order_id = h.order_id AND p.released_at IS NULL;

-- name: QueuePatches :many
-- Posted Sales Orders that no longer match their TikTok order: a unit the
-- ledger's lines carry is cancelled on TikTok now (a line-level
-- cancellation). Only orders whose landed state is newer than the posting
-- (or than the last patch queued) are looked at, plus those queued longer
-- than stale_after_seconds ago without being patched (a lost job, a PATCH
-- SAP refused). Marked queued now; the caller enqueues patch_order for the
-- returned ones in the same transaction.
UPDATE integration.order_posting p
SET patch_queued_at = now()
WHERE (p.shop_id, p.order_id) IN (
    SELECT x.shop_id, x.order_id
    FROM integration.order_posting x
    JOIN tiktok."order" o ON o.shop_id = x.shop_id AND o.order_id = x.order_id
    WHERE x.state = 'posted' AND x.cancel_seen_at IS NULL AND x.cancel_result IS NULL AND x.doc_entry IS NOT NULL
      AND o.status <> 'CANCELLED'
      AND (o.derived_at >= coalesce(x.patch_queued_at, x.posting_started_at, x.posted_at)
           OR x.patch_queued_at < now() - make_interval(secs => @stale_after_seconds::float8))
      AND EXISTS (
          SELECT FROM jsonb_array_elements(coalesce(x.lines, '[]'::jsonb)) AS pl(line)
          CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(pl.line -> 'tiktok_line_ids', '[]'::jsonb)) AS li(line_id)
          JOIN tiktok.order_line l ON l.shop_id = x.shop_id AND l.order_id = x.order_id AND l.line_id = li.line_id
          WHERE l.display_status = 'CANCELLED')
    ORDER BY x.shop_id, x.order_id
    LIMIT @max_rows
    FOR UPDATE OF x SKIP LOCKED
)
RETURNING p.shop_id, p.order_id;

-- name: NoteAddressChanges :many
-- Notes the buyer's address of posted orders whose landed state is newer
-- than the posting: the first sighting records it, a different one later is
-- a change (webhook 3). The Sales Order carries no address from us, so
-- nothing is patched; the returned changes are logged.
UPDATE integration.order_posting p
SET address_hash = a.h,
    address_changed_at = CASE WHEN p.address_hash IS NULL THEN p.address_changed_at ELSE now() END
FROM (
    SELECT x.shop_id, x.order_id, md5(r.recipient_address::text) AS h
    FROM integration.order_posting x
    JOIN tiktok."order" o ON o.shop_id = x.shop_id AND o.order_id = x.order_id
    JOIN pii.order_recipient r ON r.shop_id = x.shop_id AND r.order_id = x.order_id
    WHERE x.state = 'posted' AND r.recipient_address IS NOT NULL
      AND o.derived_at >= coalesce(x.posting_started_at, x.posted_at)
      AND x.address_hash IS DISTINCT FROM md5(r.recipient_address::text)
    ORDER BY x.shop_id, x.order_id
    LIMIT @max_rows
    FOR UPDATE OF x SKIP LOCKED
) a
WHERE p.shop_id = a.shop_id AND p.order_id = a.order_id
RETURNING p.shop_id, p.order_id, p.doc_entry, p.address_changed_at;

-- name: RecordPatch :execrows
-- SAP accepted the PATCH of a posted Sales Order: the lines (with their
-- LineNum), totals and SAP's total as they are now; released when the PATCH
-- carried the release.
UPDATE integration.order_posting
SET lines = @lines::jsonb, totals = @totals::jsonb, expected_total = @expected_total::numeric,
    tiktok_total = @tiktok_total::numeric, sap_total = sqlc.narg(sap_total)::numeric, total_check = @total_check::text,
    patched_at = CASE WHEN @lines_changed::boolean THEN now() ELSE patched_at END,
    patch_queued_at = NULL,
    released_at = CASE WHEN @released::boolean THEN coalesce(released_at, now()) ELSE released_at END,
    reason = CASE WHEN @lines_changed::boolean THEN @reason::text ELSE reason END,
    updated_at = now()
WHERE shop_id = @shop_id AND order_id = @order_id AND state = 'posted' AND doc_entry = @doc_entry::integer;

-- name: FinishPatch :exec
-- Nothing (more) to patch: the queued mark is cleared.
UPDATE integration.order_posting SET patch_queued_at = NULL WHERE shop_id = @shop_id AND order_id = @order_id;
