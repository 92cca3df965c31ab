"""Benchmark: the chart the event asset draws after ingestion (queries on the raw tables + one SVG).

Ingests generated events (loopback, as benchmarks/ingest_event.py does) into a throwaway database, then for
each event draws the chart in fresh processes, as each event run does after its commit: cold (the draw
pays vl-convert's JavaScript engine start, as every run does) and a second draw in the same process (the
drawing alone). Prints wall / CPU seconds (wall time grows when other work shares the
machine; CPU time much less).
Usage: .venv/bin/python benchmarks/event_chart.py [--seed 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
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


def child(url: str, event_id: int) -> None:
    """One event run's worth, as JSON: the draw in a fresh process, then a second one."""
    from mre_pipeline.engineer.event_chart import draw_event_chart

    engine = sa.create_engine(url)
    timings = []
    for _ in range(2):
        wall, cpu = time.perf_counter(), time.process_time()
        chart = draw_event_chart(engine, "liverc", event_id)
        timings.append((time.perf_counter() - wall, time.process_time() - cpu))
    print(json.dumps({"timings": timings, "markdown_bytes": len(chart.markdown)}))


def ingest(url: str, seed: int) -> list[tuple[int, int, int]]:
    site = generate_site(
        seed,
        tracks=1,
        events_per_track=3,
        extra_catalogue_tracks=0,
        drivers_per_class=(12, 20),
        main_laps=(40, 60),
        qualifier_rounds=(3, 4),
    )
    engine = sa.create_engine(url)
    events = []
    with FakeLiveRCServer(site.fake_site()) as fake:
        config = LiveRCConfig(
            catalogue_url=fake.catalogue_url, track_url_template=fake.track_url_template, min_interval_s=0.0
        )
        refresh_catalogue(LiveRCSource(config), engine)
        track = site.tracks[0]
        for event in track.events:
            if event.races:
                report = ingest_event(LiveRCSource(config), engine, event_ref(track.key, event.event_id))
                events.append((event.event_id, report.counts["races"], report.counts["laps"]))
    engine.dispose()
    return events


def _run(url: str, event_id: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, str(event_id)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with scratch_database(server.resolve_urls().warehouse, "mre_bench") as url:
        events = ingest(url, args.seed)
        print(
            f"{'event':>8} {'races':>5} {'laps':>6} {'cold wall/cpu s':>16} {'second draw':>16} "
            f"{'markdown KB':>11}"
        )
        for event_id, races, laps in events:
            cold = [_run(url, event_id) for _ in range(args.runs)]

            def median(samples: list[dict], i: int) -> str:
                wall = statistics.median(s["timings"][i][0] for s in samples)
                cpu = statistics.median(s["timings"][i][1] for s in samples)
                return f"{wall:.3f} / {cpu:.3f}"

            kb = cold[0]["markdown_bytes"] / 1024
            print(
                f"{event_id:>8} {races:>5} {laps:>6} {median(cold, 0):>16} {median(cold, 1):>16} {kb:>11.0f}"
            )
        print(f"median of {args.runs} fresh processes per event")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
    else:
        main()
