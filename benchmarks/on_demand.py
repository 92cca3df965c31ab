"""Benchmark: what a racer waits for, through `mre-pipeline dev`, next to the floors, in one run.

1. Latency (no politeness interval, so only the machinery shows): a 5-race generated event per repetition,
   requested as the web app would (role mre_webapp, plain SQL) until `succeeded`, interleaved with a no-op asset
   launched through the same instance (benchmarks/noop_location.py: same run queue, launcher, one process). Each
   request is broken down: sensor (insert -> the sensor accepted it), queue (-> the run left Dagster's run
   queue: run created, dequeued), run start (-> the run worker's process exists),
   load (process -> step start), work (step start -> request succeeded), and then summaries (succeeded -> the
   event's rows in driver_race_summary and lap_progression).
2. Throughput at the default politeness (1 request/s per host; the loopback site is one host): N events at N
   tracks requested at once. Events per hour next to the floor `requests x interval`, and LiveRC's idle time
   between requests (arrival gaps beyond the interval, from the stand-in server's log).
3. Summary freshness during that burst.

Usage: .venv/bin/python benchmarks/on_demand.py [--reps 5] [--events 5] [--warehouse-laps 0]
(`--warehouse-laps 1000000` first grows the warehouse with bulk events, as benchmarks/summaries.py does.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
import yaml
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

from mre_pipeline import settings
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.instance.run_launcher import RUN_START_TAG
from mre_pipeline.instance.warm_start import READY_MESSAGE
from mre_pipeline.warehouse import server
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.scratch import scratch_database
from mre_pipeline_tests.faults.service import DevService, WebApp, as_webapp

HERE = Path(__file__).resolve().parent
SITE = generate_site(
    7,
    tracks=40,
    events_per_track=1,
    extra_catalogue_tracks=0,
    big_first_event=False,
    classes_per_event=(1, 1),
    qualifier_rounds=(2, 2),
    drivers_per_class=(8, 10),
)
FIVE_RACE_EVENTS = [(t.key, e) for t in SITE.tracks for e in t.events if len(e.races) == 5]


@dataclass
class Sample:
    total_s: float
    parts: dict[str, float] = field(default_factory=dict)


def poll(predicate: Callable[[], object], timeout_s: float, every_s: float = 0.05) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    raise TimeoutError(f"nothing after {timeout_s:.0f} s")


@contextmanager
def service(
    warehouse: str, dagster_url: str, liverc: FakeLiveRCServer, interval_s: float
) -> Iterator[DevService]:
    """`mre-pipeline dev` on the benchmark's databases, with the no-op location added to the workspace."""
    workspace = yaml.safe_load((settings.PROJECT_ROOT / "workspace.yaml").read_text())
    workspace["load_from"].append(
        {"python_file": {"relative_path": str(HERE / "noop_location.py"), "location_name": "noop"}}
    )
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "workspace.yaml").write_text(yaml.safe_dump(workspace))
        env = {
            "MRE_DATABASE_URL": warehouse,
            "MRE_DAGSTER_DATABASE_URL": dagster_url,
            "MRE_STATE_DIR": str(Path(tmp) / "state"),
            "MRE_WORKSPACE_FILE": str(Path(tmp) / "workspace.yaml"),
            "MRE_LIVERC_MIN_INTERVAL_S": str(interval_s),
            **liverc.env(),
        }
        dev = DevService(env, Path(tmp))
        dev.start()
        try:
            # A production daemon has been up for hours: measure after its run workers are preloaded.
            poll(lambda: READY_MESSAGE in dev.log.read_text(errors="replace"), 120, every_s=0.2)
            yield dev
            # Let every run end, so that nothing of this phase (a build stopped half-way and retried) leaks
            # into the next one, which shares the Dagster storage.
            with instance_for(dagster_url) as instance:
                poll(
                    lambda: (
                        not instance.get_run_records(dg.RunsFilter(statuses=NOT_FINISHED_STATUSES), limit=1)
                    ),
                    300,
                )
        finally:
            dev.stop()
            if os.environ.get("MRE_BENCH_KEEP_LOG"):  # a copy of the service's log, for a closer look
                Path(os.environ["MRE_BENCH_KEEP_LOG"]).write_bytes(dev.log.read_bytes())


def instance_for(dagster_url: str) -> dg.DagsterInstance:
    """The service's Dagster instance, read from here (runs, their events)."""
    os.environ["MRE_DAGSTER_DATABASE_URL"] = dagster_url  # dagster.yaml names the storage by this variable
    return dg.DagsterInstance.from_config(str(settings.PROJECT_ROOT))


def run_times(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Wall-clock stamps of one run: created, left the queue, worker process started, step started, ended."""
    record = instance.get_run_records(dg.RunsFilter(run_ids=[run_id]))[0]
    stamps = {"created": record.create_timestamp.timestamp()}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.RUN_STARTING:  # the queue daemon took it
            stamps.setdefault("dequeued", entry.timestamp)
        elif event.event_type == dg.DagsterEventType.ENGINE_EVENT and "Started process for run" in (
            event.message or ""
        ):
            stamps.setdefault("process", entry.timestamp)
        elif event.event_type == dg.DagsterEventType.STEP_START:
            stamps.setdefault("step", entry.timestamp)
        elif event.event_type in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
            stamps["end"] = entry.timestamp
    return stamps


def events_with_summary_rows(warehouse: sa.Engine, event_ids: list[int]) -> set[int]:
    """Which of ``event_ids`` have rows in both driver_race_summary and lap_progression."""
    with warehouse.connect() as conn:
        if not conn.exec_driver_sql("SELECT to_regclass('mre_summaries.lap_progression')").scalar():
            return set()
        return set(
            conn.execute(
                sa.text(
                    "SELECT DISTINCT s.source_event_id FROM mre_summaries.driver_race_summary s "
                    "JOIN mre_summaries.lap_progression lp USING (race_result_id) "
                    "WHERE s.source_event_id = ANY(:ids)"
                ),
                {"ids": sorted(event_ids)},
            ).scalars()
        )


def summary_rows(warehouse: sa.Engine, event_id: int) -> bool:
    return event_id in events_with_summary_rows(warehouse, [event_id])


class SummaryWatcher(threading.Thread):
    """Notes when each event's summary rows first appear, polling all of them together every 0.2 s, so a
    burst's freshness is measured as it happens, not when the benchmark gets round to asking."""

    def __init__(self, warehouse: sa.Engine, event_ids: list[int]):
        super().__init__(daemon=True)
        self.warehouse, self.waiting, self.seen_at = warehouse, set(event_ids), {}
        self.done = threading.Event()

    def run(self) -> None:
        while self.waiting and not self.done.is_set():
            for event_id in events_with_summary_rows(self.warehouse, list(self.waiting)):
                self.seen_at[event_id] = time.time()
            self.waiting -= self.seen_at.keys()
            time.sleep(0.2)


def request_sample(
    webapp: WebApp, instance: dg.DagsterInstance, warehouse: sa.Engine, track: str, event
) -> Sample:
    request_id = webapp.request(track, event.event_id)
    row = poll(lambda: webapp.final(request_id), 300)
    if row.status != "succeeded":
        raise RuntimeError(f"request {request_id} {row.status}: {row.status_detail}")
    done = time.time()
    poll(lambda: summary_rows(warehouse, event.event_id), 300, every_s=0.2)
    summaries = time.time()
    stamps = run_times(instance, row.dagster_run_id)
    created, queued, finished = (
        row.created_at.timestamp(),
        row.queued_at.timestamp(),
        row.finished_at.timestamp(),
    )
    return Sample(
        finished - created,
        {
            "sensor": queued - created,
            "queue": stamps.get("dequeued", queued) - queued,
            "run start": stamps.get("process", stamps["created"]) - stamps.get("dequeued", queued),
            "load": stamps.get("step", 0) - stamps.get("process", 0),
            "work": finished - stamps.get("step", finished),
            "summaries": summaries - done,
        },
    )


def noop_sample(dev: DevService, instance: dg.DagsterInstance) -> Sample:
    from dagster_graphql import DagsterGraphQLClient

    client = DagsterGraphQLClient("127.0.0.1", port_number=dev.port)
    started = time.time()
    run_id = client.submit_job_execution("noop_job", repository_location_name="noop")
    poll(lambda: (r := instance.get_run_by_id(run_id)) is not None and r.is_finished, 300)
    stamps = run_times(instance, run_id)
    return Sample(stamps["end"] - started, {"run start": stamps.get("process", 0) - started})


def latency(
    args, warehouse_url: str, dagster_url: str, warehouse: sa.Engine, instance: dg.DagsterInstance
) -> float:
    """Prints the latency figures; returns the no-op floor (median seconds)."""
    with (
        FakeLiveRCServer(SITE.fake_site()) as liverc,
        service(warehouse_url, dagster_url, liverc, 0.0) as dev,
    ):
        webapp = as_webapp(warehouse_url)
        since = time.time()
        noop_sample(dev, instance)  # warm-up: first runs pay one-off costs (pool rows, caches)
        requests, noops = [], []
        for track, event in FIVE_RACE_EVENTS[: args.reps]:
            noops.append(noop_sample(dev, instance))
            requests.append(request_sample(webapp, instance, warehouse, track, event))
        webapp.dispose()
        starts = run_starts(instance, since)
    floor = statistics.median(s.total_s for s in noops)
    median = statistics.median(s.total_s for s in requests)
    print(f"\n1. Latency, {args.reps} repetitions (5-race events, no politeness interval), medians:")
    print(
        f"   request inserted -> succeeded   {median:6.2f} s   (each: {', '.join(f'{s.total_s:.1f}' for s in requests)})"
    )
    print(
        f"   no-op asset through the instance {floor:6.2f} s   (each: {', '.join(f'{s.total_s:.1f}' for s in noops)})"
    )
    print(f"   difference                       {median - floor:6.2f} s   ratio {median / floor:.2f}")
    for part in ("sensor", "queue", "run start", "load", "work", "summaries"):
        print(f"     {part:<12} {statistics.median(s.parts[part] for s in requests):6.2f} s")
    print(f"   runs: {starts}")
    return floor


def first_run_lead_in(instance: dg.DagsterInstance, rows: list, first_request_at: float) -> str:
    """Where the time before the first request to LiveRC went, for the run that fetched first."""
    stamped = [(run_times(instance, r.dagster_run_id), r) for r in rows if r.dagster_run_id]
    stamps, row = min(stamped, key=lambda pair: pair[0].get("step", float("inf")))
    created, queued = row.created_at.timestamp(), row.queued_at.timestamp()
    parts = {
        "sensor": queued - created,
        "queue": stamps.get("dequeued", queued) - queued,
        "run start": stamps.get("process", queued) - stamps.get("dequeued", queued),
        "load": stamps.get("step", 0) - stamps.get("process", 0),
        "step -> first request": first_request_at - stamps.get("step", first_request_at),
    }
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in parts.items())


def run_starts(instance: dg.DagsterInstance, since: float) -> str:
    """How the runs created since ``since`` started: warm (forked preloaded) or cold (a fresh interpreter)."""
    records = instance.get_run_records(dg.RunsFilter(created_after=datetime.fromtimestamp(since, UTC)))
    counts = Counter(
        f"{r.dagster_run.job_name} {r.dagster_run.tags.get(RUN_START_TAG, 'cold')}" for r in records
    )
    return ", ".join(f"{count} {key}" for key, count in sorted(counts.items()))


def build_breakdown(instance: dg.DagsterInstance, since: float) -> str:
    """Where a summaries build's time goes: creation -> process, process -> step, step -> end."""
    records = instance.get_run_records(dg.RunsFilter(job_name="summaries_build"))
    records = [r for r in records if r.create_timestamp.timestamp() >= since]
    stamps = [run_times(instance, r.dagster_run.run_id) for r in records]
    for record, stamp in sorted(zip(records, stamps, strict=True), key=lambda pair: pair[1]["created"]):
        run = record.dagster_run
        config = run.run_config.get("ops", {}).get("mre_summaries_dbt", {}).get("config", {})
        kind = "standby" if config.get("from_backlog") else f"batch of {len(config.get('event_ids', []))}"
        relative = ", ".join(f"{name} +{value - since:.1f} s" for name, value in stamp.items())
        print(f"   build ({kind}, {run.status.value.lower()}): {relative}")
    stamps = [s for s in stamps if {"process", "step", "end"} <= s.keys()]
    if not stamps:
        return "none finished"
    parts = {
        "created -> process": [s["process"] - s["created"] for s in stamps],
        "process -> step": [s["step"] - s["process"] for s in stamps],
        "step (dbt) -> end": [s["end"] - s["step"] for s in stamps],
    }
    return f"{len(stamps)} builds; " + ", ".join(
        f"{name} {statistics.median(values):.1f} s" for name, values in parts.items()
    )


def throughput(
    args,
    warehouse_url: str,
    dagster_url: str,
    warehouse: sa.Engine,
    instance: dg.DagsterInstance,
    noop_s: float,
) -> None:
    chosen = FIVE_RACE_EVENTS[args.reps : args.reps + args.events]
    with FakeLiveRCServer(SITE.fake_site()) as liverc, service(warehouse_url, dagster_url, liverc, 1.0):
        webapp = as_webapp(warehouse_url)
        served_before = len(liverc.requests)
        watcher = SummaryWatcher(warehouse, [event.event_id for _, event in chosen])
        watcher.start()
        started, started_monotonic = time.time(), time.monotonic()  # the stand-in logs monotonic times
        ids = [webapp.request(track, event.event_id) for track, event in chosen]
        rows = [poll(lambda i=i: webapp.final(i), 900, every_s=0.2) for i in ids]
        elapsed = max(r.finished_at.timestamp() for r in rows) - started
        poll(lambda: not watcher.waiting, 600, every_s=0.2)
        watcher.done.set()
        fresh = [
            watcher.seen_at[event.event_id] - row.finished_at.timestamp()
            for row, (_, event) in zip(rows, chosen, strict=True)
        ]
        # robots.txt counts: LiveRC serves it, and the politeness interval applies to it like to any page.
        arrivals = sorted(r.at for r in liverc.requests[served_before:])
        lead_in = first_run_lead_in(instance, rows, time.time() - (time.monotonic() - arrivals[0]))
        webapp.dispose()
        starts = run_starts(instance, started)
    failed = [r.status_detail for r in rows if r.status != "succeeded"]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    made = len(arrivals)
    rate, floor_rate = len(chosen) / elapsed * 3600, len(chosen) / (made * 1.0) * 3600
    print(
        f"\n2. Throughput, {len(chosen)} events at {len(chosen)} tracks requested at once, 1 request/s per host:"
    )
    print(
        f"   all succeeded after {elapsed:.1f} s ({made} requests to LiveRC){'; FAILED: ' + str(failed) if failed else ''}"
    )
    print(f"   runs: {starts}")
    print(
        f"   events/hour {rate:7.1f}   floor (requests x interval) {floor_rate:7.1f}   ratio {rate / floor_rate:.2f}"
    )
    with_start = len(chosen) / (made * 1.0 + noop_s) * 3600
    print(
        f"   floor including one no-op run's start ({noop_s:.1f} s, before any page can be fetched) "
        f"{with_start:7.1f}   ratio {rate / with_start:.2f}"
    )
    span = arrivals[-1] - arrivals[0] + 1.0  # the last request's interval counts too
    print(
        f"   from the first request to the last: {span:.1f} s for {made} requests "
        f"(requests x interval {made * 1.0:.0f} s, ratio {made * 1.0 / span:.2f}); before the first: "
        f"{arrivals[0] - started_monotonic:.1f} s (sensor, run start), after the last: "
        f"{elapsed - (arrivals[-1] - started_monotonic):.1f} s (write)"
    )
    print(f"   before the first request, the run that fetched first: {lead_in}")
    print(
        f"   gaps between requests: median {statistics.median(gaps):.2f} s, max {max(gaps):.2f} s; "
        f"LiveRC idle beyond the interval {sum(max(0.0, g - 1.0) for g in gaps):.2f} s in all"
    )
    late = sorted(
        ((g, a - started_monotonic) for g, a in zip(gaps, arrivals[1:], strict=True)), reverse=True
    )[:3]
    print("   longest gaps end at: " + ", ".join(f"+{at:.1f} s ({gap:.2f} s)" for gap, at in late))
    print(
        f"\n3. Summaries during that burst: succeeded -> rows, max {max(fresh):.1f} s, median {statistics.median(fresh):.1f} s "
        f"(each: {', '.join(f'{f:.1f}' for f in fresh)})"
    )
    print(f"   the builds, medians: {build_breakdown(instance, started)}")


def build_everything(warehouse_url: str, run_build: Callable) -> None:
    """The first full summaries build of the grown warehouse, before the service starts: a deployment that
    has been running is measured, not its first build (benchmarks/summaries.py measures that)."""
    from mre_pipeline.defs import summaries
    from mre_pipeline.defs.resources import WarehouseResource

    definitions = summaries.summaries_definitions({"warehouse": WarehouseResource(url=warehouse_url)})
    with dg.instance_for_test() as instance:
        run_build(instance, definitions.resolve_job_def(summaries.SUMMARIES_JOB_NAME), {"event_ids": []})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--warehouse-laps", type=int, default=0)
    args = parser.parse_args()
    if len(FIVE_RACE_EVENTS) < args.reps + args.events:
        sys.exit(f"the generated site has only {len(FIVE_RACE_EVENTS)} five-race events")
    base = server.embedded_url(server.start_embedded(settings.state_dir() / "pgbench"), "postgres")
    with (
        scratch_database(base, "bench_wh") as warehouse_url,
        scratch_database(base, "bench_dg", migrated=False) as dagster_url,
    ):
        warehouse = sa.create_engine(warehouse_url, poolclass=sa.pool.NullPool)
        with warehouse.begin() as conn:
            upsert_catalogue(conn, "liverc", SITE.catalogue)
        if args.warehouse_laps:
            sys.path.insert(0, str(HERE))
            import summaries as bulk  # benchmarks/summaries.py

            bulk.grow(warehouse, args.warehouse_laps, 0)
            build_everything(warehouse_url, bulk.run_build)
            # A warehouse grows over months and autovacuum keeps up; here it was written in minutes, and
            # autovacuum would otherwise work through millions of fresh rows in the middle of the measurement.
            with warehouse.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
            print(f"warehouse grown to about {args.warehouse_laps:,} laps, summaries built", flush=True)
        with instance_for(dagster_url) as instance:
            noop_s = latency(args, warehouse_url, dagster_url, warehouse, instance)
            throughput(args, warehouse_url, dagster_url, warehouse, instance, noop_s)
        warehouse.dispose()


if __name__ == "__main__":
    main()
