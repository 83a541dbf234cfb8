-- The staging database is split by who owns the data and who may read it
-- (DESIGN.md, "Schemas"). River's tables live in their own schema so that the
-- analyst role can be granted whole schemas without seeing the job queue.

-- +goose Up
CREATE SCHEMA tiktok;
COMMENT ON SCHEMA tiktok IS 'Landed TikTok Shop data, raw and typed. Read by analysts and flows.';
CREATE SCHEMA sapb1;
COMMENT ON SCHEMA sapb1 IS 'Landed SAP Business One snapshots and change watermarks. Read by analysts and flows.';
CREATE SCHEMA integration;
COMMENT ON SCHEMA integration IS 'Configuration (shops, mappings, warehouse sets) and the ledgers of external writes.';
CREATE SCHEMA ops;
COMMENT ON SCHEMA ops IS 'Exceptions, sync runs and the audit log, for operations.';
CREATE SCHEMA report;
COMMENT ON SCHEMA report IS 'Stable, documented views for analysts and BI tools.';
CREATE SCHEMA river;
COMMENT ON SCHEMA river IS 'River''s job queue tables, migrated with the application''s migrations.';

-- +goose Down
DROP SCHEMA river;
DROP SCHEMA report;
DROP SCHEMA ops;
DROP SCHEMA integration;
DROP SCHEMA sapb1;
DROP SCHEMA tiktok;
