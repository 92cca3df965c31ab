"""Integrity queries behind the event_results asset checks (run inside the write transaction)."""

from __future__ import annotations

import sqlalchemy as sa


def results_with_wrong_lap_count(conn: sa.Connection, event_pk: int) -> list[sa.Row]:
    """Results whose laps_completed differs from the number of lap rows stored for them."""
    return conn.execute(
        sa.text(
            """
            SELECT r.source_race_id, d.name, rr.laps_completed, count(l.lap_number) AS lap_rows
            FROM mre.race_results rr
            JOIN mre.races r USING (race_id)
            JOIN mre.drivers d USING (driver_id)
            LEFT JOIN mre.laps l USING (race_result_id)
            WHERE r.event_id = :event_pk
            GROUP BY r.source_race_id, d.name, rr.race_result_id, rr.laps_completed
            HAVING rr.laps_completed <> count(l.lap_number)
            LIMIT 20
            """
        ),
        {"event_pk": event_pk},
    ).all()


def results_with_bad_laps(conn: sa.Connection, event_pk: int) -> list[sa.Row]:
    """Results of one event whose stored laps are not numbered 1..n or sit outside the race's field.

    Scoped to the event just written (index range scans on its races), so its cost does not grow with the
    warehouse.
    """
    return conn.execute(
        sa.text(
            """
            WITH field AS (
                SELECT rr.race_id, count(*) AS drivers
                FROM mre.race_results rr JOIN mre.races r USING (race_id)
                WHERE r.event_id = :event_pk GROUP BY rr.race_id
            )
            SELECT r.source_race_id, d.name, count(l.lap_number) AS lap_rows,
                   max(l.lap_number) AS last_lap, max(l.position) AS worst_position, f.drivers
            FROM mre.race_results rr
            JOIN mre.races r USING (race_id)
            JOIN field f USING (race_id)
            JOIN mre.drivers d USING (driver_id)
            JOIN mre.laps l USING (race_result_id)
            WHERE r.event_id = :event_pk
            GROUP BY r.source_race_id, d.name, rr.race_result_id, f.drivers
            HAVING max(l.lap_number) <> count(l.lap_number) OR max(l.position) > f.drivers
            LIMIT 20
            """
        ),
        {"event_pk": event_pk},
    ).all()


def race_summaries(conn: sa.Connection, event_pk: int) -> list[sa.Row]:
    """Per race: label, drivers, laps and winner, for the run's markdown summary."""
    return conn.execute(
        sa.text(
            """
            SELECT r.source_race_id, r.section, r.race_number, r.session_label,
                   count(DISTINCT rr.race_result_id) AS drivers,
                   coalesce(sum(rr.laps_completed), 0) AS laps,
                   max(d.name) FILTER (WHERE rr.position = 1) AS winner,
                   max(rr.laps_completed) FILTER (WHERE rr.position = 1) AS winner_laps,
                   max(rr.total_time_s) FILTER (WHERE rr.position = 1) AS winner_time_s
            FROM mre.races r
            LEFT JOIN mre.race_results rr USING (race_id)
            LEFT JOIN mre.drivers d USING (driver_id)
            WHERE r.event_id = :event_pk
            GROUP BY r.race_id
            ORDER BY r.completed_at DESC NULLS LAST, r.source_race_id DESC
            """
        ),
        {"event_pk": event_pk},
    ).all()
