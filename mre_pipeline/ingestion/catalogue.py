"""Refresh the track catalogue: fetch all tracks, upsert them, deactivate the ones that vanished."""

from __future__ import annotations

import time

import sqlalchemy as sa

from mre_pipeline.connectors.base import TrackCatalogue
from mre_pipeline.ingestion.reports import StepReport
from mre_pipeline.warehouse.catalogue import upsert_catalogue

# A catalogue that suddenly lists far fewer tracks is a broken page, not 500 closed tracks.
MIN_FRACTION_OF_ACTIVE = 0.5


class CatalogueShrankError(RuntimeError):
    """Refuse to deactivate most of the catalogue on the word of one page."""


def refresh_catalogue(source: TrackCatalogue, engine: sa.Engine) -> StepReport:
    started = time.monotonic()
    tracks = source.fetch_catalogue()
    with engine.begin() as conn:
        active = conn.execute(
            sa.text("SELECT count(*) FROM mre.tracks WHERE source = :s AND is_active"), {"s": source.source}
        ).scalar_one()
        if not tracks or (active >= 20 and len(tracks) < MIN_FRACTION_OF_ACTIVE * active):
            raise CatalogueShrankError(
                f"the catalogue page lists {len(tracks)} tracks but {active} are active in the warehouse; "
                "refusing to deactivate them (check the page or the parser)"
            )
        written = upsert_catalogue(conn, source.source, tracks)
    report = StepReport(
        counts={
            "tracks_seen": written.seen,
            "tracks_new": written.new,
            "tracks_updated": written.updated,
            "tracks_deactivated": written.deactivated,
            "tracks_reactivated": written.reactivated,
        },
        fetch={**source.stats.snapshot(), "elapsed_seconds": round(time.monotonic() - started, 3)},
    )
    report.detail = f"{written.seen} tracks: {written.new} new, {written.updated} updated, {written.deactivated} deactivated"
    return report
