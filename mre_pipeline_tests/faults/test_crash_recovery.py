"""Fault suite, end to end: processes die mid-ingest and every request still ends, with no human action, for
both sources.

Real parts throughout: `mre-pipeline dev` on real Postgres, a generated LiveRC site and generated Everlaps
events on loopback, the web app played as role `mre_webapp` with its inserts as the README writes them. A page
answers only after 10 minutes (once), so a run is caught mid-fetch; then its worker process (a LiveRC event),
or the whole service (an Everlaps event), is killed with SIGKILL, what an OOM kill or a reboot does. Dagster's
run monitoring must fail the dead run, run retries must start it again, the request must follow the retry to
`succeeded`, and another event must not be blocked meanwhile.
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
from mre_pipeline.fake_everlaps import FakeEverlapsServer, FakeEverlapsSite
from mre_pipeline.fake_everlaps.generator import GeneratedEvent, generate_event
from mre_pipeline.fake_everlaps.server import Route as EverlapsRoute
from mre_pipeline.fake_everlaps.server import delayed_fault
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.fake_liverc.server import Route
from mre_pipeline.instance.run_launcher import worker_started
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.event_results import event_row_counts
from mre_pipeline_tests.faults.service import DevService, WebApp, as_webapp, wait_until

pytestmark = pytest.mark.e2e

SITE = generate_site(21, tracks=2, events_per_track=1, extra_catalogue_tracks=0, big_first_event=False)
EVERLAPS_EVENT = generate_event(61, classes=1, drivers_per_class=6, semi_series=1)
RECOVERY_LIMIT_S = 300  # the bound: a final status within 5 minutes of the restart
STALL_S = 600


@pytest.fixture
def instance(dagster_storage_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    """The same Dagster instance the service uses, read from the test (runs, tags, event log)."""
    monkeypatch.setenv("MRE_DAGSTER_DATABASE_URL", dagster_storage_url)
    with dg.DagsterInstance.from_config(str(settings.PROJECT_ROOT)) as dagster:
        yield dagster


def _stall_liverc_race(site, track, event) -> str:
    """The event's last race page answers only after 10 minutes, once; the retry gets it at once."""
    path = SITE.race_path(event.races[-1].race_id)
    site.fail(track.key, path, Route(200, SITE.page(track.key, path), delay_s=STALL_S))
    return path


def _everlaps_site(event: GeneratedEvent) -> tuple[FakeEverlapsSite, str]:
    """The event served with its last heat answering only after 10 minutes, once."""
    site = FakeEverlapsSite()
    for path, payload in event.payloads.items():
        site.put(path, payload)
    stalled = f"/api/res/{event.event_id}/{event.detail.races[-1].locator}"
    site.fail(stalled, delayed_fault(STALL_S, EverlapsRoute.json(site.payload(stalled))))
    return site, stalled


def _request_everlaps(webapp: WebApp, event_id: int) -> int:
    """The web app's insert exactly as the README writes it for Everlaps."""
    with webapp.engine.begin() as conn:
        return conn.execute(
            sa.text(
                "INSERT INTO mre.ingestion_requests (source, request_type, source_event_id) "
                "VALUES ('everlaps', 'ingest_event', :event) RETURNING request_id"
            ),
            {"event": str(event_id)},
        ).scalar_one()


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
    liverc_site = SITE.fake_site()
    (worker_track, other_track) = SITE.tracks
    worker_event, other_event = worker_track.events[0], other_track.events[0]
    worker_stall = _stall_liverc_race(liverc_site, worker_track, worker_event)
    everlaps_site, service_stall = _everlaps_site(EVERLAPS_EVENT)
    timeline: list[tuple[str, float]] = []

    def mark(what: str) -> None:
        timeline.append((what, time.monotonic()))

    with FakeLiveRCServer(liverc_site) as liverc, FakeEverlapsServer(everlaps_site) as everlaps:
        env = {
            "MRE_DATABASE_URL": warehouse_url,
            "MRE_DAGSTER_DATABASE_URL": dagster_storage_url,
            "MRE_STATE_DIR": str(tmp_path / "state"),
            "MRE_REQUEST_SENSOR_INTERVAL_S": "2",
            "MRE_LIVERC_MIN_INTERVAL_S": "0",
            "MRE_LIVERC_RESPONSE_DEADLINE_S": "900",
            "MRE_LIVERC_TIMEOUT_S": "900",
            "MRE_EVERLAPS_MIN_INTERVAL_S": "0",
            "MRE_EVERLAPS_RESPONSE_DEADLINE_S": "900",
            "MRE_EVERLAPS_TIMEOUT_S": "900",
            **liverc.env(),
            **everlaps.env(),
        }
        service = DevService(env, tmp_path)
        try:
            service.start()

            # 1. kill -9 of one run's worker process (a LiveRC event), caught mid-fetch.
            first = webapp.request(worker_track.key, worker_event.event_id)
            wait_until(
                lambda: liverc.requests_for(worker_track.key, worker_stall), 180, "the stalled race page"
            )
            run_id = wait_until(lambda: webapp.row(first).dagster_run_id, 60, "the run id")
            pid, _ = wait_until(lambda: worker_started(instance, run_id), 60, "the worker pid")
            os.kill(pid, signal.SIGKILL)
            mark("LiveRC run's worker killed")
            row = wait_until(lambda: webapp.final(first), RECOVERY_LIMIT_S, "the worker-killed request")
            mark("its request final")
            assert row.status == "succeeded", row.status_detail
            _assert_retried(instance, run_id, row.dagster_run_id)

            # 2. kill -9 of the whole service (an Everlaps event), caught mid-fetch; a restart and nothing else.
            second = _request_everlaps(webapp, EVERLAPS_EVENT.event_id)
            wait_until(lambda: everlaps.requests_for(service_stall), 180, "the stalled heat")
            dead_run = wait_until(lambda: webapp.row(second).dagster_run_id, 60, "the run id")
            survivors = service.kill_9()
            mark("whole service killed")
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
            mark("other event's request final")
            assert other_row.status == "succeeded", "another event's ingestion was blocked by the dead run"

            # The data is the complete event, exactly once; a fresh request for it succeeds too.
            with clean_warehouse.connect() as conn:
                liverc_counts = event_row_counts(conn, "liverc", worker_event.event_id)
                everlaps_counts = event_row_counts(conn, "everlaps", EVERLAPS_EVENT.event_id)
            assert liverc_counts["races"] == len(worker_event.races)
            assert liverc_counts["laps"] == sum(
                len(d.laps)
                for r in worker_event.races
                for d in SITE.races[(worker_track.key, r.race_id)].drivers
            )
            assert (everlaps_counts["races"], everlaps_counts["results"]) == (
                len(EVERLAPS_EVENT.results),
                EVERLAPS_EVENT.driver_results,
            )
            fresh = webapp.request(worker_track.key, worker_event.event_id, force=True)
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
