-- Role names are configuration (TIKTOKB1_APP_ROLE, TIKTOKB1_ANALYST_ROLE), so
-- the grants cannot be fixed SQL in a migration. These functions write them
-- once: `tiktokb1 migrate up` applies them after every migration, and where
-- the migrating user may not create roles it prints the same statements for a
-- DBA to run. Default privileges are set FOR ROLE the migrating user, who
-- creates every table, so tables added later are covered without a new grant.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION ops.access_statements(app_role text, analyst_role text)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    app_schemas  constant text := 'tiktok, sapb1, integration, ops, report, river';
    read_schemas constant text := 'tiktok, sapb1, report';
BEGIN
    IF app_role IS NULL OR analyst_role IS NULL OR app_role = analyst_role THEN
        RAISE EXCEPTION 'app role and analyst role must be two different names';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app_role) THEN
        RETURN NEXT format('CREATE ROLE %I NOLOGIN', app_role);
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = analyst_role) THEN
        RETURN NEXT format('CREATE ROLE %I NOLOGIN', analyst_role);
    END IF;

    RETURN NEXT format('GRANT USAGE ON SCHEMA %s TO %I', app_schemas, app_role);
    RETURN NEXT format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %s TO %I', app_schemas, app_role);
    RETURN NEXT format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %s TO %I', app_schemas, app_role);
    RETURN NEXT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %s GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I',
                       current_user, app_schemas, app_role);
    RETURN NEXT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %s GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I',
                       current_user, app_schemas, app_role);

    RETURN NEXT format('GRANT USAGE ON SCHEMA %s TO %I', read_schemas, analyst_role);
    RETURN NEXT format('GRANT SELECT ON ALL TABLES IN SCHEMA %s TO %I', read_schemas, analyst_role);
    RETURN NEXT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %s GRANT SELECT ON TABLES TO %I',
                       current_user, read_schemas, analyst_role);
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION ops.apply_access(app_role text, analyst_role text)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    stmt    text;
    applied integer := 0;
BEGIN
    FOR stmt IN SELECT ops.access_statements(app_role, analyst_role) LOOP
        EXECUTE stmt;
        applied := applied + 1;
    END LOOP;
    RETURN applied;
END
$$;
-- +goose StatementEnd

COMMENT ON FUNCTION ops.access_statements(text, text) IS 'The statements that create the app and analyst roles (where missing) and grant them their schemas.';
COMMENT ON FUNCTION ops.apply_access(text, text) IS 'Runs ops.access_statements; needs CREATEROLE only when a role is missing.';

-- +goose Down
DROP FUNCTION ops.apply_access(text, text);
DROP FUNCTION ops.access_statements(text, text);
