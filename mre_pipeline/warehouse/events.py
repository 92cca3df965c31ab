"""Event metadata writes (discovery) and the held-between reads the web app and CLI use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from mre_pipeline.connectors.records import EventSummary
from mre_pipeline.warehouse.engine import copy_rows


class UnknownTrackError(LookupError):
    """The track slug is not in the catalogue."""


@dataclass(frozen=True)
class DiscoveryWriteResult:
    seen: int
    new: int
    updated: int
    first_date: date | None
    last_date: date | None


def track_id_for(conn: sa.Connection, source: str, slug: str) -> int:
    track_id = conn.execute(
        sa.text("SELECT track_id FROM mre.tracks WHERE source = :s AND slug = :slug"),
        {"s": source, "slug": slug},
    ).scalar()
    if track_id is None:
        raise UnknownTrackError(
            f"track {slug!r} is not in the {source} catalogue; refresh track_catalogue first"
        )
    return int(track_id)


def upsert_event_summaries(
    conn: sa.Connection, source: str, track_slug: str, events: Sequence[EventSummary]
) -> DiscoveryWriteResult:
    """Upsert listing metadata. Never touches ``ingest_depth``: an ingested event stays ingested."""
    track_id = track_id_for(conn, source, track_slug)
    conn.exec_driver_sql(
        """
        CREATE TEMP TABLE stage_events (
            source_event_id bigint, name text, start_date date, end_date date, start_time time,
            entries integer, drivers integer
        ) ON COMMIT DROP
        """
    )
    copy_rows(
        conn,
        "stage_events",
        ("source_event_id", "name", "start_date", "end_date", "start_time", "entries", "drivers"),
        ((e.event_id, e.name, e.start_date, e.end_date, e.start_time, e.entries, e.drivers) for e in events),
    )
    rows = conn.execute(
        sa.text(
            """
            INSERT INTO mre.events AS e (source, source_event_id, track_id, name, start_date, end_date,
                                         start_time, entries, drivers)
            SELECT DISTINCT ON (source_event_id) :source, source_event_id, :track_id, name, start_date,
                   end_date, start_time, entries, drivers
            FROM stage_events ORDER BY source_event_id
            ON CONFLICT (source, source_event_id) DO UPDATE SET
                last_discovered_at = now(),
                name = excluded.name,
                start_date = excluded.start_date,
                end_date = excluded.end_date,
                start_time = excluded.start_time,
                entries = excluded.entries,
                drivers = excluded.drivers,
                updated_at = CASE WHEN (e.name, e.start_date, e.end_date, e.start_time, e.entries, e.drivers)
                    IS DISTINCT FROM (excluded.name, excluded.start_date, excluded.end_date,
                                      excluded.start_time, excluded.entries, excluded.drivers)
                    THEN now() ELSE e.updated_at END
            WHERE e.track_id = excluded.track_id
            RETURNING (xmax = 0) AS inserted, (e.updated_at = now()) AS touched
            """
        ),
        {"source": source, "track_id": track_id},
    ).all()
    dates = [e.start_date for e in events] + [e.end_date for e in events]
    return DiscoveryWriteResult(
        seen=len(events),
        new=sum(1 for r in rows if r.inserted),
        updated=sum(1 for r in rows if not r.inserted and r.touched),
        first_date=min(dates) if dates else None,
        last_date=max(dates) if dates else None,
    )


def events_held_between(
    conn: sa.Connection, source: str, track_slug: str, start: date | None, end: date | None
) -> list[sa.Row]:
    """Events of one track overlapping [start, end] (a multi-day event counts if any day is inside)."""
    return conn.execute(
        sa.text(
            """
            SELECT e.source_event_id, e.name, e.start_date, e.end_date, e.entries, e.drivers,
                   e.ingest_depth, e.last_ingested_at
            FROM mre.events e JOIN mre.tracks t USING (track_id)
            WHERE t.source = :source AND t.slug = :slug
              AND (CAST(:start AS date) IS NULL OR e.end_date >= CAST(:start AS date))
              AND (CAST(:end AS date) IS NULL OR e.start_date <= CAST(:end AS date))
            ORDER BY e.start_date DESC, e.source_event_id DESC
            """
        ),
        {"source": source, "slug": track_slug, "start": start, "end": end},
    ).all()


def event_depth(conn: sa.Connection, source: str, source_event_id: int) -> str | None:
    return conn.execute(
        sa.text("SELECT ingest_depth FROM mre.events WHERE source = :s AND source_event_id = :id"),
        {"s": source, "id": source_event_id},
    ).scalar()
