-- The analyst role reads report views, never ops tables directly: the views
-- are the stable contract (documented in sql/ and docs/data-dictionary.md).

-- +goose Up
CREATE VIEW report.exceptions AS
SELECT id,
       kind,
       owner_team,
       severity,
       status,
       shop_id,
       order_id,
       sku,
       item_code,
       doc_type,
       doc_entry,
       message,
       first_seen_at,
       last_seen_at,
       occurrences,
       resolved_at,
       resolution,
       coalesce(resolved_at, now()) - first_seen_at AS age
FROM ops.exception;
COMMENT ON VIEW report.exceptions IS 'Every exception with its status and age; filter status = ''open'' for the work queue.';

CREATE VIEW report.sync_lag AS
SELECT flow,
       scope,
       max(finished_at) FILTER (WHERE error IS NULL)      AS last_success_at,
       now() - max(finished_at) FILTER (WHERE error IS NULL) AS lag,
       max(finished_at) FILTER (WHERE error IS NOT NULL)  AS last_failure_at,
       count(*) FILTER (WHERE finished_at IS NULL)         AS running
FROM ops.sync_run
GROUP BY flow, scope;
COMMENT ON VIEW report.sync_lag IS 'Per flow and scope: the last successful run, how long ago that was, the last failure, and runs in progress.';

-- +goose Down
DROP VIEW report.sync_lag;
DROP VIEW report.exceptions;
