"""Benchmark: write one large event into the warehouse, then re-write it unchanged, then with corrections.

Prints rows/s for the first write (COPY into staging + upserts), the no-change re-ingest (which must write
nothing) and a corrected re-ingest. Uses the embedded Postgres (or MRE_DATABASE_URL's server) and a
throwaway database. Usage: .venv/bin/python benchmarks/write_event.py [--races 40 --drivers 12 --laps 60]
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import replace
from datetime import date, datetime

import sqlalchemy as sa

from mre_pipeline.connectors.records import (
    DriverResult,
    EventDetail,
    LapRecord,
    RaceResult,
    RaceSummary,
    TrackRecord,
)
from mre_pipeline.warehouse import server
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.event_results import write_event
from mre_pipeline.warehouse.scratch import scratch_database


def build_event(
    n_races: int, n_drivers: int, n_laps: int, seed: int = 7
) -> tuple[EventDetail, list[RaceResult]]:
    rng = random.Random(seed)
    races, summaries = [], []
    for r in range(n_races):
        drivers = []
        for d in range(n_drivers):
            laps = tuple(LapRecord(i, round(rng.uniform(30, 45), 3), d + 1) for i in range(1, n_laps + 1))
            drivers.append(
                DriverResult(
                    driver_id=100_000 + d + (r % 5) * n_drivers,
                    driver_name=f"DRIVER {d} {r % 5}",
                    position=d + 1,
                    laps_completed=n_laps,
                    total_time_s=round(sum(x.lap_time_s for x in laps), 3),
                    laps=laps,
                )
            )
        race_id = 9_000_000 + r
        races.append(
            RaceResult(race_id, f"Class {r} A-Main", "Main Events", "30:00 Timed", r + 1, tuple(drivers))
        )
        summaries.append(
            RaceSummary(
                race_id, "Main Events", r + 1, f"Class {r}", f"Class {r} A-Main", datetime(2025, 1, 1, 12)
            )
        )
    detail = EventDetail(
        "liverc",
        "benchtrack",
        777,
        "Bench Event",
        "Bench",
        date(2025, 1, 1),
        date(2025, 1, 1),
        tuple(summaries),
    )
    return detail, races


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--races", type=int, default=40)
    parser.add_argument("--drivers", type=int, default=12)
    parser.add_argument("--laps", type=int, default=60)
    args = parser.parse_args()

    with scratch_database(server.resolve_urls().warehouse, "mre_bench") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            upsert_catalogue(conn, "liverc", [TrackRecord("liverc", "benchtrack", "Bench", "idle")])
        detail, races = build_event(args.races, args.drivers, args.laps)
        n_laps = sum(len(d.laps) for r in races for d in r.drivers)
        print(f"event: {args.races} races x {args.drivers} drivers x {args.laps} laps = {n_laps} laps")
        print(f"{'pass':<22}{'seconds':>9}{'laps/s':>12}  changes")
        first = races[0].drivers[0]
        fixed_lap = replace(first.laps[0], lap_time_s=round(first.laps[0].lap_time_s + 0.5, 3))
        fixed = replace(
            first, laps=(fixed_lap, *first.laps[1:]), total_time_s=round(first.total_time_s + 0.5, 3)
        )
        corrected = [replace(races[0], drivers=(fixed, *races[0].drivers[1:])), *races[1:]]
        for label, payload in (
            ("first write", races),
            ("unchanged re-ingest", races),
            ("one correction", corrected),
        ):
            started = time.perf_counter()
            with engine.begin() as conn:
                result = write_event(conn, detail, payload, None)
            elapsed = time.perf_counter() - started
            changes = {k: v for k, v in result.as_dict().items() if any(v.values())}
            print(f"{label:<22}{elapsed:>9.3f}{n_laps / elapsed:>12,.0f}  {changes or 'none'}")
        engine.dispose()


if __name__ == "__main__":
    main()
