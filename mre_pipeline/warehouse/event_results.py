"""Write one event's races, drivers, results, laps and entries atomically and idempotently, for any source.

Everything happens on the caller's connection inside the caller's transaction, after a transaction-scoped
advisory lock on the event, so two runs can never write the same event at once and a crash leaks no lock.
The event's track is a catalogue track (LiveRC) or the venue the event brings along (Everlaps), upserted in
the same transaction. Each table is COPYed into a staging table and merged with one guarded upsert
(unchanged data writes nothing); rows that vanished upstream are deleted, so re-ingesting converges on
exactly the source's data without duplicates.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter

import sqlalchemy as sa

from mre_pipeline.connectors.records import EntryList, EventDetail, RaceResult
from mre_pipeline.warehouse.catalogue import upsert_venue
from mre_pipeline.warehouse.events import track_id_for
from mre_pipeline.warehouse.staging import StageTable, guarded_upsert, inserted_and_updated

# Race columns from the event's race list (RaceSummary) and the race itself (RaceResult).
STAGE_RACES = StageTable(
    "stage_races",
    (
        ("source_race_id", "bigint"),
        ("section", "text"),
        ("race_number", "integer"),
        ("class_name", "text"),
        ("session_label", "text"),
        ("round_label", "text"),
        ("length_label", "text"),
        ("completed_at", "timestamp"),
        ("completed_text", "text"),
        ("locator", "text"),
        ("lead_in_counted", "boolean"),
    ),
)
STAGE_DRIVERS = StageTable("stage_drivers", (("source_driver_id", "bigint"), ("name", "text")))
# Result columns are named as the DriverResult fields they hold (the source's figures as published).
RESULT_COLUMNS = (
    ("position", "integer"),
    ("car_number", "text"),
    ("qual_position", "integer"),
    ("grid_position", "integer"),
    ("laps_completed", "integer"),
    ("total_time_s", "numeric"),
    ("lead_in_time_s", "numeric"),
    ("behind_text", "text"),
    ("fastest_lap_s", "numeric"),
    ("fastest_lap_number", "integer"),
    ("avg_lap_s", "numeric"),
    ("avg_top3_s", "numeric"),
    ("avg_top5_s", "numeric"),
    ("avg_top10_s", "numeric"),
    ("avg_top15_s", "numeric"),
    ("top3_consecutive_s", "numeric"),
    ("std_deviation_s", "numeric"),
    ("consistency_pct", "numeric"),
)
RESULT_VALUE_COLUMNS = tuple(column for column, _ in RESULT_COLUMNS)
STAGE_RESULTS = StageTable(
    "stage_results", (("source_race_id", "bigint"), ("source_driver_id", "bigint"), *RESULT_COLUMNS)
)
STAGE_LAPS = StageTable(
    "stage_laps",
    (
        ("source_race_id", "bigint"),
        ("source_driver_id", "bigint"),
        ("lap_number", "integer"),
        ("lap_time_s", "numeric"),
        ("position", "integer"),
        ("pace", "text"),
    ),
)
STAGE_ENTRIES = StageTable(
    "stage_entries",
    (
        ("class_name", "text"),
        ("driver_name", "text"),
        ("row_number", "integer"),
        ("sort_name", "text"),
        ("transponder", "text"),
        ("class_ref", "text"),
    ),
)


class EventTrackMismatchError(ValueError):
    """The event already exists under another catalogue track."""


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
    event_changed: bool = False  # the event's own values (name, dates, track, counts) changed
    results_state: str = "complete"  # 'complete' or 'incomplete' (the event may still change)
    complete_after: datetime | None = None  # a fetch after this instant gives the final results

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            name: getattr(self, name).as_dict() for name in ("races", "drivers", "results", "laps", "entries")
        }

    @property
    def changed(self) -> bool:
        """Did this write change anything the event's readers (and its lap summaries) see?"""
        tables = (self.races, self.drivers, self.results, self.laps, self.entries)
        return self.event_changed or any(t.inserted or t.updated or t.deleted for t in tables)


def lock_event(conn: sa.Connection, source: str, source_event_id: int) -> None:
    """Serialise writers of one event until the end of the current transaction."""
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"{source}:event:{source_event_id}"},
    )


def write_event(
    conn: sa.Connection,
    detail: EventDetail,
    races: list[RaceResult],
    entry_list: EntryList | None,
) -> EventWriteResult:
    """Replace the event's race data with ``races`` (already validated) in the caller's transaction."""
    lock_event(conn, detail.source, detail.event_id)
    result = _upsert_event(conn, detail, _event_track_id(conn, detail))
    event_pk = result.event_pk
    _stage_event_rows(conn, detail, races)
    # Order matters: results need their races and drivers, laps need their results.
    result.races = _merge_races(conn, detail.source, event_pk)
    result.drivers = _merge_drivers(conn, detail.source)
    result.results = _merge_results(conn, detail.source, event_pk)
    result.laps = _merge_laps(conn, event_pk)
    if entry_list is not None and entry_list.entries:
        result.entries = _replace_entries(conn, event_pk, entry_list)
    if result.changed:
        _stamp_results_changed(conn, event_pk)
    return result


def _event_track_id(conn: sa.Connection, detail: EventDetail) -> int:
    """The catalogue track the event belongs to, or the venue it brings along, upserted first."""
    if detail.venue is None:
        return track_id_for(conn, detail.source, detail.track_slug)
    if (detail.venue.source, detail.venue.slug) != (detail.source, detail.track_slug):
        raise ValueError(f"event {detail.event_id}'s venue {detail.venue.slug!r} is not its track")
    return upsert_venue(conn, detail.venue)


# The event's own values: a change to any of them changes what readers (and the lap summaries) see.
_EVENT_VALUES = ", ".join(
    f"e.{column}"
    for column in (
        "track_id", "name", "start_date", "end_date", "entries", "drivers", "race_track", "total_race_laps",
        "starts_at_utc", "ends_at_utc", "races_pending",
    )
)  # fmt: skip


def _upsert_event(conn: sa.Connection, detail: EventDetail, track_id: int) -> EventWriteResult:
    """Insert or refresh the event at depth ``laps_full``, with whether it may still change.

    An event with a venue follows it (a corrected map link moves the event); an event of a catalogue track
    never changes track. The state is decided by this fetch (``now()``: the transaction starts after every
    page was fetched): complete when the event was surely over (``mre.event_complete_after``), else
    incomplete. ``updated_at`` moves only when one of the event's own values changed.
    """
    row = conn.execute(
        sa.text(
            f"""
            INSERT INTO mre.events AS e (source, source_event_id, track_id, name, start_date, end_date,
                                         entries, drivers, race_track, total_race_laps, starts_at_utc,
                                         ends_at_utc, ingest_depth, last_ingested_at, races_pending,
                                         complete_after, results_state, results_state_since,
                                         results_changed_at)
            SELECT v.*, CASE WHEN now() >= v.complete_after THEN 'complete' ELSE 'incomplete' END, now(), now()
            FROM (SELECT :source, CAST(:event_id AS bigint), CAST(:track_id AS bigint), :name,
                         CAST(:start_date AS date), CAST(:end_date AS date), CAST(:entries AS integer),
                         CAST(:drivers AS integer), :race_track, CAST(:total_race_laps AS integer),
                         CAST(:starts_at_utc AS timestamptz), CAST(:ends_at_utc AS timestamptz), 'laps_full',
                         now(), CAST(:races_pending AS integer),
                         mre.event_complete_after(CAST(:end_date AS date), CAST(:ends_at_utc AS timestamptz),
                                                  CAST(:races_pending AS integer)) AS complete_after) AS v
            ON CONFLICT (source, source_event_id) DO UPDATE SET
                track_id = CASE WHEN :follows_venue THEN excluded.track_id ELSE e.track_id END,
                name = excluded.name,
                start_date = coalesce(excluded.start_date, e.start_date),
                end_date = coalesce(excluded.end_date, e.end_date),
                entries = coalesce(excluded.entries, e.entries),
                drivers = coalesce(excluded.drivers, e.drivers),
                race_track = coalesce(excluded.race_track, e.race_track),
                total_race_laps = coalesce(excluded.total_race_laps, e.total_race_laps),
                starts_at_utc = coalesce(excluded.starts_at_utc, e.starts_at_utc),
                ends_at_utc = coalesce(excluded.ends_at_utc, e.ends_at_utc),
                races_pending = excluded.races_pending,
                ingest_depth = 'laps_full',
                last_ingested_at = now(),
                complete_after = excluded.complete_after,
                results_state = excluded.results_state,
                results_state_since = CASE WHEN e.results_state IS NOT DISTINCT FROM excluded.results_state
                                           THEN e.results_state_since ELSE now() END,
                results_changed_at = coalesce(e.results_changed_at, now()),
                updated_at = CASE WHEN e.ingest_depth = 'laps_full' AND ({_EVENT_VALUES}) IS NOT DISTINCT FROM (
                        CASE WHEN :follows_venue THEN excluded.track_id ELSE e.track_id END, excluded.name,
                        coalesce(excluded.start_date, e.start_date), coalesce(excluded.end_date, e.end_date),
                        coalesce(excluded.entries, e.entries), coalesce(excluded.drivers, e.drivers),
                        coalesce(excluded.race_track, e.race_track),
                        coalesce(excluded.total_race_laps, e.total_race_laps),
                        coalesce(excluded.starts_at_utc, e.starts_at_utc),
                        coalesce(excluded.ends_at_utc, e.ends_at_utc), excluded.races_pending)
                    THEN e.updated_at ELSE now() END
            RETURNING event_id, track_id, (updated_at = now()) AS event_changed, results_state, complete_after
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
            "starts_at_utc": detail.starts_at_utc,
            "ends_at_utc": detail.ends_at_utc,
            "races_pending": detail.races_pending,
            "follows_venue": detail.venue is not None,
        },
    ).one()
    if row.track_id != track_id:
        raise EventTrackMismatchError(
            f"event {detail.event_id} belongs to another track in the warehouse, not {detail.track_slug!r}"
        )
    return EventWriteResult(
        event_pk=int(row.event_id),
        event_changed=bool(row.event_changed),
        results_state=row.results_state,
        complete_after=row.complete_after,
    )


def _stamp_results_changed(conn: sa.Connection, event_pk: int) -> None:
    """This ingestion changed the event's rows: the lap summaries (and anyone watching) follow."""
    conn.execute(
        sa.text("UPDATE mre.events SET results_changed_at = now() WHERE event_id = :pk"), {"pk": event_pk}
    )


# -- staging: every row of the event, COPYed in ----------------------------------------------------------
def _stage_event_rows(conn: sa.Connection, detail: EventDetail, races: list[RaceResult]) -> None:
    STAGE_RACES.load(conn, _race_rows(detail, races))
    STAGE_DRIVERS.load(conn, _driver_rows(races))
    STAGE_RESULTS.load(conn, _result_rows(races))
    STAGE_LAPS.load(conn, _lap_rows(races))


def _race_rows(detail: EventDetail, races: list[RaceResult]) -> Iterator[tuple]:
    summaries = {summary.race_id: summary for summary in detail.races}
    for race in races:
        s = summaries[race.race_id]
        yield (
            race.race_id,
            s.section,
            s.race_number,
            s.class_name,
            s.session_label,
            race.round_label,
            race.length_label,
            s.completed_at,
            s.completed_text,
            s.locator,
            race.lead_in_counted,
        )


def _driver_rows(races: list[RaceResult]) -> Iterator[tuple[int, str]]:
    """One row per driver id; the last name seen wins (a driver appears once per race they ran)."""
    names = {d.driver_id: d.driver_name for race in races for d in race.drivers}
    return iter(names.items())


def _result_rows(races: list[RaceResult]) -> Iterator[tuple]:
    published = attrgetter(*RESULT_VALUE_COLUMNS)
    for race in races:
        for d in race.drivers:
            yield (race.race_id, d.driver_id, *published(d))


def _lap_rows(races: list[RaceResult]) -> Iterator[tuple]:
    for race in races:
        for d in race.drivers:
            for lap in d.laps:
                yield (race.race_id, d.driver_id, lap.lap_number, lap.lap_time_s, lap.position, lap.pace)


# -- merging: staged rows into the warehouse -------------------------------------------------------------
RACE_COLUMNS = ("source", "source_race_id", "event_id", *STAGE_RACES.column_names[1:])
UPSERT_RACES = guarded_upsert(
    "mre.races",
    RACE_COLUMNS,
    ("source", "source_race_id"),
    f"SELECT :source, source_race_id, :event_pk, {', '.join(STAGE_RACES.column_names[1:])} FROM stage_races",
)
UPSERT_DRIVERS = guarded_upsert(
    "mre.drivers",
    ("source", "source_driver_id", "name"),
    ("source", "source_driver_id"),
    "SELECT :source, source_driver_id, name FROM stage_drivers",
)
UPSERT_RESULTS = guarded_upsert(
    "mre.race_results",
    ("race_id", "driver_id", *RESULT_VALUE_COLUMNS),
    ("race_id", "driver_id"),
    f"""
    SELECT r.race_id, d.driver_id, {", ".join("s." + c for c in RESULT_VALUE_COLUMNS)}
    FROM stage_results s
    JOIN mre.races r ON r.source = :source AND r.source_race_id = s.source_race_id
    JOIN mre.drivers d ON d.source = :source AND d.source_driver_id = s.source_driver_id
    """,
)
UPSERT_LAPS = guarded_upsert(
    "mre.laps",
    ("race_result_id", "lap_number", "lap_time_s", "position", "pace"),
    ("race_result_id", "lap_number"),
    "SELECT race_result_id, lap_number, lap_time_s, position, pace FROM stage_lap_keys",
    stamp_updated_at=False,
)
UPSERT_ENTRIES = guarded_upsert(
    "mre.event_entries",
    ("event_id", *STAGE_ENTRIES.column_names),
    ("event_id", "class_name", "driver_name"),
    f"""
    SELECT DISTINCT ON (class_name, driver_name) :event_pk, {", ".join(STAGE_ENTRIES.column_names)}
    FROM stage_entries ORDER BY class_name, driver_name, row_number
    """,
)


def _upserted(conn: sa.Connection, sql: str, params: dict[str, object]) -> TableChange:
    inserted, updated = inserted_and_updated(conn.execute(sa.text(sql), params).all())
    return TableChange(inserted=inserted, updated=updated)


def _merge_races(conn: sa.Connection, source: str, event_pk: int) -> TableChange:
    """Upsert the event's races, then drop races it no longer lists (cascades to results and laps)."""
    change = _upserted(conn, UPSERT_RACES, {"source": source, "event_pk": event_pk})
    change.deleted = conn.execute(
        sa.text(
            """
            DELETE FROM mre.races r WHERE r.event_id = :event_pk
              AND NOT EXISTS (SELECT 1 FROM stage_races s WHERE s.source_race_id = r.source_race_id)
            """
        ),
        {"event_pk": event_pk},
    ).rowcount
    return change


def _merge_drivers(conn: sa.Connection, source: str) -> TableChange:
    """Drivers are shared across events: upserted by source id, never deleted here."""
    return _upserted(conn, UPSERT_DRIVERS, {"source": source})


def _merge_results(conn: sa.Connection, source: str, event_pk: int) -> TableChange:
    """Results keyed by (race, driver); a driver removed upstream loses their row (and laps)."""
    deleted = conn.execute(
        sa.text(
            """
            DELETE FROM mre.race_results rr USING mre.races r, mre.drivers d
            WHERE rr.race_id = r.race_id AND rr.driver_id = d.driver_id AND r.event_id = :event_pk
              AND NOT EXISTS (SELECT 1 FROM stage_results s
                              WHERE s.source_race_id = r.source_race_id AND s.source_driver_id = d.source_driver_id)
            """
        ),
        {"event_pk": event_pk},
    ).rowcount
    change = _upserted(conn, UPSERT_RESULTS, {"source": source})
    change.deleted = deleted
    return change


def _merge_laps(conn: sa.Connection, event_pk: int) -> TableChange:
    """Laps keyed by (result, lap number), resolved through the event's results first."""
    _stage_lap_keys(conn, event_pk)
    deleted = conn.execute(
        sa.text(
            """
            DELETE FROM mre.laps l USING mre.race_results rr, mre.races r
            WHERE l.race_result_id = rr.race_result_id AND rr.race_id = r.race_id AND r.event_id = :event_pk
              AND NOT EXISTS (SELECT 1 FROM stage_lap_keys k
                              WHERE k.race_result_id = l.race_result_id AND k.lap_number = l.lap_number)
            """
        ),
        {"event_pk": event_pk},
    ).rowcount
    change = _upserted(conn, UPSERT_LAPS, {})
    change.deleted = deleted
    return change


def _stage_lap_keys(conn: sa.Connection, event_pk: int) -> None:
    """Staged laps with their result ids. Resolved through the event's few hundred results (a small,
    analysed table), not through a join over freshly written tables whose statistics the planner lacks."""
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


def _replace_entries(conn: sa.Connection, event_pk: int, entry_list: EntryList) -> TableChange:
    """The entry list as published now: upsert by (class, name), drop names it no longer lists."""
    STAGE_ENTRIES.load(
        conn,
        (
            (e.class_name, e.driver_name, e.row_number, e.sort_name, e.transponder, e.class_ref)
            for e in entry_list.entries
        ),
    )
    deleted = conn.execute(
        sa.text(
            """
            DELETE FROM mre.event_entries x WHERE x.event_id = :event_pk AND NOT EXISTS (
                SELECT 1 FROM stage_entries s WHERE s.class_name = x.class_name AND s.driver_name = x.driver_name)
            """
        ),
        {"event_pk": event_pk},
    ).rowcount
    change = _upserted(conn, UPSERT_ENTRIES, {"event_pk": event_pk})
    change.deleted = deleted
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
