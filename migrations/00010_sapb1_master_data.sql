-- SAP Business One master data landed by the SQL reader (DESIGN.md,
-- "Inventory" and "Orders": validation reads SAP's item master from here).
-- A full snapshot loads into the *_load tables page by page and is swapped
-- in only once complete, in one transaction: a failed or partial read never
-- publishes (invariant 9). Between full snapshots, changed items are upserted
-- as OITM's UpdateDate+UpdateTS moves.

-- +goose Up
CREATE TABLE sapb1.snapshot (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('items', 'boms', 'warehouses')),
    status      text        NOT NULL DEFAULT 'loading' CHECK (status IN ('loading', 'complete', 'failed')),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    rows_loaded bigint      NOT NULL DEFAULT 0,
    error       text
);
COMMENT ON TABLE sapb1.snapshot IS 'Full reads of SAP master data: loading, then complete (swapped in) or failed (discarded).';

CREATE TABLE sapb1.item (
    item_code      text        PRIMARY KEY,
    item_name      text        NOT NULL DEFAULT '',
    inventory_item boolean     NOT NULL,
    sales_item     boolean     NOT NULL,
    valid          boolean     NOT NULL,
    frozen         boolean     NOT NULL,
    tree_type      text        NOT NULL DEFAULT 'N',
    update_date    date,
    update_ts      integer,
    refreshed_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE sapb1.item IS 'SAP items (OITM): what validation checks a TikTok SKU against. valid/frozen are validFor/frozenFor; tree_type S is a sales BOM (kit).';
COMMENT ON COLUMN sapb1.item.update_ts IS 'SAP''s UpdateTS, HHMMSS in the SAP server''s local time, with update_date.';

CREATE UNLOGGED TABLE sapb1.item_load (
    snapshot_id    bigint  NOT NULL REFERENCES sapb1.snapshot (id) ON DELETE CASCADE,
    item_code      text    NOT NULL,
    item_name      text    NOT NULL,
    inventory_item boolean NOT NULL,
    sales_item     boolean NOT NULL,
    valid          boolean NOT NULL,
    frozen         boolean NOT NULL,
    tree_type      text    NOT NULL,
    update_date    date,
    update_ts      integer,
    PRIMARY KEY (snapshot_id, item_code)
);

CREATE TABLE sapb1.bom_line (
    father          text          NOT NULL,
    child_num       integer       NOT NULL,
    tree_type       text          NOT NULL,
    header_quantity numeric(19,6) NOT NULL,
    component       text          NOT NULL,
    quantity        numeric(19,6) NOT NULL,
    warehouse       text          NOT NULL DEFAULT '',
    refreshed_at    timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (father, child_num)
);
COMMENT ON TABLE sapb1.bom_line IS 'Bills of materials (OITT with ITT1): father item, its type (S = sales BOM), and each component with its quantity per header_quantity of the father.';

CREATE UNLOGGED TABLE sapb1.bom_line_load (
    snapshot_id     bigint        NOT NULL REFERENCES sapb1.snapshot (id) ON DELETE CASCADE,
    father          text          NOT NULL,
    child_num       integer       NOT NULL,
    tree_type       text          NOT NULL,
    header_quantity numeric(19,6) NOT NULL,
    component       text          NOT NULL,
    quantity        numeric(19,6) NOT NULL,
    warehouse       text          NOT NULL,
    PRIMARY KEY (snapshot_id, father, child_num)
);

CREATE TABLE sapb1.warehouse (
    whs_code     text        PRIMARY KEY,
    whs_name     text        NOT NULL DEFAULT '',
    inactive     boolean     NOT NULL DEFAULT false,
    refreshed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE sapb1.warehouse IS 'SAP warehouses (OWHS).';

-- +goose Down
DROP TABLE sapb1.warehouse;
DROP TABLE sapb1.bom_line_load;
DROP TABLE sapb1.bom_line;
DROP TABLE sapb1.item_load;
DROP TABLE sapb1.item;
DROP TABLE sapb1.snapshot;
