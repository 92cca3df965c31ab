"""Benchmark: lap-summary cost and freshness at about 30 thousand, 1 million and 10 million laps.

For each size the warehouse is grown with bulk events generated in Postgres (SQL, minutes not hours:
typical club events of 10 races x 12 drivers x 23-25 laps, plus ten times as many discovered-only events),
the summaries are built from scratch once (what a first deployment costs), and then one new typical event
is ingested through the real path (loopback HTTP, parsers, validation, one-transaction write). The
summaries sensor is ticked as the daemon would, and the build it requests runs in-process through the
real Dagster job (dbt included) while another thread watches for the event's rows. Prints, side by side:
the sensor's query, the build, dbt's per-model times, and seconds from the event's commit to its rows in
driver_race_summary and lap_progression (the daemon's tick interval and run launch come on top).

Runs against the embedded Postgres (or MRE_DATABASE_URL's server) in a throwaway database.
Usage: .venv/bin/python benchmarks/summaries.py [--sizes 30000,1000000,10000000] [--seed 5]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg
import sqlalchemy as sa

from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.source import LiveRCSource, event_ref
from mre_pipeline.defs import summaries
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.ingestion.discovery import discover_track_events
from mre_pipeline.ingestion.event_ingest import ingest_event
from mre_pipeline.warehouse import server
from mre_pipeline.warehouse.scratch import scratch_database
from mre_pipeline.warehouse.summary_state import summary_backlog

LAPS_PER_BULK_EVENT = 10 * 12 * 24  # races x drivers x laps (23-25)
MODELS = [
    "summary_batch",
    "summary_batch_history_keys",
    "driver_race_summary",
    "lap_progression",
    "driver_event_summary",
    "driver_track_history",
    "summary_watermark",
]

# Bulk events numbered :first..:last. Drivers come from a pool of 5,000; positions follow the laps (so the
# summaries' own tests hold); every tenth event-number is also a discovered-only event.
BULK_SQL = """
INSERT INTO mre.tracks (slug, name)
SELECT 'bulk-' || t, 'Bulk Track ' || t FROM generate_series(1, 20) t ON CONFLICT DO NOTHING;

INSERT INTO mre.drivers (source, source_driver_id, name)
SELECT 'liverc', 900000000 + d, 'BULK DRIVER ' || d FROM generate_series(1, 5000) d ON CONFLICT DO NOTHING;

INSERT INTO mre.events (source, source_event_id, track_id, name, start_date, end_date, ingest_depth,
                        last_ingested_at, races_pending, complete_after, results_state, results_state_since,
                        results_changed_at)
SELECT 'liverc', 800000000 + e, t.track_id, 'Bulk Event ' || e, date '2020-01-04' + (e % 2200),
       date '2020-01-04' + (e % 2200), 'laps_full', now() - interval '1 day', 0,
       mre.event_complete_after(date '2020-01-04' + (e % 2200), NULL, 0), 'complete', now() - interval '1 day',
       now() - interval '1 day'
FROM generate_series(:first, :last) e
JOIN mre.tracks t ON t.slug = 'bulk-' || (1 + e % 20);

INSERT INTO mre.events (source, source_event_id, track_id, name, start_date, end_date)
SELECT 'liverc', 600000000 + e, t.track_id, 'Listed Event ' || e, date '2020-01-04' + (e % 2200),
       date '2020-01-04' + (e % 2200)
FROM generate_series(:first * 10, :last * 10 + 9) e
JOIN mre.tracks t ON t.slug = 'bulk-' || (1 + e % 20);

INSERT INTO mre.races (source, source_race_id, event_id, section, race_number, class_name, session_label,
                       completed_at)
SELECT 'liverc', 700000000 + (e.source_event_id - 800000000) * 10 + r, e.event_id, 'Main Events', r,
       'Bulk Class ' || (r % 3), 'Bulk Class ' || (r % 3) || ' Race ' || r,
       e.start_date + time '12:00' + r * interval '10 minutes'
FROM mre.events e CROSS JOIN generate_series(1, 10) r
WHERE e.source_event_id BETWEEN 800000000 + :first AND 800000000 + :last;

CREATE TEMP TABLE bulk_laps ON COMMIT DROP AS
SELECT ra.race_id, s.slot, 1 + ((ra.race_id * 7 + s.slot * 131) % 5000) AS driver_no, l.lap_number,
       round((30 + s.slot % 4 + random() * 2
              + CASE WHEN random() < 0.05 THEN 5 + random() * 10 ELSE 0 END)::numeric, 3) AS lap_time_s
FROM mre.races ra
CROSS JOIN generate_series(1, 12) s(slot)
CROSS JOIN generate_series(1, 25) l(lap_number)
WHERE ra.source_race_id BETWEEN 700000000 + :first * 10 + 1 AND 700000000 + :last * 10 + 10
  AND l.lap_number <= 23 + (ra.race_id + s.slot) % 3;

INSERT INTO mre.race_results (race_id, driver_id, position, car_number, qual_position, grid_position,
                              laps_completed, total_time_s, fastest_lap_s)
SELECT b.race_id, d.driver_id, b.position, b.slot::text, b.slot, b.slot, b.laps, b.total, b.fastest
FROM (
    SELECT race_id, slot, driver_no, count(*) AS laps, sum(lap_time_s) AS total, min(lap_time_s) AS fastest,
           row_number() OVER (PARTITION BY race_id ORDER BY count(*) DESC, sum(lap_time_s), slot) AS position
    FROM bulk_laps GROUP BY race_id, slot, driver_no
) b
JOIN mre.drivers d ON d.source = 'liverc' AND d.source_driver_id = 900000000 + b.driver_no;

INSERT INTO mre.laps (race_result_id, lap_number, lap_time_s, position)
SELECT rr.race_result_id, c.lap_number, c.lap_time_s,
       row_number() OVER (PARTITION BY c.race_id, c.lap_number ORDER BY c.cumulative, c.slot)
FROM (
    SELECT *, sum(lap_time_s) OVER (PARTITION BY race_id, slot ORDER BY lap_number) AS cumulative
    FROM bulk_laps
) c
JOIN mre.race_results rr ON rr.race_id = c.race_id AND rr.car_number = c.slot::text;
"""


@dataclass
class Result:
    target_laps: int
    laps: int = 0
    ingested_events: int = 0
    listed_events: int = 0
    setup_s: float = 0.0
    full_build_s: float = 0.0
    backlog_query_ms: float = 0.0
    sensor_tick_ms: float = 0.0
    event_laps: int = 0
    ingest_s: float = 0.0
    build_s: float = 0.0
    dbt_s: float = 0.0
    commit_to_race_summary_s: float | None = None
    commit_to_lap_progression_s: float | None = None
    model_s: dict[str, float] = field(default_factory=dict)
    tests: int = 0
    tests_s: float = 0.0


def timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def grow(engine: sa.Engine, target_laps: int, events_so_far: int) -> int:
    """Add bulk events until the warehouse holds about ``target_laps``; returns the bulk events now."""
    with engine.connect() as conn:
        laps = conn.exec_driver_sql("SELECT count(*) FROM mre.laps").scalar()
    wanted = max(0, round((target_laps - laps) / LAPS_PER_BULK_EVENT))
    if wanted:
        with engine.begin() as conn:
            conn.execute(sa.text(BULK_SQL), {"first": events_so_far + 1, "last": events_so_far + wanted})
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return events_so_far + wanted


def run_build(instance: dg.DagsterInstance, job: dg.JobDefinition, config: dict) -> float:
    started = time.perf_counter()
    result = job.execute_in_process(
        run_config={"ops": {summaries.mre_summaries_dbt.op.name: {"config": config}}},
        instance=instance,
        raise_on_error=False,
    )
    if not result.success:
        raise SystemExit(f"summaries build failed: {result.all_events[-1].message}")
    return time.perf_counter() - started


class RowWatcher(threading.Thread):
    """Polls for an event's rows in both tables, from another connection, every 50 ms."""

    def __init__(self, engine: sa.Engine, event_id: int, since: float) -> None:
        super().__init__(daemon=True)
        self.engine, self.event_id, self.since = engine, event_id, since
        self.seen: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            while not self.stop.is_set() and len(self.seen) < 2:
                for table in ("driver_race_summary", "lap_progression"):
                    if (
                        table not in self.seen
                        and conn.execute(
                            sa.text(
                                f"SELECT EXISTS (SELECT 1 FROM mre_summaries.{table} WHERE event_id = :e)"
                            ),
                            {"e": self.event_id},
                        ).scalar()
                    ):
                        self.seen[table] = time.time() - self.since
                time.sleep(0.05)


def measure(url: str, engine: sa.Engine, result: Result, seed: int) -> None:
    warehouse = WarehouseResource(url=url)
    definitions = summaries.summaries_definitions({"warehouse": warehouse})
    job = definitions.resolve_job_def(summaries.SUMMARIES_JOB_NAME)
    site = generate_site(
        seed,
        tracks=1,
        events_per_track=1,
        extra_catalogue_tracks=0,
        drivers_per_class=(12, 20),
        main_laps=(40, 60),
        qualifier_rounds=(3, 4),
        big_first_event=False,
    )
    track = site.tracks[0]
    event = track.events[0]
    with dg.instance_for_test() as instance:
        result.full_build_s, _ = timed(lambda: run_build(instance, job, {"event_ids": []}))
        with engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO mre.tracks (slug, name) VALUES (:s, :n) ON CONFLICT DO NOTHING"),
                {"s": track.key, "n": track.name},
            )
        with FakeLiveRCServer(site.fake_site()) as fake:
            source = LiveRCSource(
                LiveRCConfig(
                    catalogue_url=fake.catalogue_url,
                    track_url_template=fake.track_url_template,
                    min_interval_s=0.0,
                )
            )
            discover_track_events(source, engine, track.key)
            result.ingest_s, report = timed(
                lambda: ingest_event(source, engine, event_ref(track.key, event.event_id))
            )
        committed = time.time()
        result.event_laps = report.counts["laps"]
        with engine.connect() as conn:
            event_pk = conn.execute(
                sa.text("SELECT event_id FROM mre.events WHERE source = 'liverc' AND source_event_id = :e"),
                {"e": event.event_id},
            ).scalar()
        watcher = RowWatcher(engine, event_pk, committed)
        watcher.start()
        context = dg.build_sensor_context(instance=instance, resources={"warehouse": warehouse})
        tick_s, tick = timed(lambda: summaries.summaries_sensor(context))
        result.sensor_tick_ms = tick_s * 1000
        [request] = tick.run_requests
        config = request.run_config["ops"][summaries.mre_summaries_dbt.op.name]["config"]
        assert config["event_ids"] == [event_pk], config
        result.build_s = run_build(instance, job, config)
        watcher.join(timeout=60)
        watcher.stop.set()
        result.commit_to_race_summary_s = watcher.seen.get("driver_race_summary")
        result.commit_to_lap_progression_s = watcher.seen.get("lap_progression")
    run_results = json.loads((summaries.BUILD_TARGET_DIR / "run_results.json").read_text())
    result.dbt_s = run_results["elapsed_time"]
    for node in run_results["results"]:
        kind, _, name = node["unique_id"].split(".", 2)
        if kind == "model":
            result.model_s[name] = node["execution_time"]
        elif kind == "test":
            result.tests += 1
            result.tests_s += node["execution_time"]
    with engine.connect() as conn:
        started = time.perf_counter()
        summary_backlog(conn, summaries.MODELS_VERSION, limit=200)
        result.backlog_query_ms = (time.perf_counter() - started) * 1000
        counts = conn.exec_driver_sql(
            "SELECT (SELECT count(*) FROM mre.laps),"
            " (SELECT count(*) FROM mre.events WHERE last_ingested_at IS NOT NULL),"
            " (SELECT count(*) FROM mre.events WHERE last_ingested_at IS NULL)"
        ).one()
    result.laps, result.ingested_events, result.listed_events = counts


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(results: list[Result]) -> None:
    rows: list[tuple[str, list[object]]] = [
        ("laps in the warehouse", [r.laps for r in results]),
        ("ingested / listed-only events", [f"{r.ingested_events:,} / {r.listed_events:,}" for r in results]),
        ("bulk setup s", [r.setup_s for r in results]),
        ("full build s (first deploy)", [r.full_build_s for r in results]),
        ("sensor backlog query ms", [r.backlog_query_ms for r in results]),
        ("sensor tick ms", [r.sensor_tick_ms for r in results]),
        ("new event laps", [r.event_laps for r in results]),
        ("new event ingest s", [r.ingest_s for r in results]),
        ("incremental build s (job, in-process)", [r.build_s for r in results]),
        ("  of which dbt s", [r.dbt_s for r in results]),
        *[(f"  model {m} s", [r.model_s.get(m) for r in results]) for m in MODELS],
        ("  tests (count)", [r.tests for r in results]),
        ("  tests s (summed over 4 threads)", [r.tests_s for r in results]),
        ("commit -> rows in driver_race_summary s", [r.commit_to_race_summary_s for r in results]),
        ("commit -> rows in lap_progression s", [r.commit_to_lap_progression_s for r in results]),
    ]
    header = f"{'':42}" + "".join(f"{f'~{r.target_laps:,} laps':>18}" for r in results)
    print(header)
    for label, values in rows:
        print(f"{label:42}" + "".join(f"{fmt(v):>18}" for v in values))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="30000,1000000,10000000")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    with scratch_database(server.resolve_urls().warehouse, "mre_bench_summ") as url:
        engine = sa.create_engine(url)
        bulk_events = 0
        for i, size in enumerate(sizes):
            result = Result(target_laps=size)
            started = time.perf_counter()
            bulk_events = grow(engine, size, bulk_events)
            result.setup_s = time.perf_counter() - started
            measure(url, engine, result, args.seed + i)
            results.append(result)
            print(f"measured ~{size:,} laps", flush=True)
        engine.dispose()
    print()
    print_table(results)


if __name__ == "__main__":
    main()
