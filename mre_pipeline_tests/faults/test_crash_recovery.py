"""Fault suite, end to end: processes die mid-ingest and every request still ends, with no human action.

Real parts throughout: `mre-pipeline dev` (webserver + daemon) on real Postgres, a generated LiveRC site on
loopback, the web app played as role `mre_webapp`. A race page answers only after 10 minutes, so the run is
caught mid-fetch; then its worker process, or the whole service, is killed with SIGKILL (what an OOM kill or
a reboot does). Dagster's run monitoring must fail the dead run, run retries must start it again, the request
must follow the retry to `succeeded`, and other events must not be blocked meanwhile.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from mre_pipeline import settings
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.fake_liverc.server import Route
from mre_pipeline.instance.run_launcher import worker_started
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.event_results import event_row_counts
from mre_pipeline_tests.faults.service import DevService, as_webapp, wait_until

pytestmark = pytest.mark.e2e

SITE = generate_site(21, tracks=4, events_per_track=1, extra_catalogue_tracks=0, big_first_event=False)
FINAL = ("succeeded", "failed", "rejected")
RECOVERY_LIMIT_S = 300  # the bound: a final status within 5 minutes of the restart


def _event(track_index: int):
    track = SITE.tracks[track_index]
    return track, track.events[0]


def _stall(site, track, event) -> str:
    """The event's last race page answers only after 10 minutes, once; the retry gets it at once."""
    path = SITE.race_path(event.races[-1].race_id)
    site.fail(track.key, path, Route(200, SITE.page(track.key, path), delay_s=600))
    return path


@pytest.fixture
def instance(
    dagster_storage_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    """The same Dagster instance the service uses, read from the test (runs, tags, event log)."""
    monkeypatch.setenv("MRE_DAGSTER_DATABASE_URL", dagster_storage_url)
    monkeypatch.setenv("MRE_DAGSTER_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setenv("MRE_DAGSTER_COMPUTE_LOGS_DIR", str(tmp_path / "logs"))
    with dg.DagsterInstance.from_config(str(settings.PROJECT_ROOT)) as dagster:
        yield dagster


def test_requests_survive_kill_9_of_a_worker_and_of_the_whole_service(
    clean_warehouse: sa.Engine,
    warehouse_url: str,
    dagster_storage_url: str,
    instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    with clean_warehouse.begin() as conn:
        upsert_catalogue(conn, "liverc", SITE.catalogue)
    webapp = as_webapp(warehouse_url)
    site = SITE.fake_site()
    worker_track, worker_event = _event(0)
    service_track, service_event = _event(1)
    other_track, other_event = _event(2)
    worker_stall = _stall(site, worker_track, worker_event)
    service_stall = _stall(site, service_track, service_event)
    timeline: list[tuple[str, float]] = []

    def mark(what: str) -> None:
        timeline.append((what, time.monotonic()))

    with FakeLiveRCServer(site) as liverc:
        env = {
            "MRE_DATABASE_URL": warehouse_url,
            "MRE_DAGSTER_DATABASE_URL": dagster_storage_url,
            "MRE_STATE_DIR": str(tmp_path / "state"),
            "MRE_REQUEST_SENSOR_INTERVAL_S": "2",
            "MRE_LIVERC_MIN_INTERVAL_S": "0",
            "MRE_LIVERC_TIMEOUT_S": "900",
            "MRE_LIVERC_RESPONSE_DEADLINE_S": "900",
            **liverc.env(),
        }
        service = DevService(env, tmp_path)
        try:
            service.start()

            # 1. kill -9 of one run's worker process, caught mid-fetch.
            first = webapp.request(worker_track.key, worker_event.event_id)
            wait_until(
                lambda: liverc.requests_for(worker_track.key, worker_stall), 180, "the stalled race page"
            )
            run_id = wait_until(lambda: webapp.row(first).dagster_run_id, 60, "the run id")
            pid, _ = wait_until(lambda: worker_started(instance, run_id), 60, "the worker pid")
            os.kill(pid, signal.SIGKILL)
            mark("worker killed")
            row = wait_until(lambda: webapp.final(first), RECOVERY_LIMIT_S, "the worker-killed request")
            mark("worker-killed request final")
            assert row.status == "succeeded", row.status_detail
            _assert_retried(instance, run_id, row.dagster_run_id)

            # 2. kill -9 of the whole service, caught mid-fetch; then a restart and nothing else.
            second = webapp.request(service_track.key, service_event.event_id)
            wait_until(lambda: liverc.requests_for(service_track.key, service_stall), 180, "the stalled page")
            dead_run = wait_until(lambda: webapp.row(second).dagster_run_id, 60, "the run id")
            survivors = service.kill_9()
            mark("service killed")
            assert survivors == [], f"processes survived SIGKILL of the service: {survivors}"
            assert webapp.row(second).status == "running", "the request is stranded until the service is back"

            service.start()
            mark("service ready again")
            other = webapp.request(other_track.key, other_event.event_id)
            row = wait_until(lambda: webapp.final(second), RECOVERY_LIMIT_S, "the stranded request")
            mark("stranded request final")
            assert row.status == "succeeded", row.status_detail
            _assert_retried(instance, dead_run, row.dagster_run_id)
            other_row = wait_until(lambda: webapp.final(other), 180, "the other event's request")
            assert other_row.status == "succeeded", "another event's ingestion was blocked by the dead run"

            # The data is the complete event, exactly once; a fresh request for it succeeds too.
            for track, event in ((worker_track, worker_event), (service_track, service_event)):
                with clean_warehouse.connect() as conn:
                    counts = event_row_counts(conn, "liverc", event.event_id)
                assert counts["races"] == len(event.races)
                assert counts["laps"] == sum(
                    len(d.laps) for r in event.races for d in SITE.races[(track.key, r.race_id)].drivers
                )
            fresh = webapp.request(service_track.key, service_event.event_id, force=True)
            assert wait_until(lambda: webapp.final(fresh), 180, "the fresh request").status == "succeeded"
        finally:
            service.stop()
            webapp.dispose()
            _print_timeline(timeline)


def _assert_retried(instance: dg.DagsterInstance, dead_run_id: str, final_run_id: str) -> None:
    """Dagster failed the dead run (run monitoring) and its automatic retry did the work."""
    dead = instance.get_run_by_id(dead_run_id)
    assert dead is not None and dead.status == dg.DagsterRunStatus.FAILURE
    assert dead.tags.get("dagster/will_retry") == "true"
    assert final_run_id != dead_run_id
    # The request settles inside the data's transaction, a moment before the run itself ends.
    retry = wait_until(
        lambda: (r := instance.get_run_by_id(final_run_id)) is not None and r.is_finished and r,
        120,
        "the retry run to end",
    )
    assert retry.status == dg.DagsterRunStatus.SUCCESS
    assert retry.tags.get("dagster/parent_run_id") == dead_run_id


def _print_timeline(timeline: list[tuple[str, float]]) -> None:
    if not timeline:
        return
    start = timeline[0][1]
    for what, at in timeline:
        print(f"  +{at - start:7.1f} s  {what}")
