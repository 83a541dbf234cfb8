-- Flows whose last success is more than 15 minutes ago, or that never succeeded.
SELECT flow, scope, last_success_at, lag, last_failure_at, running
FROM report.sync_lag
WHERE last_success_at IS NULL OR lag > interval '15 minutes'
ORDER BY lag DESC NULLS FIRST;
