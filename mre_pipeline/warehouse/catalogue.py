"""Track writes: a catalogue upserted by (source, slug), tracks missing from a full catalogue deactivated; and
the venues of events from sources without a catalogue, upserted one at a time with their event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from mre_pipeline.connectors.records import TrackRecord
from mre_pipeline.warehouse.engine import copy_rows
from mre_pipeline.warehouse.staging import guarded_upsert

TRACK_COLUMNS = (
    "source",
    "slug",
    "name",
    "activity",
    "has_live_video",
    "featured",
    "current_event_name",
    "last_activity_text",
)


@dataclass(frozen=True)
class CatalogueWriteResult:
    seen: int
    new: int
    updated: int
    deactivated: int
    reactivated: int


def upsert_catalogue(conn: sa.Connection, source: str, tracks: Sequence[TrackRecord]) -> CatalogueWriteResult:
    """Write a complete catalogue snapshot in the caller's transaction."""
    conn.exec_driver_sql("CREATE TEMP TABLE stage_tracks (LIKE mre.tracks INCLUDING DEFAULTS) ON COMMIT DROP")
    copy_rows(
        conn,
        "stage_tracks",
        TRACK_COLUMNS,
        (
            (
                t.source,
                t.slug,
                t.name,
                t.activity,
                t.has_live_video,
                t.featured,
                t.current_event_name,
                t.last_activity_text,
            )
            for t in tracks
        ),
    )
    reactivated = conn.exec_driver_sql(
        """
        SELECT count(*) FROM mre.tracks t JOIN stage_tracks s USING (source, slug) WHERE NOT t.is_active
        """
    ).scalar_one()
    rows = conn.exec_driver_sql(
        """
        INSERT INTO mre.tracks AS t (source, slug, name, activity, has_live_video, featured,
                                     current_event_name, last_activity_text)
        SELECT DISTINCT ON (source, slug) source, slug, name, activity, has_live_video, featured,
               current_event_name, last_activity_text
        FROM stage_tracks
        ORDER BY source, slug
        ON CONFLICT (source, slug) DO UPDATE SET
            name = excluded.name,
            activity = excluded.activity,
            has_live_video = excluded.has_live_video,
            featured = excluded.featured,
            current_event_name = excluded.current_event_name,
            last_activity_text = excluded.last_activity_text,
            is_active = true,
            deactivated_at = NULL,
            last_seen_at = now(),
            updated_at = CASE WHEN (t.name, t.current_event_name, t.is_active)
                              IS DISTINCT FROM (excluded.name, excluded.current_event_name, true)
                              THEN now() ELSE t.updated_at END
        RETURNING (xmax = 0) AS inserted, (t.updated_at = now()) AS touched
        """
    ).all()
    new = sum(1 for r in rows if r.inserted)
    updated = sum(1 for r in rows if not r.inserted and r.touched)
    deactivated = conn.execute(
        sa.text(
            """
            UPDATE mre.tracks t SET is_active = false, deactivated_at = now(), updated_at = now()
            WHERE t.source = :source AND t.is_active
              AND NOT EXISTS (SELECT 1 FROM stage_tracks s WHERE s.source = t.source AND s.slug = t.slug)
            """
        ),
        {"source": source},
    ).rowcount
    return CatalogueWriteResult(
        seen=len(rows), new=new, updated=updated, deactivated=deactivated, reactivated=reactivated
    )


def track_exists(conn: sa.Connection, source: str, slug: str) -> bool:
    return bool(
        conn.execute(
            sa.text("SELECT 1 FROM mre.tracks WHERE source = :s AND slug = :slug"),
            {"s": source, "slug": slug},
        ).scalar()
    )


def has_active_tracks(conn: sa.Connection, source: str) -> bool:
    """Whether the source's catalogue was ever fetched (one index probe)."""
    return bool(
        conn.execute(
            sa.text("SELECT EXISTS (SELECT 1 FROM mre.tracks WHERE source = :s AND is_active)"), {"s": source}
        ).scalar()
    )


def known_slugs(conn: sa.Connection, source: str, slugs: Sequence[str]) -> set[str]:
    """Which of ``slugs`` the catalogue knows (one query for a whole sensor batch)."""
    if not slugs:
        return set()
    rows = conn.execute(
        sa.text("SELECT slug FROM mre.tracks WHERE source = :s AND slug = ANY(:slugs)"),
        {"s": source, "slugs": list(slugs)},
    )
    return {r[0] for r in rows}


VENUE_COLUMNS = ("source", "slug", "name", "activity", "organiser", "latitude", "longitude")
UPSERT_VENUE = guarded_upsert(
    "mre.tracks",
    (*VENUE_COLUMNS, "is_active", "deactivated_at"),
    ("source", "slug"),
    "VALUES (:source, :slug, :name, :activity, :organiser, :latitude, :longitude, true, NULL)",
)


def upsert_venue(conn: sa.Connection, venue: TrackRecord) -> int:
    """The track row of an event's venue (sources without a catalogue), in the caller's transaction.

    Keyed by (source, slug) like a catalogue track; name, organiser and coordinates follow the event ingested
    last, and an unchanged venue is not rewritten. Returns its track_id.
    """
    conn.execute(
        sa.text(UPSERT_VENUE),
        {
            "source": venue.source,
            "slug": venue.slug,
            "name": venue.name,
            "activity": venue.activity,
            "organiser": venue.organiser,
            "latitude": venue.latitude,
            "longitude": venue.longitude,
        },
    ).all()
    return int(
        conn.execute(
            sa.text("SELECT track_id FROM mre.tracks WHERE source = :s AND slug = :slug"),
            {"s": venue.source, "slug": venue.slug},
        ).scalar_one()
    )
