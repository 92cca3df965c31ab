"""Scale: a generated LiveRC site (thousands of tracks, multi-section events) through the real ingestion
path: loopback HTTP, parsers, validation and the warehouse; the generator's records are the expected values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.source import LiveRCSource, event_ref
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.fake_liverc.server import CATALOGUE
from mre_pipeline.ingestion.catalogue import CatalogueShrankError, refresh_catalogue
from mre_pipeline.ingestion.discovery import discover_track_events
from mre_pipeline.ingestion.event_ingest import EventIngestError, ingest_event
from mre_pipeline.warehouse.event_results import event_row_counts

SITE = generate_site(
    11,
    tracks=3,
    events_per_track=3,
    extra_catalogue_tracks=1500,
    drivers_per_class=(8, 20),
    main_laps=(25, 45),
)


@pytest.fixture
def server() -> Iterator[FakeLiveRCServer]:
    with FakeLiveRCServer(SITE.fake_site()) as fake:
        yield fake


def _source(server: FakeLiveRCServer) -> LiveRCSource:
    return LiveRCSource(
        LiveRCConfig(
            catalogue_url=server.catalogue_url,
            track_url_template=server.track_url_template,
            min_interval_s=0.0,
        )
    )


def test_generated_site_ingests_exactly(clean_warehouse: sa.Engine, server: FakeLiveRCServer) -> None:
    report = refresh_catalogue(_source(server), clean_warehouse)
    assert report.counts["tracks_seen"] == len(SITE.catalogue) == 1503
    total_laps = 0
    for track in SITE.tracks:
        if not track.events:
            continue
        discover_track_events(_source(server), clean_warehouse, track.key)
        for event in track.events:
            races = [
                SITE.races[(track.key, r.race_id)]
                for r in SITE.event_details[(track.key, event.event_id)].races
            ]
            if not races:  # LiveRC lists empty events (474381 "T"): a clear failure, nothing written
                with pytest.raises(EventIngestError, match="lists no race results yet; nothing to ingest"):
                    ingest_event(_source(server), clean_warehouse, event_ref(track.key, event.event_id))
                continue
            report = ingest_event(_source(server), clean_warehouse, event_ref(track.key, event.event_id))
            entries = SITE.entry_lists[(track.key, event.event_id)]
            expected = {
                "races": len(races),
                "results": sum(len(r.drivers) for r in races),
                "laps": sum(len(d.laps) for r in races for d in r.drivers),
                "entries": len(entries.entries) if entries else 0,
            }
            with clean_warehouse.connect() as conn:
                assert event_row_counts(conn, "liverc", event.event_id) == expected
            assert report.counts["laps"] == expected["laps"]
            total_laps += expected["laps"]
    assert total_laps > 5000

    # Every stored lap equals the generator's lap, and every total equals the sum of its laps.
    with clean_warehouse.connect() as conn:
        stored = {
            (r.source_race_id, r.source_driver_id, r.lap_number): float(r.lap_time_s)
            for r in conn.exec_driver_sql(
                "SELECT r.source_race_id, d.source_driver_id, l.lap_number, l.lap_time_s FROM mre.laps l "
                "JOIN mre.race_results rr USING (race_result_id) JOIN mre.races r USING (race_id) "
                "JOIN mre.drivers d USING (driver_id)"
            )
        }
        mismatched_totals = conn.exec_driver_sql(
            "SELECT count(*) FROM mre.race_results rr WHERE rr.total_time_s IS DISTINCT FROM "
            "(SELECT sum(lap_time_s) FROM mre.laps l WHERE l.race_result_id = rr.race_result_id)"
        ).scalar()
    expected_laps = {
        (race.race_id, d.driver_id, lap.lap_number): lap.lap_time_s
        for race in SITE.races.values()
        for d in race.drivers
        for lap in d.laps
    }
    assert stored == expected_laps
    assert mismatched_totals == 0


def test_catalogue_deactivates_vanished_tracks_and_refuses_a_collapse(
    clean_warehouse: sa.Engine, server: FakeLiveRCServer
) -> None:
    refresh_catalogue(_source(server), clean_warehouse)
    full = SITE.page(CATALOGUE, "/")
    rows = full.split('<tr class="clickable-row"')
    # Upstream drops the last 10 tracks: they are marked inactive, never deleted.
    server.site.put(
        CATALOGUE, "/", '<tr class="clickable-row"'.join(rows[:-10]) + "</tbody></table></body></html>"
    )
    report = refresh_catalogue(_source(server), clean_warehouse)
    assert report.counts["tracks_deactivated"] == 10
    with clean_warehouse.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM mre.tracks").scalar() == 1503
        assert conn.exec_driver_sql("SELECT count(*) FROM mre.tracks WHERE NOT is_active").scalar() == 10
    # A page that suddenly lists a handful of tracks is a broken page, not 1,400 closures.
    server.site.put(
        CATALOGUE, "/", '<tr class="clickable-row"'.join(rows[:50]) + "</tbody></table></body></html>"
    )
    with pytest.raises(CatalogueShrankError, match="refusing to deactivate"):
        refresh_catalogue(_source(server), clean_warehouse)
    with clean_warehouse.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM mre.tracks WHERE is_active").scalar() == 1493
    # The full catalogue again: the ten come back.
    server.site.put(CATALOGUE, "/", full)
    assert refresh_catalogue(_source(server), clean_warehouse).counts["tracks_reactivated"] == 10
