-- The SAP Service Layer governor (migrations/00007_sapb1_governor.sql,
-- internal/sapb1/governor). Every statement that changes the slots or the
-- shared state runs in a transaction that began with GovernorLock, so the
-- decisions of all processes are serialised on the governor's one row.

-- name: GovernorLock :one
-- Locks the governor row until the transaction ends and reads it with the
-- database clock, the one clock every process shares. Slots must be counted
-- in a later statement: in READ COMMITTED that statement's snapshot includes
-- whatever the previous lock holder committed.
SELECT sqlc.embed(g), clock_timestamp()::timestamptz AS now
FROM integration.sapb1_governor g
WHERE g.id = 1
FOR UPDATE;

-- name: GovernorSlotsInUse :one
-- Slots held with a live lease, by lane.
SELECT count(*) FILTER (WHERE lane = 'normal')::integer   AS normal,
       count(*) FILTER (WHERE lane = 'priority')::integer AS priority
FROM integration.sapb1_slot
WHERE holder IS NOT NULL AND lease_until > @now::timestamptz;

-- name: GovernorTakeSlot :one
-- Takes the lowest free slot within the cap (never held, released, or its
-- lease run out). SKIP LOCKED keeps the pick from ever waiting on a row.
UPDATE integration.sapb1_slot s
SET holder = @holder::text, holder_info = @holder_info::text, lane = @lane::text,
    acquired_at = @now::timestamptz, lease_until = @lease_until::timestamptz
WHERE s.slot_no = (
    SELECT f.slot_no
    FROM integration.sapb1_slot f
    WHERE f.slot_no <= @max_slot::integer
      AND (f.holder IS NULL OR f.lease_until <= @now::timestamptz)
    ORDER BY f.slot_no
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING s.*;

-- name: GovernorFreeSlot :execrows
-- Frees a slot if this acquisition still holds it (0 rows: the lease ran out
-- and another acquisition took the slot).
UPDATE integration.sapb1_slot
SET holder = NULL, holder_info = NULL, lane = NULL, acquired_at = NULL, lease_until = NULL
WHERE slot_no = @slot_no AND holder = @holder::text;

-- name: GovernorRenewSlot :one
-- Extends the lease of a slot this acquisition holds, unless it already ran out.
UPDATE integration.sapb1_slot
SET lease_until = @lease_until::timestamptz
WHERE slot_no = @slot_no AND holder = @holder::text AND lease_until > @now::timestamptz
RETURNING lease_until;

-- name: GovernorSaveState :exec
-- Writes the governor's changing state after a decision (in the transaction
-- that locked the row).
UPDATE integration.sapb1_governor
SET effective_cap        = @effective_cap,
    tokens               = @tokens,
    tokens_at            = @tokens_at,
    good_outcomes        = @good_outcomes,
    cap_changed_at       = @cap_changed_at,
    cap_decreased_at     = sqlc.narg(cap_decreased_at),
    avg_latency_ms       = @avg_latency_ms,
    breaker_state        = @breaker_state,
    breaker_opened_at    = sqlc.narg(breaker_opened_at),
    probe_holder         = sqlc.narg(probe_holder),
    probe_until          = sqlc.narg(probe_until),
    consecutive_failures = @consecutive_failures,
    reason               = @reason,
    changed_at           = @changed_at
WHERE id = 1;

-- name: GovernorConfigure :one
-- Writes a process's limits (the last process started wins; they should all
-- share one configuration). A cap at its full configured value follows the
-- new one; a backed-off cap keeps its place within the new bounds, so a
-- restart during a back-off does not undo it. The bucket never holds more
-- than the new burst.
INSERT INTO integration.sapb1_governor AS g (
    id, max_concurrent, priority_reserved, effective_cap, rate_per_second, burst, tokens, tokens_at,
    reason, changed_at, configured_by, configured_at
) VALUES (
    1, @max_concurrent, @priority_reserved, @max_concurrent, @rate_per_second, @burst, @burst, clock_timestamp(),
    @reason, clock_timestamp(), @configured_by, clock_timestamp()
)
ON CONFLICT (id) DO UPDATE SET
    max_concurrent    = excluded.max_concurrent,
    priority_reserved = excluded.priority_reserved,
    effective_cap     = CASE
                            WHEN g.effective_cap >= g.max_concurrent THEN excluded.max_concurrent
                            ELSE least(excluded.max_concurrent, greatest(excluded.priority_reserved + 1, g.effective_cap))
                        END,
    rate_per_second   = excluded.rate_per_second,
    burst             = excluded.burst,
    tokens            = least(g.tokens, excluded.burst),
    reason            = CASE
                            WHEN (g.max_concurrent, g.priority_reserved, g.rate_per_second, g.burst)
                                 IS DISTINCT FROM (excluded.max_concurrent, excluded.priority_reserved, excluded.rate_per_second, excluded.burst)
                            THEN excluded.reason
                            ELSE g.reason
                        END,
    changed_at        = CASE
                            WHEN (g.max_concurrent, g.priority_reserved, g.rate_per_second, g.burst)
                                 IS DISTINCT FROM (excluded.max_concurrent, excluded.priority_reserved, excluded.rate_per_second, excluded.burst)
                            THEN excluded.changed_at
                            ELSE g.changed_at
                        END,
    configured_by     = excluded.configured_by,
    configured_at     = excluded.configured_at
RETURNING *;

-- name: GovernorAddSlots :execrows
-- Creates the slots 1..max_concurrent that do not exist yet.
INSERT INTO integration.sapb1_slot (slot_no)
SELECT generate_series(1, @max_concurrent::integer)
ON CONFLICT (slot_no) DO NOTHING;

-- name: GovernorRemoveSpareSlots :execrows
-- Deletes slots above the cap that nobody holds. A held one stays (and keeps
-- counting against the cap) until it is released or its lease runs out.
DELETE FROM integration.sapb1_slot
WHERE slot_no > @max_concurrent::integer
  AND (holder IS NULL OR lease_until <= @now::timestamptz);

-- name: GovernorState :one
-- The governor as the ops page and the metrics show it.
SELECT sqlc.embed(g),
       clock_timestamp()::timestamptz AS now,
       (SELECT count(*) FROM integration.sapb1_slot s
        WHERE s.lane = 'normal' AND s.lease_until > clock_timestamp())::integer AS normal_in_use,
       (SELECT count(*) FROM integration.sapb1_slot s
        WHERE s.lane = 'priority' AND s.lease_until > clock_timestamp())::integer AS priority_in_use
FROM integration.sapb1_governor g
WHERE g.id = 1;

-- name: GovernorSlots :many
-- Every slot, held or not, for the ops page.
SELECT * FROM integration.sapb1_slot ORDER BY slot_no;
