"""What a second source publishes that LiveRC does not: venues, UTC instants, heat paths, lead-in times.

Everlaps has no track catalogue: each event names its venue, which becomes a track row (slug derived from
the map link's coordinates) with its organiser and coordinates. Its event dates are UTC instants, a heat is
addressed by its path in the results tree, and heats that count the run from the grid to the line publish
totals that include it. Every column is nullable and LiveRC leaves it NULL; comments that said "LiveRC"
now say "the source".

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE mre.tracks
    ADD COLUMN organiser text,
    ADD COLUMN latitude numeric CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude numeric CHECK (longitude BETWEEN -180 AND 180);
COMMENT ON TABLE mre.tracks IS 'Every track of a source: LiveRC''s catalogue (tracks that vanish from it are marked inactive, never deleted), and the venues of ingested events for sources without a catalogue (Everlaps).';
COMMENT ON COLUMN mre.tracks.organiser IS 'The club that runs the venue, as the source last published it (sources without a catalogue).';
COMMENT ON COLUMN mre.tracks.latitude IS 'WGS84 degrees as published in the source''s map link; an Everlaps venue''s slug is derived from them.';

ALTER TABLE mre.events
    ADD COLUMN starts_at_utc timestamptz,
    ADD COLUMN ends_at_utc timestamptz,
    ADD CONSTRAINT events_instants_ordered CHECK (ends_at_utc >= starts_at_utc);
COMMENT ON COLUMN mre.events.start_time IS 'Track-local start time as the source printed it; NULL when it printed none (LiveRC 00:00:00) or publishes UTC instants instead.';
COMMENT ON COLUMN mre.events.starts_at_utc IS 'The exact start when the source publishes it in UTC (Everlaps); start_date/end_date are then its UTC dates.';

ALTER TABLE mre.races
    ADD COLUMN locator text,
    ADD COLUMN lead_in_counted boolean;
COMMENT ON COLUMN mre.races.completed_at IS 'Track-local wall clock as the source printed it; no time zone.';
COMMENT ON COLUMN mre.races.locator IS 'Where the source keeps the race when its id alone cannot address it (Everlaps: the heat''s results path, 7303/1/1/2).';
COMMENT ON COLUMN mre.races.lead_in_counted IS 'True when the published totals include the run from the grid to the line before lap 1 (Everlaps countfirstlap); NULL when the source has no such rule.';

ALTER TABLE mre.race_results
    ADD COLUMN lead_in_time_s numeric(12, 3) CHECK (lead_in_time_s >= 0),
    ADD COLUMN avg_top3_s numeric(10, 3) CHECK (avg_top3_s >= 0);
COMMENT ON TABLE mre.race_results IS 'One row per driver per race. fastest_lap_s, avg_*, std_deviation_s and consistency_pct are the source''s own figures as published (LiveRC''s may leave lap 1 out); total_time_s = sum of the laps + lead_in_time_s.';
COMMENT ON COLUMN mre.race_results.lead_in_time_s IS 'Time before lap 1 that the published total includes (the run from the grid to the line, when the race counts it); NULL when the total is the laps alone.';

COMMENT ON TABLE mre.laps IS 'Every timed lap. The crossing that starts lap 1 (LiveRC''s lap 0 grid marker, Everlaps'' first crossing) is never a lap: see race_results.grid_position and lead_in_time_s.';
COMMENT ON TABLE mre.event_entries IS 'Entry list of an ingested event: names and transponders only (no driver ids); LiveRC only so far.';
"""

DOWNGRADE = """
COMMENT ON TABLE mre.event_entries IS 'Entry list of an ingested event: names and transponders only (LiveRC gives no driver ids here).';
COMMENT ON TABLE mre.laps IS 'Every timed lap (LiveRC lap 0, the grid marker, is not a lap: see race_results.grid_position).';
COMMENT ON TABLE mre.race_results IS 'One row per driver per race. fastest_lap_s, avg_*, std_deviation_s and consistency_pct are LiveRC''s own figures as published (they may leave lap 1 out).';
ALTER TABLE mre.race_results DROP COLUMN avg_top3_s, DROP COLUMN lead_in_time_s;
COMMENT ON COLUMN mre.races.completed_at IS 'Track-local wall clock as LiveRC printed it; no time zone.';
ALTER TABLE mre.races DROP COLUMN lead_in_counted, DROP COLUMN locator;
COMMENT ON COLUMN mre.events.start_time IS 'Track-local start time; NULL when LiveRC printed 00:00:00 (no time).';
ALTER TABLE mre.events DROP CONSTRAINT events_instants_ordered, DROP COLUMN ends_at_utc, DROP COLUMN starts_at_utc;
COMMENT ON TABLE mre.tracks IS 'Every track in the source catalogue. Tracks that vanish are marked inactive, never deleted.';
ALTER TABLE mre.tracks DROP COLUMN longitude, DROP COLUMN latitude, DROP COLUMN organiser;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
