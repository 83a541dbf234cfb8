-- Roles and grants (functions defined in migrations/00005_access.sql).

-- name: ApplyAccess :one
SELECT ops.apply_access(@app_role::text, @analyst_role::text)::integer AS applied;

-- name: AccessStatements :many
SELECT stmt::text FROM ops.access_statements(@app_role::text, @analyst_role::text) AS stmt;

-- name: LockAccess :exec
-- Serialises grants within one database: concurrent GRANTs on the same
-- objects can fail with "tuple concurrently updated".
SELECT pg_advisory_xact_lock(hashtext('tiktokb1 apply access'));
