"""Events that are still running: whether an ingested event may still change, and since when; when its rows
last really changed; when a refresh was last launched.

An event's stored copy is ``complete`` once it was fetched after the event was surely over: after the end of
its last day everywhere on Earth (LiveRC dates are track-local and no time zone is stored, so the last day
may be "today" from UTC-12 to UTC+14: it is over at 12:00 UTC the day after), and at least 2 hours after a
published UTC end (Everlaps); a day later still when the source listed races without results at that fetch.
``mre.event_complete_after`` holds that rule once, for the writer, this backfill and analysts.

``results_changed_at`` moves only when an ingestion changed the event's rows (``last_ingested_at`` keeps
meaning "last fetched"); the summaries backlog reads it through a partial index over ingested events only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE FUNCTION mre.event_complete_after(end_date date, ends_at_utc timestamptz, races_pending integer)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT greatest(((end_date + 1)::timestamp AT TIME ZONE 'UTC') + interval '12 hours',
                    ends_at_utc + interval '2 hours')
           + CASE WHEN coalesce(races_pending, 0) > 0 THEN interval '24 hours' ELSE interval '0 hours' END
$$;
COMMENT ON FUNCTION mre.event_complete_after(date, timestamptz, integer) IS 'The instant after which a fetch of an event gives its final results: the end of its last day everywhere on Earth (12:00 UTC the next day), at least 2 hours after a published UTC end, plus 24 hours when races were listed without results.';

ALTER TABLE mre.events
    ADD COLUMN races_pending integer CHECK (races_pending >= 0),
    ADD COLUMN complete_after timestamptz,
    ADD COLUMN results_state text CHECK (results_state IN ('complete', 'incomplete')),
    ADD COLUMN results_state_since timestamptz,
    ADD COLUMN results_changed_at timestamptz,
    ADD COLUMN refresh_launched_at timestamptz,
    ADD COLUMN final_refresh_requested_at timestamptz;

UPDATE mre.events SET
    races_pending = 0,
    complete_after = mre.event_complete_after(end_date, ends_at_utc, 0),
    results_state = CASE WHEN last_ingested_at >= mre.event_complete_after(end_date, ends_at_utc, 0)
                         THEN 'complete' ELSE 'incomplete' END,
    results_state_since = last_ingested_at,
    results_changed_at = last_ingested_at
WHERE ingest_depth = 'laps_full';

ALTER TABLE mre.events ADD CONSTRAINT events_ingested_has_state CHECK (
    ingest_depth = 'none' OR (results_state IS NOT NULL AND results_state_since IS NOT NULL
                              AND complete_after IS NOT NULL AND results_changed_at IS NOT NULL));

-- The summaries backlog (warehouse/summary_state.py): ingested events only, oldest change first.
CREATE INDEX events_results_changed_idx ON mre.events (results_changed_at, event_id)
    WHERE results_changed_at IS NOT NULL;
-- The optional final-refresh schedule: incomplete events whose end has passed.
CREATE INDEX events_incomplete_idx ON mre.events (complete_after) WHERE results_state = 'incomplete';

COMMENT ON COLUMN mre.events.last_ingested_at IS 'When the event was last fetched and written (every ingestion, changed or not).';
COMMENT ON COLUMN mre.events.races_pending IS 'Races the source listed without results (not run yet) at the last fetch.';
COMMENT ON COLUMN mre.events.complete_after IS 'A fetch after this instant gives the final results (mre.event_complete_after).';
COMMENT ON COLUMN mre.events.results_state IS 'complete = fetched after complete_after: a request is answered from the warehouse; incomplete = the event may still change: a request fetches it again (at most once per MRE_EVENT_REFRESH_MIN_INTERVAL_S). NULL until ingested.';
COMMENT ON COLUMN mre.events.results_state_since IS 'When results_state took its current value (the fetch that set it).';
COMMENT ON COLUMN mre.events.results_changed_at IS 'When an ingestion last changed the event''s rows (races, results, laps, drivers, entries or its own metadata); the lap summaries follow it.';
COMMENT ON COLUMN mre.events.refresh_launched_at IS 'When the request sensor last launched a fetch of this already-ingested event (successful or not).';
COMMENT ON COLUMN mre.events.final_refresh_requested_at IS 'When the optional final-refresh schedule asked for this event once after it ended.';
"""

DOWNGRADE = """
COMMENT ON COLUMN mre.events.last_ingested_at IS NULL;
DROP INDEX mre.events_incomplete_idx;
DROP INDEX mre.events_results_changed_idx;
ALTER TABLE mre.events DROP CONSTRAINT events_ingested_has_state,
    DROP COLUMN final_refresh_requested_at,
    DROP COLUMN refresh_launched_at,
    DROP COLUMN results_changed_at,
    DROP COLUMN results_state_since,
    DROP COLUMN results_state,
    DROP COLUMN complete_after,
    DROP COLUMN races_pending;
DROP FUNCTION mre.event_complete_after(date, timestamptz, integer);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
