"""Initial warehouse schema: catalogue, events, races, drivers, results, laps, entries, request queue.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE mre.tracks (
    track_id            bigserial PRIMARY KEY,
    source              text NOT NULL DEFAULT 'liverc',
    slug                text NOT NULL CHECK (slug = lower(slug) AND slug ~ '^[a-z0-9][a-z0-9-]*$'),
    name                text NOT NULL,
    activity            text,
    has_live_video      boolean NOT NULL DEFAULT false,
    featured            boolean NOT NULL DEFAULT false,
    current_event_name  text,
    last_activity_text  text,
    is_active           boolean NOT NULL DEFAULT true,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at        timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    deactivated_at      timestamptz,
    CONSTRAINT tracks_source_slug_key UNIQUE (source, slug)
);
COMMENT ON TABLE mre.tracks IS 'Every track in the source catalogue. Tracks that vanish are marked inactive, never deleted.';

CREATE TABLE mre.events (
    event_id            bigserial PRIMARY KEY,
    source              text NOT NULL DEFAULT 'liverc',
    source_event_id     bigint NOT NULL CHECK (source_event_id > 0),
    track_id            bigint NOT NULL REFERENCES mre.tracks (track_id),
    name                text NOT NULL,
    start_date          date NOT NULL,
    end_date            date NOT NULL,
    start_time          time,
    entries             integer CHECK (entries >= 0),
    drivers             integer CHECK (drivers >= 0),
    race_track          text,
    total_race_laps     integer CHECK (total_race_laps >= 0),
    ingest_depth        text NOT NULL DEFAULT 'none' CHECK (ingest_depth IN ('none', 'laps_full')),
    discovered_at       timestamptz NOT NULL DEFAULT now(),
    last_discovered_at  timestamptz NOT NULL DEFAULT now(),
    last_ingested_at    timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_source_event_key UNIQUE (source, source_event_id),
    CONSTRAINT events_dates_ordered CHECK (end_date >= start_date),
    CONSTRAINT events_ingested_has_time CHECK (ingest_depth = 'none' OR last_ingested_at IS NOT NULL)
);
CREATE INDEX events_track_dates_idx ON mre.events (track_id, start_date, end_date);
COMMENT ON COLUMN mre.events.start_time IS 'Track-local start time; NULL when LiveRC printed 00:00:00 (no time).';
COMMENT ON COLUMN mre.events.ingest_depth IS 'none = metadata from the events listing; laps_full = races, results and laps ingested.';

CREATE TABLE mre.races (
    race_id             bigserial PRIMARY KEY,
    source              text NOT NULL DEFAULT 'liverc',
    source_race_id      bigint NOT NULL CHECK (source_race_id > 0),
    event_id            bigint NOT NULL REFERENCES mre.events (event_id),
    section             text NOT NULL,
    race_number         integer NOT NULL CHECK (race_number >= 0),
    class_name          text NOT NULL,
    session_label       text NOT NULL,
    round_label         text,
    length_label        text,
    completed_at        timestamp,
    completed_text      text,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT races_source_race_key UNIQUE (source, source_race_id)
);
CREATE INDEX races_event_idx ON mre.races (event_id);
COMMENT ON COLUMN mre.races.completed_at IS 'Track-local wall clock as LiveRC printed it; no time zone.';

CREATE TABLE mre.drivers (
    driver_id           bigserial PRIMARY KEY,
    source              text NOT NULL DEFAULT 'liverc',
    source_driver_id    bigint NOT NULL CHECK (source_driver_id > 0),
    name                text NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT drivers_source_driver_key UNIQUE (source, source_driver_id)
);

CREATE TABLE mre.race_results (
    race_result_id      bigserial PRIMARY KEY,
    race_id             bigint NOT NULL REFERENCES mre.races (race_id) ON DELETE CASCADE,
    driver_id           bigint NOT NULL REFERENCES mre.drivers (driver_id),
    position            integer NOT NULL CHECK (position >= 1),
    car_number          text,
    qual_position       integer CHECK (qual_position >= 1),
    grid_position       integer CHECK (grid_position >= 1),
    laps_completed      integer NOT NULL CHECK (laps_completed >= 0),
    total_time_s        numeric(12, 3) CHECK (total_time_s >= 0),
    behind_text         text,
    fastest_lap_s       numeric(10, 3) CHECK (fastest_lap_s >= 0),
    fastest_lap_number  integer CHECK (fastest_lap_number >= 1),
    avg_lap_s           numeric(10, 3) CHECK (avg_lap_s >= 0),
    avg_top5_s          numeric(10, 3) CHECK (avg_top5_s >= 0),
    avg_top10_s         numeric(10, 3) CHECK (avg_top10_s >= 0),
    avg_top15_s         numeric(10, 3) CHECK (avg_top15_s >= 0),
    top3_consecutive_s  numeric(10, 3) CHECK (top3_consecutive_s >= 0),
    std_deviation_s     numeric(10, 3) CHECK (std_deviation_s >= 0),
    consistency_pct     numeric(6, 3) CHECK (consistency_pct >= 0),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT race_results_race_driver_key UNIQUE (race_id, driver_id),
    CONSTRAINT race_results_race_position_key UNIQUE (race_id, position) DEFERRABLE INITIALLY DEFERRED
);
COMMENT ON TABLE mre.race_results IS 'One row per driver per race. fastest_lap_s, avg_*, std_deviation_s and consistency_pct are LiveRC''s own figures as published (they may leave lap 1 out).';

CREATE TABLE mre.laps (
    race_result_id      bigint NOT NULL REFERENCES mre.race_results (race_result_id) ON DELETE CASCADE,
    lap_number          integer NOT NULL CHECK (lap_number >= 1),
    lap_time_s          numeric(10, 3) NOT NULL CHECK (lap_time_s >= 0),
    position            integer CHECK (position >= 1),
    pace                text,
    PRIMARY KEY (race_result_id, lap_number)
);
COMMENT ON TABLE mre.laps IS 'Every timed lap (LiveRC lap 0, the grid marker, is not a lap: see race_results.grid_position).';

CREATE TABLE mre.event_entries (
    event_entry_id      bigserial PRIMARY KEY,
    event_id            bigint NOT NULL REFERENCES mre.events (event_id) ON DELETE CASCADE,
    class_name          text NOT NULL,
    driver_name         text NOT NULL,
    row_number          integer CHECK (row_number >= 1),
    sort_name           text,
    transponder         text,
    class_ref           text,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT event_entries_natural_key UNIQUE (event_id, class_name, driver_name)
);
COMMENT ON TABLE mre.event_entries IS 'Entry list of an ingested event: names and transponders only (LiveRC gives no driver ids here).';

CREATE TABLE mre.ingestion_requests (
    request_id          bigserial PRIMARY KEY,
    request_type        text NOT NULL,
    track_slug          text,
    source_event_id     text,
    held_between_start  date,
    held_between_end    date,
    requested_by        text,
    force               boolean NOT NULL DEFAULT false,
    status              text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'queued', 'running', 'succeeded', 'failed', 'rejected')),
    status_detail       text,
    dagster_run_id      text,
    partition_key       text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    queued_at           timestamptz,
    started_at          timestamptz,
    finished_at         timestamptz,
    -- The web app may insert anything; only well-formed requests ever leave pending/rejected.
    CONSTRAINT ingestion_requests_type_valid CHECK (
        status IN ('pending', 'rejected') OR request_type IN ('discover_events', 'ingest_event')),
    CONSTRAINT ingestion_requests_event_id_valid CHECK (
        status IN ('pending', 'rejected') OR request_type <> 'ingest_event' OR btrim(source_event_id) ~ '^[0-9]+$'),
    CONSTRAINT ingestion_requests_reason_given CHECK (
        status NOT IN ('rejected', 'failed') OR coalesce(status_detail, '') <> '')
);
CREATE INDEX ingestion_requests_pending_idx ON mre.ingestion_requests (request_id) WHERE status = 'pending';
CREATE INDEX ingestion_requests_active_idx ON mre.ingestion_requests (status, request_id)
    WHERE status IN ('queued', 'running');
CREATE INDEX ingestion_requests_run_idx ON mre.ingestion_requests (dagster_run_id);
CREATE INDEX ingestion_requests_created_idx ON mre.ingestion_requests (created_at DESC);
COMMENT ON TABLE mre.ingestion_requests IS 'Request queue: the web app inserts rows (request_type, track_slug, source_event_id or held_between_*), the pipeline owns status, status_detail, dagster_run_id and the timestamps.';

CREATE SCHEMA IF NOT EXISTS mre_summaries;
"""

ROLES = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mre_webapp') THEN
        CREATE ROLE mre_webapp LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mre_analyst') THEN
        CREATE ROLE mre_analyst LOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA mre TO mre_webapp, mre_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA mre TO mre_webapp, mre_analyst;
REVOKE SELECT ON mre.alembic_version FROM mre_webapp;
GRANT INSERT ON mre.ingestion_requests TO mre_webapp;
GRANT USAGE ON SEQUENCE mre.ingestion_requests_request_id_seq TO mre_webapp;
GRANT USAGE ON SCHEMA mre_summaries TO mre_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA mre_summaries TO mre_analyst;
-- dbt creates the summary relations later, as the role that runs migrations: grant them up front.
ALTER DEFAULT PRIVILEGES IN SCHEMA mre_summaries GRANT SELECT ON TABLES TO mre_analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA mre GRANT SELECT ON TABLES TO mre_analyst;
"""


def upgrade() -> None:
    op.execute(SCHEMA)
    op.execute(ROLES)


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS mre_summaries CASCADE")
    for table in (
        "ingestion_requests",
        "event_entries",
        "laps",
        "race_results",
        "drivers",
        "races",
        "events",
        "tracks",
    ):
        op.execute(f"DROP TABLE IF EXISTS mre.{table} CASCADE")
