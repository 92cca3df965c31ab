"""Benchmark: ingest generated events end to end (loopback HTTP, parse, validate, one-transaction write).

Prints, per event: races, laps, requests, seconds spent fetching, parsing and writing, and laps/s; then
what the same event costs against real LiveRC at the default politeness (one request per second per host).
Runs against the embedded Postgres (or MRE_DATABASE_URL's server) in a throwaway database.
Usage: .venv/bin/python benchmarks/ingest_event.py [--seed 5]
"""

from __future__ import annotations

import argparse
import time

import sqlalchemy as sa

from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.source import LiveRCSource, event_ref
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.ingestion.catalogue import refresh_catalogue
from mre_pipeline.ingestion.event_ingest import ingest_event
from mre_pipeline.warehouse import server
from mre_pipeline.warehouse.scratch import scratch_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    site = generate_site(
        args.seed,
        tracks=1,
        events_per_track=3,
        extra_catalogue_tracks=0,
        drivers_per_class=(12, 20),
        main_laps=(40, 60),
        qualifier_rounds=(3, 4),
    )
    with scratch_database(server.resolve_urls().warehouse, "mre_bench") as url:
        engine = sa.create_engine(url)
        with FakeLiveRCServer(site.fake_site()) as fake:

            def source() -> LiveRCSource:
                return LiveRCSource(
                    LiveRCConfig(
                        catalogue_url=fake.catalogue_url,
                        track_url_template=fake.track_url_template,
                        min_interval_s=0.0,
                    )
                )

            refresh_catalogue(source(), engine)
            print(
                f"{'event':>8} {'pass':<10} {'races':>5} {'laps':>6} {'reqs':>4} {'fetch s':>8} {'parse s':>8} "
                f"{'write s':>8} {'total s':>8} {'laps/s':>9} {'at 1 req/s':>10}"
            )
            track = site.tracks[0]
            for event in track.events:
                if not event.races:
                    continue
                for label in ("first", "unchanged"):
                    src = source()
                    started = time.perf_counter()
                    report = ingest_event(src, engine, event_ref(track.key, event.event_id))
                    total = time.perf_counter() - started
                    f = report.fetch
                    print(
                        f"{event.event_id:>8} {label:<10} {report.counts['races']:>5} {report.counts['laps']:>6} "
                        f"{f['requests']:>4} {f['fetch_seconds']:>8.3f} {f['parse_seconds']:>8.3f} "
                        f"{f['write_seconds']:>8.3f} {total:>8.3f} {report.counts['laps'] / total:>9,.0f} "
                        f"{f['requests'] * 1.0 + total:>9.0f}s"
                    )
        engine.dispose()


if __name__ == "__main__":
    main()
