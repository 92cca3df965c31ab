"""What the coach can answer: each method returns the figures and a plain-language reading of them.

No MCP here (``server.py`` exposes these as tools), so tests and other front ends can call them directly.
The three coaching questions run the SQL quoted in the README, unchanged (``coaching_queries``).
Arguments that cannot be used raise ``ArgumentProblem`` naming the argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from mre_pipeline.coach import readings
from mre_pipeline.engineer.lookup import LookupProblem, resolve_driver, resolve_race
from mre_pipeline.ingestion.keys import InvalidKeyError, normalise_slug
from mre_pipeline.warehouse import engineer_queries as q
from mre_pipeline.warehouse.coaching_queries import (
    CONSISTENCY_BY_YEAR,
    LAP_TIME_DROP_OFF,
    VERSUS_LEADER_OPENING,
)

SOURCE = "liverc"
ArgumentProblem = LookupProblem


@dataclass(frozen=True)
class Answer:
    reading: str
    figures: dict[str, Any]


def plain(value: Any) -> Any:
    """Figures as JSON carries them: Decimal -> float (or int when whole), dates -> ISO text, recursively."""
    if isinstance(value, Decimal):
        # Counts summed in SQL arrive as numeric: keep them whole (47, not 47.0).
        return int(value) if value.as_tuple().exponent == 0 else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _pick(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    return {c: row.get(c) for c in columns}


DRIVER_FIELDS = ("source", "source_driver_id", "driver_name")
RACE_FIELDS = (
    "source_race_id",
    "source_event_id",
    "event_name",
    "track_slug",
    "race_number",
    "class_name",
    "session_label",
    "completed_at",
)
RESULT_FIELDS = (
    "finish_position",
    "driver_name",
    "source_driver_id",
    "car_number",
    "grid_position",
    "laps",
    "total_time_s",
    "gap_to_winner_s",
    "best_lap_s",
    "mean_lap_s",
    "median_lap_s",
    "consistency_pct",
    "first_third_avg_s",
    "last_third_avg_s",
    "drop_off_s",
    "drop_off_pct",
)


class Coach:
    """The coach's questions over the warehouse (opened read-only as ``mre_analyst`` by the server)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    # --- finding things -------------------------------------------------------------------------------

    def find_driver(self, name: str, limit: int = 10) -> Answer:
        query = (name or "").strip()
        if len(query) < 2:
            raise ArgumentProblem("name", "give at least two letters of the driver's name")
        if not 1 <= limit <= 50:
            raise ArgumentProblem("limit", "must be between 1 and 50")
        with self.engine.connect() as conn:
            matches = q.find_drivers(conn, query, limit)
        drivers = [_pick(m, *DRIVER_FIELDS, "races", "last_race_date") for m in matches]
        return Answer(readings.matches_reading(query, matches), plain({"query": query, "drivers": drivers}))

    def driver_events(self, driver: str) -> Answer:
        with self.engine.connect() as conn:
            who = resolve_driver(conn, driver, SOURCE)
            events = q.driver_event_summaries(conn, who["driver_id"])
            races = q.driver_race_history(conn, who["driver_id"])
        listed = []
        for event in events:
            own = [r for r in races if r["event_id"] == event["event_id"]]
            listed.append(
                {
                    **_pick(
                        event,
                        "source_event_id",
                        "event_name",
                        "event_start_date",
                        "track_slug",
                        "races_started",
                        "laps",
                        "best_lap_s",
                        "consistency_pct",
                        "best_finish_position",
                        "classes",
                    ),
                    "races": [
                        _pick(
                            r,
                            "source_race_id",
                            "race_date",
                            "class_name",
                            "session_label",
                            "finish_position",
                            "laps",
                            "best_lap_s",
                            "consistency_pct",
                            "drop_off_s",
                        )
                        for r in own
                    ],
                }
            )
        reading = readings.events_reading(who["driver_name"], events, races)
        return Answer(reading, plain({"driver": _pick(who, *DRIVER_FIELDS), "events": listed}))

    def race_results(self, race_id: int) -> Answer:
        with self.engine.connect() as conn:
            race = resolve_race(conn, race_id, SOURCE)
            rows = self._summaries(conn, race)
        figures = {"race": _pick(race, *RACE_FIELDS), "results": [_pick(r, *RESULT_FIELDS) for r in rows]}
        return Answer(readings.race_reading(race, rows), plain(figures))

    # --- the three coaching questions ------------------------------------------------------------------

    def lap_time_drop_off(self, driver: str, race_id: int, after_lap: int = 20) -> Answer:
        with self.engine.connect() as conn:
            race = resolve_race(conn, race_id, SOURCE)
            who, summary = self._driver_in_race(conn, driver, race)
            laps = int(summary["laps"])
            if not 1 <= after_lap < laps:
                raise ArgumentProblem(
                    "after_lap",
                    f"{who['driver_name']} completed {laps} laps in race {race_id}; "
                    f"choose a lap from 1 to {laps - 1}",
                )
            phases = q.run_query(
                conn,
                LAP_TIME_DROP_OFF,
                source=SOURCE,
                source_race_id=race_id,
                source_driver_id=who["source_driver_id"],
                after_lap=after_lap,
            )
        before, after = phases
        change = {
            "mean_lap_s": _diff(after["mean_lap_s"], before["mean_lap_s"]),
            "clean_mean_lap_s": _diff(after["clean_mean_lap_s"], before["clean_mean_lap_s"]),
        }
        if change["mean_lap_s"] is not None and change["clean_mean_lap_s"] is not None:
            change["explained_by_incidents_s"] = round(change["mean_lap_s"] - change["clean_mean_lap_s"], 3)
        figures = {
            "race": _pick(race, *RACE_FIELDS),
            "driver": _pick(who, *DRIVER_FIELDS),
            "after_lap": after_lap,
            "phases": phases,
            "change_after_minus_before": change,
            "whole_race": _pick(
                summary, "laps", "first_third_avg_s", "last_third_avg_s", "drop_off_s", "drop_off_pct"
            ),
        }
        reading = readings.drop_off_reading(after_lap, before, after, figures["whole_race"])
        return Answer(reading, plain(figures))

    def versus_leader_opening(self, driver: str, race_id: int, first_seconds: float = 300.0) -> Answer:
        if not 0 < first_seconds <= 24 * 3600:
            raise ArgumentProblem("first_seconds", "must be a number of seconds above 0 (e.g. 300)")
        with self.engine.connect() as conn:
            race = resolve_race(conn, race_id, SOURCE)
            who, _ = self._driver_in_race(conn, driver, race)
            rows = q.run_query(
                conn,
                VERSUS_LEADER_OPENING,
                source=SOURCE,
                source_race_id=race_id,
                source_driver_id=who["source_driver_id"],
                first_seconds=first_seconds,
            )
        figures = {
            "race": _pick(race, *RACE_FIELDS),
            "driver": _pick(who, *DRIVER_FIELDS),
            "first_seconds": first_seconds,
            "laps": rows,
        }
        return Answer(readings.opening_reading(first_seconds, rows), plain(figures))

    def consistency_by_year(self, driver: str, track_slug: str, year: int | None = None) -> Answer:
        slug = _slug(track_slug)
        with self.engine.connect() as conn:
            who = resolve_driver(conn, driver, SOURCE)
            years = q.driver_track_years(conn, who["driver_id"], slug)
            if not years:
                raise ArgumentProblem("track_slug", f"{who['driver_name']} has no races at {slug}")
            if year is None:
                year = int(years[-1]["race_year"])
            rows = q.run_query(
                conn,
                CONSISTENCY_BY_YEAR,
                source=SOURCE,
                source_driver_id=who["source_driver_id"],
                track_slug=slug,
                year=year,
            )
        figures = {"driver": _pick(who, *DRIVER_FIELDS), "track_slug": slug, "year": year, "years": rows}
        return Answer(readings.year_reading(slug, year, rows), plain(figures))

    # --- comparisons and history -----------------------------------------------------------------------

    def compare_drivers(self, race_id: int, driver_a: str, driver_b: str) -> Answer:
        with self.engine.connect() as conn:
            race = resolve_race(conn, race_id, SOURCE)
            who_a, a = self._driver_in_race(conn, driver_a, race, argument="driver_a")
            who_b, b = self._driver_in_race(conn, driver_b, race, argument="driver_b")
            if who_a["driver_id"] == who_b["driver_id"]:
                raise ArgumentProblem("driver_b", "name a different driver from driver_a")
            laps = q.race_laps(conn, race["race_id"])
        mine = {r["lap_number"]: r for r in laps if r["driver_id"] == who_a["driver_id"]}
        theirs = {r["lap_number"]: r for r in laps if r["driver_id"] == who_b["driver_id"]}
        common = sorted(set(mine) & set(theirs))
        per_lap = [
            {
                "lap_number": n,
                "a_lap_time_s": mine[n]["lap_time_s"],
                "b_lap_time_s": theirs[n]["lap_time_s"],
                "a_minus_b_s": mine[n]["lap_time_s"] - theirs[n]["lap_time_s"],
                "a_position": mine[n]["position"],
                "b_position": theirs[n]["position"],
                "a_ahead_by_s": theirs[n]["cumulative_time_s"] - mine[n]["cumulative_time_s"],
            }
            for n in common
        ]
        a_faster = sum(1 for r in per_lap if r["a_minus_b_s"] < 0)
        b_faster = sum(1 for r in per_lap if r["a_minus_b_s"] > 0)
        gap = per_lap[-1]["a_ahead_by_s"] if per_lap else None
        fields = ("finish_position", "laps", "best_lap_s", "mean_lap_s", "consistency_pct", "drop_off_s")
        figures = {
            "race": _pick(race, *RACE_FIELDS),
            "driver_a": {**_pick(who_a, *DRIVER_FIELDS), **_pick(a, *fields)},
            "driver_b": {**_pick(who_b, *DRIVER_FIELDS), **_pick(b, *fields)},
            "common_laps": len(common),
            "laps_a_faster": a_faster,
            "laps_b_faster": b_faster,
            "a_ahead_after_last_common_lap_s": gap,
            "per_lap": per_lap,
        }
        reading = readings.compare_reading(a, b, len(common), a_faster, b_faster, gap)
        return Answer(reading, plain(figures))

    def track_consistency_history(self, driver: str, track_slug: str) -> Answer:
        slug = _slug(track_slug)
        with self.engine.connect() as conn:
            who = resolve_driver(conn, driver, SOURCE)
            years = q.driver_track_years(conn, who["driver_id"], slug)
            races = [
                r
                for r in q.driver_race_history(conn, who["driver_id"])
                if r["track_slug"] == slug and r["laps"]
            ]
        race_fields = (
            "race_date",
            "source_race_id",
            "event_name",
            "class_name",
            "session_label",
            "laps",
            "consistency_pct",
            "drop_off_s",
            "finish_position",
        )
        figures = {
            "driver": _pick(who, *DRIVER_FIELDS),
            "track_slug": slug,
            "years": years,
            "races": [_pick(r, *race_fields) for r in races],
        }
        return Answer(readings.history_reading(slug, years, races), plain(figures))

    # --- helpers --------------------------------------------------------------------------------------

    def _summaries(self, conn: sa.Connection, race: dict[str, Any]) -> list[dict[str, Any]]:
        rows = q.race_summaries(conn, race["race_id"])
        if not rows:
            raise ArgumentProblem(
                "race_id",
                f"the lap summaries for race {race['source_race_id']} are not built yet (dbt builds them "
                "shortly after ingestion); ask again in a minute",
            )
        return rows

    def _driver_in_race(
        self, conn: sa.Connection, driver: str, race: dict[str, Any], argument: str = "driver"
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        rows = self._summaries(conn, race)
        who = resolve_driver(conn, driver, SOURCE, argument=argument)
        mine = next((r for r in rows if r["driver_id"] == who["driver_id"]), None)
        if mine is None:
            names = ", ".join(r["driver_name"] for r in rows)
            raise ArgumentProblem(
                argument,
                f"{who['driver_name']} did not race in race {race['source_race_id']} (its drivers: {names})",
            )
        if not mine["laps"]:
            raise ArgumentProblem(
                argument, f"{who['driver_name']} did not start race {race['source_race_id']}"
            )
        return who, mine


def _diff(after: Any, before: Any) -> float | None:
    if after is None or before is None:
        return None
    return round(float(after) - float(before), 3)


def _slug(track_slug: str) -> str:
    try:
        return normalise_slug(track_slug)
    except InvalidKeyError as exc:
        raise ArgumentProblem("track_slug", str(exc).removeprefix("track_slug ")) from exc
