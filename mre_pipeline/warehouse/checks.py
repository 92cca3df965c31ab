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


def orphan_lap_count(conn: sa.Connection) -> int:
    """Laps whose result row is gone (the foreign key should make this impossible; prove it)."""
    return conn.exec_driver_sql(
        """
        SELECT count(*) FROM mre.laps l
        WHERE NOT EXISTS (SELECT 1 FROM mre.race_results rr WHERE rr.race_result_id = l.race_result_id)
        """
    ).scalar_one()


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
