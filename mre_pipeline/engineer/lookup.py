"""Resolve what a person typed (a driver's name or id, an event id, a race id) to warehouse rows.

Shared by the report command and the coach, so both say the same thing about the same mistake. Every
error names the argument it is about.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import sqlalchemy as sa

from mre_pipeline.warehouse import engineer_queries as q

MAX_CANDIDATES_SHOWN = 5


class LookupProblem(ValueError):
    """An argument that does not resolve; ``argument`` names it, the message says why and what to do."""

    def __init__(self, argument: str, message: str):
        super().__init__(f"{argument}: {message}")
        self.argument = argument


def _describe(driver: dict[str, Any]) -> str:
    races = driver.get("races")
    tail = f", {races} race{'s' if races != 1 else ''}" if races is not None else ""
    return f"{driver['driver_name']} (id {driver['source_driver_id']}{tail})"


def resolve_driver(
    conn: sa.Connection, text: str, source: str = "liverc", argument: str = "driver"
) -> dict[str, Any]:
    """A driver by source id (digits) or by name, ignoring case and accents.

    A name must match one driver exactly or be contained in exactly one driver's name; otherwise the
    error lists the candidates with their ids.
    """
    wanted = (text or "").strip()
    if not wanted:
        raise LookupProblem(argument, "give a driver's name or LiveRC driver id")
    if wanted.isascii() and wanted.isdigit():
        found = q.find_driver_by_source_id(conn, source, int(wanted))
        if found is None:
            raise LookupProblem(argument, f"no {source} driver has id {wanted}")
        return found
    matches = q.find_drivers(conn, wanted, limit=MAX_CANDIDATES_SHOWN + 1)
    if not matches:
        raise LookupProblem(argument, f"no driver's name contains {wanted!r}")
    exact = [m for m in matches if _fold(m["driver_name"]) == _fold(wanted)]
    if len(exact) == 1 or len(matches) == 1:
        return (exact or matches)[0]
    shown = ", ".join(_describe(m) for m in matches[:MAX_CANDIDATES_SHOWN])
    more = " and more" if len(matches) > MAX_CANDIDATES_SHOWN else ""
    raise LookupProblem(
        argument, f"{wanted!r} matches several drivers: {shown}{more}; give the id or the full name"
    )


def _fold(name: str) -> str:
    """The same folding as the SQL lookup (case, accents, the letters NFD leaves whole, whitespace)."""
    decomposed = unicodedata.normalize("NFD", name.lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.translate(str.maketrans("łøđ", "lod")).split())


def resolve_event(
    conn: sa.Connection, source_event_id: int, source: str = "liverc", argument: str = "event"
) -> dict[str, Any]:
    event = q.find_event(conn, source, source_event_id)
    if event is None:
        raise LookupProblem(
            argument,
            f"{source} event {source_event_id} is not in the warehouse; ingest it first "
            f"(mre-pipeline request ingest --track SLUG --event {source_event_id})",
        )
    if event["ingest_depth"] != "laps_full":
        raise LookupProblem(
            argument,
            f"event {source_event_id} ({event['event_name']}) has only its listing so far; ingest it first "
            f"(mre-pipeline request ingest --track {event['track_slug']} --event {source_event_id})",
        )
    return event


def resolve_race(
    conn: sa.Connection, source_race_id: int, source: str = "liverc", argument: str = "race_id"
) -> dict[str, Any]:
    race = q.find_race(conn, source, source_race_id)
    if race is None:
        raise LookupProblem(argument, f"{source} race {source_race_id} is not in the warehouse")
    return race


def require_marts(conn: sa.Connection, event: dict[str, Any], argument: str = "event") -> None:
    """The summaries lag ingestion by one dbt build: say so instead of drawing empty charts."""
    if not q.marts_exist(conn) or not q.marts_built_for_event(conn, event["event_id"]):
        raise LookupProblem(
            argument,
            f"the lap summaries for event {event['source_event_id']} are not built yet (dbt builds them "
            "shortly after ingestion); wait for the build or run: mre-pipeline dbt build",
        )
