-- Which landed TikTok orders the last available-to-sell recompute counted
-- (issue 7, the push rule): an increase takes off TikTok's committed units
-- that no landed order explains, and a landed order explains them only once
-- a recompute has counted it (as pending, or in SAP's IsCommited). Until
-- then available-to-sell does not include it, and the push must treat its
-- units as sales that have not landed. Exact by transaction visibility, not
-- by clocks: each derived order row keeps the id of the transaction that
-- wrote it, each recompute the snapshot it read with.

-- +goose Up
ALTER TABLE tiktok."order" ADD COLUMN derived_xid xid8;
COMMENT ON COLUMN tiktok."order".derived_xid IS 'The transaction that last wrote this row from a payload (pg_current_xact_id()); null for rows written before migration 00021. The inventory push counts the order''s units as landed only if the last recompute''s snapshot (integration.inventory_recompute) saw this transaction.';

CREATE TABLE integration.inventory_recompute (
    id            boolean     PRIMARY KEY DEFAULT true CHECK (id),
    snapshot      pg_snapshot NOT NULL,
    recomputed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE integration.inventory_recompute IS 'One row: the database snapshot the last available-to-sell recompute started from (taken just before its statement, so everything it shows was counted) and when.';

-- +goose Down
DROP TABLE integration.inventory_recompute;
ALTER TABLE tiktok."order" DROP COLUMN derived_xid;
