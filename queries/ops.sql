-- Exceptions and sync runs (ops schema).

-- name: RaiseException :one
-- Opens an exception, or counts another occurrence of the live one for the
-- same kind and entity (keeping an ignored one ignored).
INSERT INTO ops.exception (
    kind, owner_team, severity, shop_id, order_id, sku, item_code, doc_type, doc_entry, message, details
) VALUES (
    @kind, @owner_team, @severity, sqlc.narg(shop_id), sqlc.narg(order_id), sqlc.narg(sku),
    sqlc.narg(item_code), sqlc.narg(doc_type), sqlc.narg(doc_entry), @message, @details
)
ON CONFLICT (kind, shop_id, order_id, sku, item_code, doc_type, doc_entry) WHERE status <> 'resolved'
DO UPDATE SET
    owner_team   = excluded.owner_team,
    severity     = excluded.severity,
    message      = excluded.message,
    details      = excluded.details,
    last_seen_at = greatest(ops.exception.last_seen_at, excluded.last_seen_at),
    occurrences  = ops.exception.occurrences + 1
RETURNING *;

-- name: ResolveException :one
-- Resolves one live exception by id, as a person or as the flow whose cause cleared.
UPDATE ops.exception
SET status = 'resolved', resolved_at = now(), resolved_by = @resolved_by::text, resolution = @resolution::text
WHERE id = @id AND status <> 'resolved'
RETURNING *;

-- name: ResolveShopExceptions :many
-- Resolves the live exceptions of the given kinds for the given shops, when
-- their cause cleared (e.g. the shop was authorised again). Ignored ones are
-- resolved too: the cause is gone, and a recurrence must open a new row
-- rather than count on an ignored one.
UPDATE ops.exception
SET status = 'resolved', resolved_at = now(), resolved_by = @resolved_by::text, resolution = @resolution::text
WHERE status <> 'resolved'
  AND kind = ANY (@kinds::text[])
  AND shop_id = ANY (@shop_ids::text[])
RETURNING *;

-- name: IgnoreException :one
UPDATE ops.exception
SET status = 'ignored', resolved_by = @ignored_by::text, resolution = @reason::text
WHERE id = @id AND status = 'open'
RETURNING *;

-- name: GetException :one
SELECT * FROM ops.exception WHERE id = @id;

-- name: ListOpenExceptions :many
-- The work queue of one team (or every team when owner_team is null), newest first.
SELECT * FROM ops.exception
WHERE status = 'open'
  AND (sqlc.narg(owner_team)::text IS NULL OR owner_team = sqlc.narg(owner_team))
ORDER BY last_seen_at DESC, id DESC
LIMIT @max_rows;

-- name: CountOpenExceptions :many
SELECT owner_team, kind, severity, count(*) AS open
FROM ops.exception
WHERE status = 'open'
GROUP BY owner_team, kind, severity
ORDER BY owner_team, kind, severity;

-- name: StartSyncRun :one
INSERT INTO ops.sync_run (flow, scope) VALUES (@flow, @scope)
RETURNING *;

-- name: FinishSyncRun :one
-- Closes a run; a non-null error marks it failed, and its watermark is then
-- not resumed from.
UPDATE ops.sync_run
SET finished_at = greatest(now(), started_at), watermark = sqlc.narg(watermark), counts = @counts, error = sqlc.narg(error)
WHERE id = @id AND finished_at IS NULL
RETURNING *;

-- name: LastSuccessfulSyncRun :one
SELECT * FROM ops.sync_run
WHERE flow = @flow AND scope = @scope AND finished_at IS NOT NULL AND error IS NULL
ORDER BY finished_at DESC, id DESC
LIMIT 1;

-- name: PurgeSyncRuns :execrows
-- Deletes finished runs older than the cutoff, keeping each flow's last
-- successful run so its watermark survives any retention.
DELETE FROM ops.sync_run r
WHERE r.finished_at < @cutoff::timestamptz
  AND r.id NOT IN (
      SELECT DISTINCT ON (flow, scope) id
      FROM ops.sync_run
      WHERE finished_at IS NOT NULL AND error IS NULL
      ORDER BY flow, scope, finished_at DESC, id DESC
  );
