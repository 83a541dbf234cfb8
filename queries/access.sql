-- Roles and grants (functions defined in migrations/00005_access.sql).

-- name: ApplyAccess :one
SELECT ops.apply_access(@app_role::text, @analyst_role::text)::integer AS applied;

-- name: AccessStatements :many
SELECT stmt::text FROM ops.access_statements(@app_role::text, @analyst_role::text) AS stmt;
