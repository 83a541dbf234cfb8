-- The SAP Business One governor (DESIGN.md invariant 4): one cap on
-- concurrent Service Layer requests across every process, a shared request
-- rate, adaptive back-off and a circuit breaker, all in Postgres so that any
-- number of processes (behind PgBouncer in transaction mode too) share them.
-- Code: internal/sapb1/governor; decisions: docs/decisions/0008-sapb1-governor.md.
--
-- Every change to the slots or to the shared state happens in a short
-- transaction that first locks the one row of sapb1_governor, so each
-- decision sees the previous one committed. No session state (advisory
-- locks, LISTEN) is used.

-- +goose Up
CREATE TABLE integration.sapb1_governor (
    id                   smallint         PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    max_concurrent       integer          NOT NULL CHECK (max_concurrent BETWEEN 1 AND 1000),
    priority_reserved    integer          NOT NULL CHECK (priority_reserved >= 0),
    effective_cap        integer          NOT NULL,
    rate_per_second      double precision NOT NULL CHECK (rate_per_second > 0),
    burst                double precision NOT NULL CHECK (burst >= 1),
    tokens               double precision NOT NULL CHECK (tokens >= -1),
    tokens_at            timestamptz      NOT NULL DEFAULT now(),
    good_outcomes        integer          NOT NULL DEFAULT 0 CHECK (good_outcomes >= 0),
    cap_changed_at       timestamptz      NOT NULL DEFAULT now(),
    cap_decreased_at     timestamptz,
    avg_latency_ms       double precision NOT NULL DEFAULT 0 CHECK (avg_latency_ms >= 0),
    breaker_state        text             NOT NULL DEFAULT 'closed' CHECK (breaker_state IN ('closed', 'open', 'half_open')),
    breaker_opened_at    timestamptz,
    probe_holder         text,
    probe_until          timestamptz,
    consecutive_failures integer          NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    reason               text             NOT NULL DEFAULT '',
    changed_at           timestamptz      NOT NULL DEFAULT now(),
    configured_by        text             NOT NULL DEFAULT '',
    configured_at        timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT sapb1_governor_reserved_below_cap CHECK (priority_reserved < max_concurrent),
    CONSTRAINT sapb1_governor_effective_cap CHECK (effective_cap > priority_reserved AND effective_cap <= max_concurrent),
    CONSTRAINT sapb1_governor_tokens_within_burst CHECK (tokens <= burst),
    CONSTRAINT sapb1_governor_breaker_opened CHECK ((breaker_state = 'closed') = (breaker_opened_at IS NULL)),
    CONSTRAINT sapb1_governor_probe CHECK (probe_holder IS NULL OR breaker_state = 'half_open')
);

COMMENT ON TABLE integration.sapb1_governor IS 'The shared state of the SAP Service Layer governor: its limits (written by each process at start from SAPB1_* settings), the adaptive cap, the request-rate bucket and the circuit breaker. Exactly one row.';
COMMENT ON COLUMN integration.sapb1_governor.max_concurrent IS 'Configured cap on concurrent Service Layer requests across all processes (SAPB1_MAX_CONCURRENT).';
COMMENT ON COLUMN integration.sapb1_governor.priority_reserved IS 'Slots the normal lane leaves free for the priority lane (cancellations) (SAPB1_PRIORITY_RESERVED).';
COMMENT ON COLUMN integration.sapb1_governor.effective_cap IS 'The cap in force now: halved when SAP shows stress (slow answers, 502s, timeouts, server errors), raised by one per window of good answers; between priority_reserved + 1 and max_concurrent.';
COMMENT ON COLUMN integration.sapb1_governor.rate_per_second IS 'Requests per second the bucket refills with (SAPB1_REQUESTS_PER_SECOND).';
COMMENT ON COLUMN integration.sapb1_governor.burst IS 'Bucket size: requests that may start back to back after a quiet spell.';
COMMENT ON COLUMN integration.sapb1_governor.tokens IS 'Tokens in the bucket at tokens_at; one request takes one. The priority lane may borrow one (down to -1).';
COMMENT ON COLUMN integration.sapb1_governor.good_outcomes IS 'Good answers counted since the cap last changed; reaching effective_cap raises the cap by one.';
COMMENT ON COLUMN integration.sapb1_governor.cap_decreased_at IS 'When the cap was last halved. A bad answer to a request started before it belongs to that window and halves nothing more.';
COMMENT ON COLUMN integration.sapb1_governor.avg_latency_ms IS 'Moving average of Service Layer latency (weight 0.2 for the newest answer); used to suggest when to retry.';
COMMENT ON COLUMN integration.sapb1_governor.breaker_state IS 'closed (requests flow); open (SAP looks down: nothing is sent until the cool-down ends); half_open (one probe request is out; its answer closes or reopens the breaker).';
COMMENT ON COLUMN integration.sapb1_governor.probe_holder IS 'While half_open: the acquisition (sapb1_slot.holder) that carries the probe request.';
COMMENT ON COLUMN integration.sapb1_governor.probe_until IS 'While half_open: the probe''s lease; past it, another request may probe.';
COMMENT ON COLUMN integration.sapb1_governor.consecutive_failures IS 'Requests in a row that got no answer from SAP (unreachable, timeout, 502).';
COMMENT ON COLUMN integration.sapb1_governor.reason IS 'Why the cap or the breaker last changed, for people.';
COMMENT ON COLUMN integration.sapb1_governor.configured_by IS 'The process (host, pid) that last wrote the limits.';

CREATE TABLE integration.sapb1_slot (
    slot_no     integer     PRIMARY KEY CHECK (slot_no >= 1),
    holder      text,
    holder_info text,
    lane        text        CHECK (lane IN ('normal', 'priority')),
    acquired_at timestamptz,
    lease_until timestamptz,
    CONSTRAINT sapb1_slot_held_fields CHECK (
        (holder IS NULL) = (holder_info IS NULL) AND (holder IS NULL) = (lane IS NULL)
        AND (holder IS NULL) = (acquired_at IS NULL) AND (holder IS NULL) = (lease_until IS NULL)),
    CONSTRAINT sapb1_slot_lease_after_acquire CHECK (lease_until >= acquired_at)
);

COMMENT ON TABLE integration.sapb1_slot IS 'One row per permitted concurrent Service Layer request. A slot is in use while it has a holder and its lease has not run out; a killed process''s slots free themselves when their lease ends.';
COMMENT ON COLUMN integration.sapb1_slot.holder IS 'Random token of one acquisition; only that acquisition can renew or release the slot.';
COMMENT ON COLUMN integration.sapb1_slot.holder_info IS 'Which process holds the slot (host, pid), for people.';
COMMENT ON COLUMN integration.sapb1_slot.lane IS 'normal, or priority (cancellations).';
COMMENT ON COLUMN integration.sapb1_slot.lease_until IS 'The slot frees itself at this time unless renewed: the Service Layer request timeout plus a margin after acquisition.';

-- The defaults of the SAPB1_* settings, so the governor works before any
-- process has written its own configuration.
INSERT INTO integration.sapb1_governor (max_concurrent, priority_reserved, effective_cap, rate_per_second, burst, tokens, reason)
VALUES (4, 1, 4, 10, 10, 10, 'created by migration 7 with the default limits');
INSERT INTO integration.sapb1_slot (slot_no) SELECT generate_series(1, 4);

-- +goose Down
DROP TABLE integration.sapb1_slot;
DROP TABLE integration.sapb1_governor;
