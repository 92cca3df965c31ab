"""Write one event's races, drivers, results, laps and entries atomically and idempotently.

Everything happens on the caller's connection inside the caller's transaction, after a transaction-scoped
advisory lock on the event, so two runs can never write the same event at once and a crash leaks no lock.
Rows are upserted with ``IS DISTINCT FROM`` guards (unchanged data writes nothing) and rows that vanished
upstream are deleted, so re-ingesting converges on exactly the source's data without duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from mre_pipeline.connectors.records import EntryList, EventDetail, RaceResult
from mre_pipeline.warehouse.engine import copy_rows
from mre_pipeline.warehouse.events import track_id_for

RESULT_STAT_COLUMNS = (
    "position",
    "car_number",
    "qual_position",
    "grid_position",
    "laps_completed",
    "total_time_s",
    "behind_text",
    "fastest_lap_s",
    "fastest_lap_number",
    "avg_lap_s",
    "avg_top5_s",
    "avg_top10_s",
    "avg_top15_s",
    "top3_consecutive_s",
    "std_deviation_s",
    "consistency_pct",
)


class EventTrackMismatchError(ValueError):
    """The event already exists under another track."""


@dataclass
class TableChange:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"inserted": self.inserted, "updated": self.updated, "deleted": self.deleted}


@dataclass
class EventWriteResult:
    event_pk: int
    races: TableChange = field(default_factory=TableChange)
    drivers: TableChange = field(default_factory=TableChange)
    results: TableChange = field(default_factory=TableChange)
    laps: TableChange = field(default_factory=TableChange)
    entries: TableChange = field(default_factory=TableChange)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            name: getattr(self, name).as_dict() for name in ("races", "drivers", "results", "laps", "entries")
        }


def lock_event(conn: sa.Connection, source: str, source_event_id: int) -> None:
    """Serialise writers of one event until the end of the current transaction."""
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"{source}:event:{source_event_id}"},
    )


def _counts(rows: list[sa.Row]) -> tuple[int, int]:
    inserted = sum(1 for r in rows if r[0])
    return inserted, len(rows) - inserted


def write_event(
    conn: sa.Connection,
    detail: EventDetail,
    races: list[RaceResult],
    entry_list: EntryList | None,
) -> EventWriteResult:
    """Replace the event's race data with ``races`` (already validated) in the caller's transaction."""
    source = detail.source
    lock_event(conn, source, detail.event_id)
    track_id = track_id_for(conn, source, detail.track_slug)
    event_pk = _upsert_event(conn, detail, track_id)
    result = EventWriteResult(event_pk=event_pk)
    summaries = {r.race_id: r for r in detail.races}

    conn.exec_driver_sql(
        """
        CREATE TEMP TABLE stage_races (
            source_race_id bigint, section text, race_number integer, class_name text, session_label text,
            round_label text, length_label text, completed_at timestamp, completed_text text
        ) ON COMMIT DROP;
        CREATE TEMP TABLE stage_drivers (source_driver_id bigint, name text) ON COMMIT DROP;
        CREATE TEMP TABLE stage_results (
            source_race_id bigint, source_driver_id bigint, position integer, car_number text,
            qual_position integer, grid_position integer, laps_completed integer, total_time_s numeric,
            behind_text text, fastest_lap_s numeric, fastest_lap_number integer, avg_lap_s numeric,
            avg_top5_s numeric, avg_top10_s numeric, avg_top15_s numeric, top3_consecutive_s numeric,
            std_deviation_s numeric, consistency_pct numeric
        ) ON COMMIT DROP;
        CREATE TEMP TABLE stage_laps (
            source_race_id bigint, source_driver_id bigint, lap_number integer, lap_time_s numeric,
            position integer, pace text
        ) ON COMMIT DROP;
        """
    )
    copy_rows(
        conn,
        "stage_races",
        (
            "source_race_id",
            "section",
            "race_number",
            "class_name",
            "session_label",
            "round_label",
            "length_label",
            "completed_at",
            "completed_text",
        ),
        (
            (
                s.race_id,
                s.section,
                s.race_number,
                s.class_name,
                s.session_label,
                r.round_label,
                r.length_label,
                s.completed_at,
                s.completed_text,
            )
            for r in races
            for s in (summaries[r.race_id],)
        ),
    )
    drivers: dict[int, str] = {}
    for race in races:
        for d in race.drivers:
            drivers[d.driver_id] = d.driver_name
    copy_rows(conn, "stage_drivers", ("source_driver_id", "name"), drivers.items())
    copy_rows(
        conn,
        "stage_results",
        ("source_race_id", "source_driver_id", *RESULT_STAT_COLUMNS),
        (
            (
                race.race_id,
                d.driver_id,
                d.position,
                d.car_number,
                d.qual_position,
                d.grid_position,
                d.laps_completed,
                d.total_time_s,
                d.behind_text,
                d.fastest_lap_s,
                d.fastest_lap_number,
                d.avg_lap_s,
                d.avg_top5_s,
                d.avg_top10_s,
                d.avg_top15_s,
                d.top3_consecutive_s,
                d.std_deviation_s,
                d.consistency_pct,
            )
            for race in races
            for d in race.drivers
        ),
    )
    copy_rows(
        conn,
        "stage_laps",
        ("source_race_id", "source_driver_id", "lap_number", "lap_time_s", "position", "pace"),
        (
            (race.race_id, d.driver_id, lap.lap_number, lap.lap_time_s, lap.position, lap.pace)
            for race in races
            for d in race.drivers
            for lap in d.laps
        ),
    )
    params = {"source": source, "event_pk": event_pk}

    # Races: upsert, then drop races the event page no longer lists (cascades to results and laps).
    result.races.inserted, result.races.updated = _counts(
        conn.execute(
            sa.text(
                """
                INSERT INTO mre.races AS r (source, source_race_id, event_id, section, race_number, class_name,
                                            session_label, round_label, length_label, completed_at,
                                            completed_text)
                SELECT :source, source_race_id, :event_pk, section, race_number, class_name, session_label,
                       round_label, length_label, completed_at, completed_text
                FROM stage_races
                ON CONFLICT (source, source_race_id) DO UPDATE SET
                    event_id = excluded.event_id, section = excluded.section,
                    race_number = excluded.race_number, class_name = excluded.class_name,
                    session_label = excluded.session_label, round_label = excluded.round_label,
                    length_label = excluded.length_label, completed_at = excluded.completed_at,
                    completed_text = excluded.completed_text, updated_at = now()
                WHERE (r.event_id, r.section, r.race_number, r.class_name, r.session_label, r.round_label,
                       r.length_label, r.completed_at, r.completed_text)
                    IS DISTINCT FROM
                      (excluded.event_id, excluded.section, excluded.race_number, excluded.class_name,
                       excluded.session_label, excluded.round_label, excluded.length_label,
                       excluded.completed_at, excluded.completed_text)
                RETURNING (xmax = 0)
                """
            ),
            params,
        ).all()
    )
    result.races.deleted = conn.execute(
        sa.text(
            """
            DELETE FROM mre.races r WHERE r.event_id = :event_pk
              AND NOT EXISTS (SELECT 1 FROM stage_races s WHERE s.source_race_id = r.source_race_id)
            """
        ),
        params,
    ).rowcount

    result.drivers.inserted, result.drivers.updated = _counts(
        conn.execute(
            sa.text(
                """
                INSERT INTO mre.drivers AS d (source, source_driver_id, name)
                SELECT :source, source_driver_id, name FROM stage_drivers
                ON CONFLICT (source, source_driver_id) DO UPDATE SET name = excluded.name, updated_at = now()
                WHERE d.name IS DISTINCT FROM excluded.name
                RETURNING (xmax = 0)
                """
            ),
            params,
        ).all()
    )

    # Results keyed by (race, driver); a driver removed upstream loses their row (and laps).
    stat_cols = ", ".join(RESULT_STAT_COLUMNS)
    set_cols = ", ".join(f"{c} = excluded.{c}" for c in RESULT_STAT_COLUMNS)
    old_tuple = ", ".join(f"rr.{c}" for c in RESULT_STAT_COLUMNS)
    new_tuple = ", ".join(f"excluded.{c}" for c in RESULT_STAT_COLUMNS)
    result.results.deleted = conn.execute(
        sa.text(
            """
            DELETE FROM mre.race_results rr USING mre.races r, mre.drivers d
            WHERE rr.race_id = r.race_id AND rr.driver_id = d.driver_id AND r.event_id = :event_pk
              AND NOT EXISTS (SELECT 1 FROM stage_results s
                              WHERE s.source_race_id = r.source_race_id AND s.source_driver_id = d.source_driver_id)
            """
        ),
        params,
    ).rowcount
    result.results.inserted, result.results.updated = _counts(
        conn.execute(
            sa.text(
                f"""
                INSERT INTO mre.race_results AS rr (race_id, driver_id, {stat_cols})
                SELECT r.race_id, d.driver_id, {", ".join("s." + c for c in RESULT_STAT_COLUMNS)}
                FROM stage_results s
                JOIN mre.races r ON r.source = :source AND r.source_race_id = s.source_race_id
                JOIN mre.drivers d ON d.source = :source AND d.source_driver_id = s.source_driver_id
                ON CONFLICT (race_id, driver_id) DO UPDATE SET {set_cols}, updated_at = now()
                WHERE ({old_tuple}) IS DISTINCT FROM ({new_tuple})
                RETURNING (xmax = 0)
                """
            ),
            params,
        ).all()
    )

    # Resolve lap keys through the event's few hundred results (a small, analysed table), not through a
    # join over freshly written tables whose statistics the planner does not have yet.
    conn.exec_driver_sql(
        """
        CREATE TEMP TABLE stage_result_keys ON COMMIT DROP AS
        SELECT r.source_race_id, d.source_driver_id, rr.race_result_id
        FROM mre.race_results rr
        JOIN mre.races r USING (race_id)
        JOIN mre.drivers d USING (driver_id)
        WHERE r.event_id = %(event_pk)s;
        ANALYZE stage_result_keys;
        CREATE TEMP TABLE stage_lap_keys ON COMMIT DROP AS
        SELECT k.race_result_id, s.lap_number, s.lap_time_s, s.position, s.pace
        FROM stage_laps s
        JOIN stage_result_keys k USING (source_race_id, source_driver_id);
        ANALYZE stage_lap_keys;
        """,
        {"event_pk": event_pk},
    )
    result.laps.deleted = conn.execute(
        sa.text(
            """
            DELETE FROM mre.laps l USING mre.race_results rr, mre.races r
            WHERE l.race_result_id = rr.race_result_id AND rr.race_id = r.race_id AND r.event_id = :event_pk
              AND NOT EXISTS (SELECT 1 FROM stage_lap_keys k
                              WHERE k.race_result_id = l.race_result_id AND k.lap_number = l.lap_number)
            """
        ),
        params,
    ).rowcount
    result.laps.inserted, result.laps.updated = _counts(
        conn.exec_driver_sql(
            """
            INSERT INTO mre.laps AS l (race_result_id, lap_number, lap_time_s, position, pace)
            SELECT race_result_id, lap_number, lap_time_s, position, pace FROM stage_lap_keys
            ON CONFLICT (race_result_id, lap_number) DO UPDATE SET
                lap_time_s = excluded.lap_time_s, position = excluded.position, pace = excluded.pace
            WHERE (l.lap_time_s, l.position, l.pace) IS DISTINCT FROM
                  (excluded.lap_time_s, excluded.position, excluded.pace)
            RETURNING (xmax = 0)
            """
        ).all()
    )

    if entry_list is not None and entry_list.entries:
        result.entries = _replace_entries(conn, event_pk, entry_list)
    return result


def _upsert_event(conn: sa.Connection, detail: EventDetail, track_id: int) -> int:
    row = conn.execute(
        sa.text(
            """
            INSERT INTO mre.events AS e (source, source_event_id, track_id, name, start_date, end_date,
                                         entries, drivers, race_track, total_race_laps, ingest_depth,
                                         last_ingested_at)
            VALUES (:source, :event_id, :track_id, :name, :start_date, :end_date, :entries, :drivers,
                    :race_track, :total_race_laps, 'laps_full', now())
            ON CONFLICT (source, source_event_id) DO UPDATE SET
                name = excluded.name,
                start_date = coalesce(excluded.start_date, e.start_date),
                end_date = coalesce(excluded.end_date, e.end_date),
                entries = coalesce(excluded.entries, e.entries),
                drivers = coalesce(excluded.drivers, e.drivers),
                race_track = coalesce(excluded.race_track, e.race_track),
                total_race_laps = coalesce(excluded.total_race_laps, e.total_race_laps),
                ingest_depth = 'laps_full',
                last_ingested_at = now(),
                updated_at = now()
            RETURNING event_id, track_id
            """
        ),
        {
            "source": detail.source,
            "event_id": detail.event_id,
            "track_id": track_id,
            "name": detail.name,
            "start_date": detail.start_date,
            "end_date": detail.end_date or detail.start_date,
            "entries": detail.entries,
            "drivers": detail.drivers,
            "race_track": detail.race_track,
            "total_race_laps": detail.total_race_laps,
        },
    ).one()
    if row.track_id != track_id:
        raise EventTrackMismatchError(
            f"event {detail.event_id} belongs to another track in the warehouse, not {detail.track_slug!r}"
        )
    return int(row.event_id)


def _replace_entries(conn: sa.Connection, event_pk: int, entry_list: EntryList) -> TableChange:
    change = TableChange()
    conn.exec_driver_sql(
        """
        CREATE TEMP TABLE stage_entries (
            class_name text, driver_name text, row_number integer, sort_name text, transponder text,
            class_ref text
        ) ON COMMIT DROP
        """
    )
    copy_rows(
        conn,
        "stage_entries",
        ("class_name", "driver_name", "row_number", "sort_name", "transponder", "class_ref"),
        (
            (e.class_name, e.driver_name, e.row_number, e.sort_name, e.transponder, e.class_ref)
            for e in entry_list.entries
        ),
    )
    change.deleted = conn.execute(
        sa.text(
            """
            DELETE FROM mre.event_entries x WHERE x.event_id = :event_pk AND NOT EXISTS (
                SELECT 1 FROM stage_entries s WHERE s.class_name = x.class_name AND s.driver_name = x.driver_name)
            """
        ),
        {"event_pk": event_pk},
    ).rowcount
    change.inserted, change.updated = _counts(
        conn.execute(
            sa.text(
                """
                INSERT INTO mre.event_entries AS x (event_id, class_name, driver_name, row_number, sort_name,
                                                    transponder, class_ref)
                SELECT DISTINCT ON (class_name, driver_name) :event_pk, class_name, driver_name, row_number,
                       sort_name, transponder, class_ref
                FROM stage_entries ORDER BY class_name, driver_name, row_number
                ON CONFLICT (event_id, class_name, driver_name) DO UPDATE SET
                    row_number = excluded.row_number, sort_name = excluded.sort_name,
                    transponder = excluded.transponder, class_ref = excluded.class_ref, updated_at = now()
                WHERE (x.row_number, x.sort_name, x.transponder, x.class_ref) IS DISTINCT FROM
                      (excluded.row_number, excluded.sort_name, excluded.transponder, excluded.class_ref)
                RETURNING (xmax = 0)
                """
            ),
            {"event_pk": event_pk},
        ).all()
    )
    return change


def event_row_counts(conn: sa.Connection, source: str, source_event_id: int) -> dict[str, int]:
    """How many races, results, laps and entries the warehouse holds for an event."""
    row = conn.execute(
        sa.text(
            """
            SELECT
              (SELECT count(*) FROM mre.races r WHERE r.event_id = e.event_id) AS races,
              (SELECT count(*) FROM mre.race_results rr JOIN mre.races r USING (race_id)
                 WHERE r.event_id = e.event_id) AS results,
              (SELECT count(*) FROM mre.laps l JOIN mre.race_results rr USING (race_result_id)
                 JOIN mre.races r USING (race_id) WHERE r.event_id = e.event_id) AS laps,
              (SELECT count(*) FROM mre.event_entries x WHERE x.event_id = e.event_id) AS entries
            FROM mre.events e WHERE e.source = :s AND e.source_event_id = :id
            """
        ),
        {"s": source, "id": source_event_id},
    ).one_or_none()
    if row is None:
        return {"races": 0, "results": 0, "laps": 0, "entries": 0}
    return dict(row._mapping)
