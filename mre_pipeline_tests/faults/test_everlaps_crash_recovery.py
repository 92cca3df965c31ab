"""Fault suite, Everlaps: an Everlaps request survives kill -9 of its worker and of the whole service, as a
LiveRC one does (test_crash_recovery.py), with the web app's insert exactly as the issue writes it.

Real parts throughout: `mre-pipeline dev` on real Postgres, generated Everlaps events on loopback. One heat
answers only after 10 minutes (once), so the run is caught mid-fetch and killed; Dagster's run monitoring
fails the dead run, its retry does the work, and the request follows it to ``succeeded``.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psutil
import pytest
import sqlalchemy as sa

from mre_pipeline import settings
from mre_pipeline.fake_everlaps import FakeEverlapsServer, FakeEverlapsSite
from mre_pipeline.fake_everlaps.generator import GeneratedEvent, generate_event
from mre_pipeline.fake_everlaps.server import Route, delayed_fault
from mre_pipeline.instance.run_launcher import worker_started
from mre_pipeline.warehouse.event_results import event_row_counts
from mre_pipeline_tests.faults.service import DevService, WebApp, as_webapp, wait_until

pytestmark = pytest.mark.e2e

EVENTS = [generate_event(60 + i, classes=1, drivers_per_class=6, semi_series=1) for i in range(3)]
RECOVERY_LIMIT_S = 300
WEB_APP_INSERT = (
    "INSERT INTO mre.ingestion_requests (source, request_type, source_event_id) "
    "VALUES ('everlaps', 'ingest_event', :event) RETURNING request_id"
)


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


def site_of(events: list[GeneratedEvent]) -> FakeEverlapsSite:
    site = FakeEverlapsSite()
    for event in events:
        for path, payload in event.payloads.items():
            site.put(path, payload)
    return site


def stall(site: FakeEverlapsSite, event: GeneratedEvent) -> str:
    """The event's last heat answers only after 10 minutes, once; the retry gets it at once."""
    path = f"/api/res/{event.event_id}/{event.detail.races[-1].locator}"
    site.fail(path, delayed_fault(600, Route.json(site.payload(path))))
    return path


def request(webapp: WebApp, event: GeneratedEvent) -> int:
    with webapp.engine.begin() as conn:
        return conn.execute(sa.text(WEB_APP_INSERT), {"event": str(event.event_id)}).scalar_one()


def test_everlaps_requests_survive_kill_9_of_a_worker_and_of_the_whole_service(
    clean_warehouse: sa.Engine,
    warehouse_url: str,
    dagster_storage_url: str,
    instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    webapp = as_webapp(warehouse_url)
    orphans: list[psutil.Process] = []
    site = site_of(EVENTS)
    worker_event, service_event, other_event = EVENTS
    worker_stall = stall(site, worker_event)
    service_stall = stall(site, service_event)
    with FakeEverlapsServer(site) as everlaps:
        env = {
            "MRE_DATABASE_URL": warehouse_url,
            "MRE_DAGSTER_DATABASE_URL": dagster_storage_url,
            "MRE_STATE_DIR": str(tmp_path / "state"),
            "MRE_REQUEST_SENSOR_INTERVAL_S": "2",
            "MRE_EVERLAPS_MIN_INTERVAL_S": "0",
            "MRE_EVERLAPS_TIMEOUT_S": "900",
            **everlaps.env(),
        }
        service = DevService(env, tmp_path)
        try:
            service.start()

            # 1. kill -9 of the run's worker process, caught mid-fetch.
            first = request(webapp, worker_event)
            wait_until(lambda: everlaps.requests_for(worker_stall), 180, "the stalled heat")
            run_id = wait_until(lambda: webapp.row(first).dagster_run_id, 60, "the run id")
            pid, _ = wait_until(lambda: worker_started(instance, run_id), 60, "the worker pid")
            orphans = psutil.Process(pid).children(recursive=True)  # its step process outlives it
            os.kill(pid, signal.SIGKILL)
            row = wait_until(lambda: webapp.final(first), RECOVERY_LIMIT_S, "the worker-killed request")
            assert row.status == "succeeded", row.status_detail
            assert_retried(instance, run_id, row.dagster_run_id)

            # 2. kill -9 of the whole service, caught mid-fetch; a restart and nothing else.
            second = request(webapp, service_event)
            wait_until(lambda: everlaps.requests_for(service_stall), 180, "the stalled heat")
            dead_run = wait_until(lambda: webapp.row(second).dagster_run_id, 60, "the run id")
            assert service.kill_9() == [], "processes survived SIGKILL of the service"
            assert webapp.row(second).status == "running"
            service.start()
            other = request(webapp, other_event)
            row = wait_until(lambda: webapp.final(second), RECOVERY_LIMIT_S, "the stranded request")
            assert row.status == "succeeded", row.status_detail
            assert_retried(instance, dead_run, row.dagster_run_id)
            other_row = wait_until(lambda: webapp.final(other), 180, "the other event's request")
            assert other_row.status == "succeeded", other_row.status_detail

            # Every event complete, exactly once.
            for event in EVENTS:
                with clean_warehouse.connect() as conn:
                    counts = event_row_counts(conn, "everlaps", event.event_id)
                assert (counts["races"], counts["results"]) == (len(event.results), event.driver_results)
                assert counts["laps"] == sum(len(d.laps) for r in event.results.values() for d in r.drivers)
        finally:
            service.stop()
            webapp.dispose()
            for process in orphans:  # still waiting for the stalled heat: not ours to leave running
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()


def assert_retried(instance: dg.DagsterInstance, dead_run_id: str, final_run_id: str) -> None:
    """Dagster failed the dead run (run monitoring) and its automatic retry did the work."""
    dead = instance.get_run_by_id(dead_run_id)
    assert dead is not None and dead.status == dg.DagsterRunStatus.FAILURE
    assert dead.tags.get("dagster/will_retry") == "true"
    assert final_run_id != dead_run_id
    retry = wait_until(
        lambda: (r := instance.get_run_by_id(final_run_id)) is not None and r.is_finished and r,
        120,
        "the retry run to end",
    )
    assert retry.status == dg.DagsterRunStatus.SUCCESS
    assert retry.tags.get("dagster/parent_run_id") == dead_run_id
