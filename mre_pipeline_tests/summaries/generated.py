"""A generated LiveRC site (two tracks, four multi-section events, drivers who race several events at one
track) for the per-event summary builds: written through the real ingestion path (loopback HTTP, parsers,
validation, warehouse writer), or as records through the warehouse writer to model a changed re-ingest."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.source import LiveRCSource, event_ref
from mre_pipeline.connectors.records import EntryList, EventDetail, RaceResult
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.ingestion.catalogue import refresh_catalogue
from mre_pipeline.ingestion.discovery import discover_track_events
from mre_pipeline.ingestion.event_ingest import ingest_event
from mre_pipeline.warehouse.event_results import write_event

SITE = generate_site(
    5,
    tracks=2,
    events_per_track=2,
    extra_catalogue_tracks=0,
    drivers_per_class=(6, 10),
    main_laps=(15, 25),
    qualifier_rounds=(1, 2),
    big_first_event=False,
)


@dataclass(frozen=True)
class SiteEvent:
    track_slug: str
    detail: EventDetail
    races: list[RaceResult]
    entries: EntryList | None


def site_events() -> list[SiteEvent]:
    """Every event of the site that lists races, track by track."""
    events = []
    for track in SITE.tracks:
        for event in track.events:
            detail = SITE.event_details[(track.key, event.event_id)]
            if detail.races:
                races = [SITE.races[(track.key, r.race_id)] for r in detail.races]
                events.append(
                    SiteEvent(track.key, detail, races, SITE.entry_lists[(track.key, event.event_id)])
                )
    return events


@contextmanager
def liverc_source() -> Iterator[LiveRCSource]:
    """A LiveRC source reading the generated site over loopback HTTP."""
    with FakeLiveRCServer(SITE.fake_site()) as fake:
        yield LiveRCSource(
            LiveRCConfig(
                catalogue_url=fake.catalogue_url,
                track_url_template=fake.track_url_template,
                min_interval_s=0.0,
            )
        )


def ingest_over_http(engine: sa.Engine, events: list[SiteEvent], catalogue: bool = True) -> None:
    """Catalogue, discovery and event ingestion exactly as the pipeline runs them."""
    with liverc_source() as source:
        if catalogue:
            refresh_catalogue(source, engine)
            for slug in sorted({e.track_slug for e in events}):
                discover_track_events(source, engine, slug)
        for event in events:
            ingest_event(source, engine, event_ref(event.track_slug, event.detail.event_id))


def write_records(engine: sa.Engine, event: SiteEvent) -> int:
    """Write one event's records in one transaction, as a (forced) re-ingest does; returns its event id."""
    with engine.begin() as conn:
        return write_event(conn, event.detail, event.races, event.entries).event_pk


def track_exists(engine: sa.Engine, slug: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO mre.tracks (slug, name) VALUES (:s, :s) ON CONFLICT DO NOTHING"), {"s": slug}
        )


def changed_upstream(event: SiteEvent) -> tuple[SiteEvent, int, int]:
    """The event as LiveRC might republish it: its last race removed, and the winner of its first race
    with lap 2 half a second slower and lap 3 a quarter faster. Returns (event, removed race id,
    changed driver id)."""
    removed = event.races[-1]
    first = event.races[0]
    winner = first.drivers[0]
    laps = list(winner.laps)
    laps[1] = dataclasses.replace(laps[1], lap_time_s=round(laps[1].lap_time_s + 0.5, 3))
    laps[2] = dataclasses.replace(laps[2], lap_time_s=round(laps[2].lap_time_s - 0.25, 3))
    changed_first = dataclasses.replace(
        first, drivers=(dataclasses.replace(winner, laps=tuple(laps)), *first.drivers[1:])
    )
    detail = dataclasses.replace(
        event.detail, races=tuple(r for r in event.detail.races if r.race_id != removed.race_id)
    )
    races = [changed_first, *event.races[1:-1]]
    return SiteEvent(event.track_slug, detail, races, event.entries), removed.race_id, winner.driver_id
