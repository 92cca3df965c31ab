"""The distributed topology end to end: deploy/local/up.sh on loopback, the web app's requests, two workers.

Real parts throughout: Postgres, Redis (Debian's redis-server), Dagster's code servers, webserver and
daemon as separate processes, two Celery run workers (each with its own DAGSTER_HOME and state folder),
and a generated LiveRC site on loopback where every track is a host of its own (``<slug>.localhost``).
The web app is played as role ``mre_webapp`` with plain SQL.

1. Six ``ingest_event`` requests at three tracks, inserted at once, all succeed; the runs ran on both
   workers; LiveRC saw no two requests to one host closer than ``MRE_LIVERC_MIN_INTERVAL_S`` (0.5 s), while
   requests to different hosts overlapped.
2. One run's process dies under a live worker (SIGKILL, as the OOM killer does): the worker reports its
   task failed, run monitoring fails the run, the retry succeeds.
3. One worker is killed whole (SIGKILL of its process group) while its run waits on a page: run
   monitoring fails the run, run retries start it again on the other worker, the request follows the retry
   to ``succeeded``; meanwhile another request is served by the other worker.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator

import dagster as dg
import pytest
import sqlalchemy as sa

from mre_pipeline import settings
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.fake_liverc.server import LoggedRequest, Route
from mre_pipeline.instance.celery_launcher import WORKER_TAG
from mre_pipeline.instance.run_launcher import worker_started
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.event_results import event_row_counts
from mre_pipeline.warehouse.scratch import scratch_database
from mre_pipeline_tests.dagster_process import free_port, wait_for_no_processes
from mre_pipeline_tests.distributed.topology import LocalTopology, require_tools
from mre_pipeline_tests.faults.service import WebApp, as_webapp, wait_until

pytestmark = [pytest.mark.distributed, pytest.mark.e2e]

MIN_INTERVAL_S = 0.5
SITE = generate_site(
    13,
    tracks=4,
    events_per_track=2,
    extra_catalogue_tracks=0,
    big_first_event=False,
    classes_per_event=(1, 1),
    qualifier_rounds=(1, 1),
)
REQUEST_LIMIT_S = 300
RECOVERY_LIMIT_S = 300


class Deployment:
    """The running topology and what the tests read from it."""

    def __init__(
        self, topology: LocalTopology, liverc: FakeLiveRCServer, webapp: WebApp, instance, engine: sa.Engine
    ):
        self.topology = topology
        self.liverc = liverc
        self.webapp = webapp
        self.instance: dg.DagsterInstance = instance
        self.engine = engine

    def worker_of(self, run_id: str) -> str | None:
        run = self.instance.get_run_by_id(run_id)
        return run.tags.get(WORKER_TAG) if run else None


@pytest.fixture(scope="module")
def deployment(pg_base_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    require_tools()
    tmp = tmp_path_factory.mktemp("distributed")
    marker = f"MRE_TEST_SESSION={uuid.uuid4().hex}"
    with (
        scratch_database(pg_base_url, "mre_dist") as warehouse_url,
        scratch_database(pg_base_url, "dagster_dist", migrated=False) as dagster_url,
        FakeLiveRCServer(SITE.fake_site()) as liverc,
        pytest.MonkeyPatch.context() as mp,
    ):
        engine = sa.create_engine(warehouse_url, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            upsert_catalogue(conn, "liverc", SITE.catalogue)
        topology = LocalTopology(
            {
                "MRE_DATABASE_URL": warehouse_url,
                "MRE_DAGSTER_DATABASE_URL": dagster_url,
                "MRE_STATE_DIR": str(tmp / "state"),
                "MRE_UI_PORT": str(free_port()),
                "MRE_WORKERS": "2",
                "MRE_WORKER_CONCURRENCY": "2",
                "MRE_REQUEST_SENSOR_INTERVAL_S": "2",
                "MRE_LIVERC_MIN_INTERVAL_S": str(MIN_INTERVAL_S),
                "MRE_LIVERC_CATALOGUE_URL": f"http://live.localhost:{liverc.port}/",
                "MRE_LIVERC_TRACK_URL": f"http://{{slug}}.localhost:{liverc.port}",
                # A stalled page must still be in flight when its worker is killed.
                "MRE_LIVERC_TIMEOUT_S": "900",
                "MRE_LIVERC_RESPONSE_DEADLINE_S": "900",
                marker.split("=")[0]: marker.split("=")[1],
            }
        )
        webapp = as_webapp(warehouse_url)
        mp.setenv("MRE_DAGSTER_DATABASE_URL", dagster_url)
        try:
            print(topology.up())
            with dg.DagsterInstance.from_config(str(settings.PROJECT_ROOT)) as instance:
                yield Deployment(topology, liverc, webapp, instance, engine)
        finally:
            print(topology.down())
            webapp.dispose()
            engine.dispose()
            survivors = wait_for_no_processes(marker, 30)
            assert survivors == [], f"processes left running after down.sh: {survivors}"


def _requests_by_host(requests: list[LoggedRequest], since: float) -> dict[str, list[float]]:
    by_host: dict[str, list[float]] = defaultdict(list)
    for request in requests:
        if request.at >= since and request.slug is not None:
            by_host[request.slug].append(request.at)
    return {host: sorted(times) for host, times in by_host.items()}


def _spans_overlap(by_host: dict[str, list[float]]) -> list[tuple[str, str]]:
    """Pairs of hosts whose requests interleaved in time (each's first request before the other's last)."""
    spans = {host: (times[0], times[-1]) for host, times in by_host.items()}
    hosts = sorted(spans)
    return [
        (a, b)
        for i, a in enumerate(hosts)
        for b in hosts[i + 1 :]
        if spans[a][0] < spans[b][1] and spans[b][0] < spans[a][1]
    ]


def test_six_requests_at_three_tracks_succeed_on_both_workers_politely(deployment: Deployment) -> None:
    tracks = SITE.tracks[:3]
    since = time.monotonic()
    with deployment.webapp.engine.begin() as conn:  # inserted at once, as the web app would
        request_ids = [
            conn.execute(
                sa.text(
                    "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id, requested_by) "
                    "VALUES ('ingest_event', :track, :event, 'user:dist') RETURNING request_id"
                ),
                {"track": track.key, "event": str(event.event_id)},
            ).scalar_one()
            for track in tracks
            for event in track.events
        ]
    rows = [
        wait_until(lambda rid=rid: deployment.webapp.final(rid), REQUEST_LIMIT_S, f"request {rid}")
        for rid in request_ids
    ]
    elapsed = time.monotonic() - since

    placement = [(row.request_id, row.track_slug, row.source_event_id, row.dagster_run_id) for row in rows]
    workers = {run_id: deployment.worker_of(run_id) for *_, run_id in placement}
    print(f"\n6 requests final after {elapsed:.1f} s")
    for request_id, track, event_id, run_id in placement:
        print(f"  request {request_id}  {track}/{event_id}  run {run_id[:8]}  on {workers[run_id]}")
    assert [row.status for row in rows] == ["succeeded"] * 6, [(r.status, r.status_detail) for r in rows]
    assert len(set(workers.values())) >= 2, f"every run executed on one worker: {workers}"
    with deployment.engine.connect() as conn:
        for track in tracks:
            for event in track.events:
                assert event_row_counts(conn, "liverc", event.event_id)["races"] == len(event.races)

    by_host = _requests_by_host(deployment.liverc.requests, since)
    assert set(by_host) == {track.key for track in tracks}
    gaps = {host: [b - a for a, b in zip(times, times[1:], strict=False)] for host, times in by_host.items()}
    for host, host_gaps in gaps.items():
        print(f"  {host}: {len(by_host[host])} requests, closest two {min(host_gaps):.3f} s apart")
        assert min(host_gaps) >= MIN_INTERVAL_S, f"two requests to {host} {min(host_gaps):.3f} s apart"
    everything = sorted((at, host) for host, times in by_host.items() for at in times)
    cross_host = [b[0] - a[0] for a, b in zip(everything, everything[1:], strict=False) if a[1] != b[1]]
    overlapping = _spans_overlap(by_host)
    print(
        f"  hosts whose requests interleaved: {overlapping}; closest requests to two hosts "
        f"{min(cross_host):.3f} s apart"
    )
    assert overlapping, "the three hosts were fetched one after another, not side by side"
    assert min(cross_host) < MIN_INTERVAL_S, "requests to different hosts were paced as if one host"


def _stalled_run(deployment: Deployment, track, event) -> tuple[int, str, str]:
    """Request ``event`` with its last race page answering only after 10 minutes (once: the retry gets it
    at once); returns the request id, its run id and the Celery node running it, once it waits on the page."""
    stall_path = SITE.race_path(event.races[-1].race_id)
    deployment.liverc.site.fail(
        track.key, stall_path, Route(200, SITE.page(track.key, stall_path), delay_s=600)
    )
    webapp, liverc = deployment.webapp, deployment.liverc
    request_id = webapp.request(track.key, event.event_id)
    wait_until(lambda: liverc.requests_for(track.key, stall_path), 180, "the stalled race page")
    run_id = wait_until(lambda: webapp.row(request_id).dagster_run_id, 60, "the run id")
    node = wait_until(lambda: deployment.worker_of(run_id), 60, "the run's worker tag")
    return request_id, run_id, node


def _assert_retried(deployment: Deployment, dead_run: str, row) -> dg.DagsterRun:
    """Run monitoring failed the dead run, Dagster retried it once, and the request followed the retry."""
    assert row.status == "succeeded", row.status_detail
    dead = deployment.instance.get_run_by_id(dead_run)
    assert dead is not None and dead.status == dg.DagsterRunStatus.FAILURE
    assert dead.tags.get("dagster/will_retry") == "true"
    assert row.dagster_run_id != dead_run
    retry = wait_until(
        lambda: (
            (r := deployment.instance.get_run_by_id(row.dagster_run_id)) is not None and r.is_finished and r
        ),
        120,
        "the retry run to end",
    )
    assert retry.status == dg.DagsterRunStatus.SUCCESS
    assert retry.tags.get("dagster/parent_run_id") == dead_run
    return retry


def test_a_run_process_killed_under_a_live_worker_is_retried(deployment: Deployment) -> None:
    track = SITE.tracks[3]
    request_id, dead_run, node = _stalled_run(deployment, track, track.events[1])
    pid, _ = wait_until(lambda: worker_started(deployment.instance, dead_run), 60, "the run's process id")
    os.kill(pid, signal.SIGKILL)  # the run's pool process only; its worker lives on
    killed_at = time.monotonic()
    row = wait_until(lambda: deployment.webapp.final(request_id), RECOVERY_LIMIT_S, "the request")
    _assert_retried(deployment, dead_run, row)
    assert "Celery task of this run failed" in _run_failure_message(deployment.instance, dead_run)
    print(
        f"\nkilled the process (pid {pid}) of run {dead_run[:8]} on {node}; retried as "
        f"{row.dagster_run_id[:8]} on {deployment.worker_of(row.dagster_run_id)}; request succeeded "
        f"{time.monotonic() - killed_at:.1f} s after the kill"
    )


def test_killing_a_worker_mid_run_recovers_the_request_on_the_other(deployment: Deployment) -> None:
    stalled_track, bystander_track = SITE.tracks[3], SITE.tracks[0]
    stalled_event = stalled_track.events[0]
    webapp = deployment.webapp
    stalled, dead_run, node = _stalled_run(deployment, stalled_track, stalled_event)
    service = node.split("@", 1)[0]
    deployment.topology.kill_9(service)
    killed_at = time.monotonic()
    print(f"\nkilled {service} ({node}) running {dead_run[:8]}")

    # The other worker goes on: a request made now is served while the dead run is being recovered.
    bystander = webapp.request(bystander_track.key, bystander_track.events[0].event_id, force=True)
    bystander_row = wait_until(lambda: webapp.final(bystander), REQUEST_LIMIT_S, "the bystander request")
    assert bystander_row.status == "succeeded", bystander_row.status_detail
    survivor = deployment.worker_of(bystander_row.dagster_run_id)
    assert survivor is not None and survivor != node

    row = wait_until(lambda: webapp.final(stalled), RECOVERY_LIMIT_S, "the killed worker's request")
    recovered_after = time.monotonic() - killed_at
    retry = _assert_retried(deployment, dead_run, row)
    assert retry.tags.get(WORKER_TAG) == survivor
    failure_message = _run_failure_message(deployment.instance, dead_run)
    assert "no longer running on worker " + node in failure_message, failure_message
    with deployment.engine.connect() as conn:
        assert event_row_counts(conn, "liverc", stalled_event.event_id)["races"] == len(stalled_event.races)
    print(
        f"  the dead run {dead_run[:8]} failed by run monitoring, retried as {row.dagster_run_id[:8]} on "
        f"{survivor}; request succeeded {recovered_after:.1f} s after the kill"
    )


def _run_failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    return " ".join(
        r.event_log_entry.dagster_event.message or "" for r in records if r.event_log_entry.dagster_event
    )
