-- ops.exception is the one queue where a record that cannot flow ends up
-- (DESIGN.md invariant 6). ops.sync_run records every run of a flow with the
-- watermark it reached, so lag and failures can be seen and resumed from.

-- +goose Up
CREATE TABLE ops.exception (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]*$'),
    owner_team    text        NOT NULL CHECK (owner_team IN ('operations', 'cx', 'finance', 'it')),
    severity      text        NOT NULL DEFAULT 'error' CHECK (severity IN ('info', 'warning', 'error', 'critical')),
    shop_id       text,
    order_id      text,
    sku           text,
    item_code     text,
    doc_type      text,
    doc_entry     integer,
    message       text        NOT NULL CHECK (message <> ''),
    details       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status        text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'ignored')),
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    occurrences   integer     NOT NULL DEFAULT 1 CHECK (occurrences > 0),
    resolved_at   timestamptz,
    resolved_by   text,
    resolution    text,
    CONSTRAINT exception_resolved_fields CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
    CONSTRAINT exception_seen_order CHECK (last_seen_at >= first_seen_at)
);

-- One live row per problem: raising the same kind for the same entity again
-- counts an occurrence instead of adding a row. An ignored problem stays
-- ignored when it recurs; a resolved one that recurs opens a new row.
CREATE UNIQUE INDEX exception_live_key ON ops.exception
    (kind, shop_id, order_id, sku, item_code, doc_type, doc_entry) NULLS NOT DISTINCT
    WHERE status <> 'resolved';
CREATE INDEX exception_open_by_team ON ops.exception (owner_team, last_seen_at DESC) WHERE status = 'open';
CREATE INDEX exception_order ON ops.exception (shop_id, order_id) WHERE order_id IS NOT NULL;

COMMENT ON TABLE ops.exception IS 'Records that cannot flow, with an owner team and a retry path. One live row per kind and entity.';
COMMENT ON COLUMN ops.exception.kind IS 'What went wrong, snake_case (unmapped_sku, item_inactive, cancelled_after_dispatch, ...).';
COMMENT ON COLUMN ops.exception.owner_team IS 'Who fixes it: operations, cx, finance or it.';
COMMENT ON COLUMN ops.exception.details IS 'Machine-readable context for the message; never personal data.';
COMMENT ON COLUMN ops.exception.occurrences IS 'How many times the problem was raised while this row was live.';
COMMENT ON COLUMN ops.exception.resolution IS 'How it was resolved: auto (the cause cleared) or a person''s note.';

CREATE TABLE ops.sync_run (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    flow        text        NOT NULL CHECK (flow ~ '^[a-z][a-z0-9_]*$'),
    scope       text        NOT NULL DEFAULT '',
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    watermark   text,
    counts      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    error       text,
    CONSTRAINT sync_run_finished_after_start CHECK (finished_at IS NULL OR finished_at >= started_at),
    CONSTRAINT sync_run_error_when_finished CHECK (error IS NULL OR finished_at IS NOT NULL)
);
CREATE INDEX sync_run_flow_recent ON ops.sync_run (flow, scope, started_at DESC);

COMMENT ON TABLE ops.sync_run IS 'One row per run of a flow (a poll, a snapshot, a push): when, how far, how many, and the error if it failed.';
COMMENT ON COLUMN ops.sync_run.scope IS 'What the run covered within the flow, usually a shop id; empty when the flow is global.';
COMMENT ON COLUMN ops.sync_run.watermark IS 'Where the run got to, in the flow''s own terms (an update_time, an OIVL TransSeq); the next run resumes from the last successful one.';
COMMENT ON COLUMN ops.sync_run.counts IS 'Counters of the run, e.g. {"landed": 120, "skipped": 3}.';

-- +goose Down
DROP TABLE ops.sync_run;
DROP TABLE ops.exception;
