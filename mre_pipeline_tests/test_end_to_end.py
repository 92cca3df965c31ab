"""End to end: `mre-pipeline dev` (webserver + daemon) on real Postgres against a loopback LiveRC.

The web app's part is played with plain SQL as role ``mre_webapp``; the catalogue run is launched through
the webserver's GraphQL API as an admin would from the UI. Captured pages are served from ../shared/liverc.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster_graphql import DagsterGraphQLClient
from sqlalchemy.engine import make_url

from mre_pipeline.connectors.liverc.pages.events import parse_events
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.captured import captured_site, use_event_page
from mre_pipeline.instance.warm_start import READY_MESSAGE
from mre_pipeline.warehouse import migrate
from mre_pipeline_tests.dagster_process import BIN, free_port, running
from mre_pipeline_tests.faults.service import wait_until

pytestmark = pytest.mark.e2e

RESULTS_SQL = """
SELECT r.source_race_id, d.source_driver_id, d.name, rr.position, rr.laps_completed,
       rr.total_time_s::float AS total, rr.fastest_lap_s::float AS fastest, rr.fastest_lap_number
FROM mre.race_results rr JOIN mre.races r USING (race_id) JOIN mre.drivers d USING (driver_id)
ORDER BY r.source_race_id, rr.position
"""


@pytest.fixture
def webapp(
    warehouse_url: str, clean_warehouse: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[sa.Engine]:
    """The web app's connection: role mre_webapp (insert + read requests, read the warehouse)."""
    password = secrets.token_urlsafe(12)
    monkeypatch.setenv("MRE_WEBAPP_PASSWORD", password)
    migrate.apply_role_passwords(warehouse_url)
    engine = sa.create_engine(
        make_url(warehouse_url).set(username="mre_webapp", password=password), poolclass=sa.pool.NullPool
    )
    yield engine
    engine.dispose()


def test_requests_flow_through_the_real_daemon(
    webapp: sa.Engine,
    clean_warehouse: sa.Engine,
    warehouse_url: str,
    dagster_storage_url: str,
    liverc_pages: Path,
    tmp_path: Path,
) -> None:
    truth = json.loads((liverc_pages / "ground_truth.json").read_text())
    warehouse = clean_warehouse

    def insert(sql: str) -> list[int]:
        with webapp.begin() as conn:
            return [r[0] for r in conn.exec_driver_sql(sql + " RETURNING request_id")]

    def request(request_id: int) -> sa.Row:
        with webapp.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT * FROM mre.ingestion_requests WHERE request_id = %s", (request_id,)
            ).one()

    def finished(request_id: int) -> sa.Row | None:
        row = request(request_id)
        return row if row.status in ("succeeded", "failed", "rejected") else None

    def count(sql: str) -> int:
        with warehouse.connect() as conn:
            return conn.exec_driver_sql(sql).scalar_one()

    site = captured_site(liverc_pages, event_page="event-486677.html")  # 32 races: 30 answer 404
    with FakeLiveRCServer(site) as liverc:
        port = free_port()
        env = {
            "MRE_DATABASE_URL": warehouse_url,
            "MRE_DAGSTER_DATABASE_URL": dagster_storage_url,
            "MRE_STATE_DIR": str(tmp_path / "state"),
            "MRE_REQUEST_SENSOR_INTERVAL_S": "2",
            "MRE_LIVERC_MIN_INTERVAL_S": "0.05",
            **liverc.env(),
        }
        with running(
            [str(BIN / "mre-pipeline"), "dev", "--port", str(port)], env, port, tmp_path / "dev.log"
        ):
            # Admin: refresh the catalogue from the UI's API (the schedule would do it daily).
            client = DagsterGraphQLClient("127.0.0.1", port_number=port)
            run_id = client.submit_job_execution("track_catalogue_job")
            status = wait_until(
                lambda: (
                    (s := client.get_run_status(run_id))
                    in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
                    and s
                ),
                180,
                "the catalogue run",
            )
            assert status == dg.DagsterRunStatus.SUCCESS
            assert count("SELECT count(*) FROM mre.tracks WHERE is_active") == 1090

            # Web app: discover canberraoffroad's events.
            [discover] = insert(
                "INSERT INTO mre.ingestion_requests (request_type, track_slug, held_between_start, held_between_end, "
                "requested_by) VALUES ('discover_events', 'canberraoffroad', '2025-01-01', '2025-12-31', 'e2e')"
            )
            row = wait_until(lambda: finished(discover), 180, "the discovery request")
            assert row.status == "succeeded", row.status_detail
            assert row.dagster_run_id
            assert count("SELECT count(*) FROM mre.events") == 100

            # The CLI's held-between list prints exactly the 2025 events of the listing.
            listing = parse_events(
                (liverc_pages / "canberraoffroad/events.html").read_text(), "canberraoffroad"
            )
            expected_2025 = sorted(
                e.event_id for e in listing if e.end_date.year >= 2025 and e.start_date.year <= 2025
            )
            out = subprocess.run(
                [
                    str(BIN / "mre-pipeline"),
                    "events",
                    "--track",
                    "canberraoffroad",
                    "--from",
                    "2025-01-01",
                    "--to",
                    "2025-12-31",
                ],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            printed = sorted(int(line.split()[0]) for line in out.splitlines()[1:-1])
            assert printed == expected_2025 and len(printed) > 5
            assert out.splitlines()[-1] == f"{len(expected_2025)} event(s)"

            # Ingest with 30 race pages missing: fails, names a missing race, writes nothing.
            [broken] = insert(
                "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id, requested_by) "
                "VALUES ('ingest_event', 'canberraoffroad', '486677', 'e2e')"
            )
            row = wait_until(lambda: finished(broken), 180, "the failing ingestion")
            assert row.status == "failed"
            assert "race 6304825" in row.status_detail and "HTTP 404" in row.status_detail
            assert row.dagster_run_id
            assert count("SELECT count(*) FROM mre.races") == 0
            assert count("SELECT ingest_depth FROM mre.events WHERE source_event_id = 486677") == "none"

            # Upstream now serves the two-race event: a new request ingests it completely.
            use_event_page(liverc.site, liverc_pages, "event-486677-two-races.html")
            [ingest] = insert(
                "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id, requested_by) "
                "VALUES ('ingest_event', 'canberraoffroad', '486677', 'e2e')"
            )
            row = wait_until(lambda: finished(ingest), 180, "the ingestion")
            assert row.status == "succeeded", row.status_detail
            assert row.dagster_run_id and row.dagster_run_id != request(broken).dagster_run_id
            assert count("SELECT count(*) FROM mre.races") == 2
            assert count("SELECT count(*) FROM mre.race_results") == 22
            assert count("SELECT count(*) FROM mre.laps") == 540
            with warehouse.connect() as conn:
                results = conn.exec_driver_sql(RESULTS_SQL).all()
            for race_id in ("6304829", "6304822"):
                expected = truth["race_results"][race_id]["drivers"]
                got = [r for r in results if str(r.source_race_id) == race_id]
                assert [(r.position, r.name, str(r.source_driver_id), r.laps_completed) for r in got] == [
                    (d["position"], d["driver_name"], d["racerlaps_key"], d["laps_excl_lap0"])
                    for d in expected
                ]
                assert [r.total for r in got] == [d["sum_lap_times"] for d in expected]
                assert [r.fastest for r in got] == [
                    float(d["fastest_lap_cell"]) if d["fastest_lap_cell"] else None for d in expected
                ]
                assert [r.fastest_lap_number for r in got] == [d["fastest_lap_no_cell"] for d in expected]

            # An already-ingested event succeeds at once, without a run and without touching LiveRC.
            served = len(liverc.requests)
            [again] = insert(
                "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id) "
                "VALUES ('ingest_event', 'canberraoffroad', '486677')"
            )
            row = wait_until(lambda: finished(again), 60, "the already-ingested request")
            assert row.status == "succeeded" and row.dagster_run_id is None
            assert "already fully ingested" in row.status_detail
            assert len(liverc.requests) == served

            # Two concurrent forced requests for the same event: one run, same final rows.
            before = results
            pair = insert(
                "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id, force) "
                "VALUES ('ingest_event', 'canberraoffroad', '486677', true), "
                "('ingest_event', 'canberraoffroad', '486677', true)"
            )
            rows = [wait_until(lambda i=i: finished(i), 180, f"forced request {i}") for i in pair]
            assert [r.status for r in rows] == ["succeeded", "succeeded"], [r.status_detail for r in rows]
            assert rows[0].dagster_run_id == rows[1].dagster_run_id
            with warehouse.connect() as conn:
                assert conn.exec_driver_sql(RESULTS_SQL).all() == before

            # Bad rows are rejected with reasons; a good row in the same batch still runs.
            bad = insert(
                "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id, held_between_start, "
                "held_between_end) VALUES "
                "('fetch_everything', 'canberraoffroad', NULL, NULL, NULL), "
                "('discover_events', '', NULL, NULL, NULL), "
                "('discover_events', 'canberra/offroad', NULL, NULL, NULL), "
                "('discover_events', 'canberraoffroad.liverc.com', NULL, NULL, NULL), "
                "('ingest_event', 'canberraoffroad', 'abc', NULL, NULL), "
                "('discover_events', 'canberraoffroad', NULL, '2025-12-31', '2025-01-01'), "
                "('discover_events', 'nosuchtrack', NULL, NULL, NULL), "
                "('discover_events', 'canberraoffroad', NULL, NULL, NULL)"
            )
            rows = [wait_until(lambda i=i: finished(i), 180, f"request {i}") for i in bad]
            assert [r.status for r in rows] == ["rejected"] * 7 + ["succeeded"], [
                r.status_detail for r in rows
            ]
            assert all(r.status_detail for r in rows)

            # The lap summaries are rebuilt after ingestion, by their own sensor, not inside the event runs.
            def summaries() -> int:
                with warehouse.connect() as conn:
                    if not conn.exec_driver_sql(
                        "SELECT to_regclass('mre_summaries.driver_race_summary')"
                    ).scalar():
                        return 0
                    return conn.exec_driver_sql(  # this test's event, whatever earlier tests left
                        "SELECT count(*) FROM mre_summaries.driver_race_summary s "
                        "JOIN mre.events e USING (event_id) WHERE e.source_event_id = 486677"
                    ).scalar()

            assert wait_until(lambda: summaries() == 22, 300, "the dbt summaries", interval_s=3)

            # Once the daemon has preloaded the code, request runs start warm: forked, not a new interpreter.
            request_runs = [request(i).dagster_run_id for i in (broken, ingest)]
            with sa.create_engine(dagster_storage_url, poolclass=sa.pool.NullPool).connect() as dagster_db:
                starts = dict(
                    dagster_db.execute(
                        sa.text(
                            "SELECT run_id, value FROM run_tags WHERE key = 'mre/run_start' AND run_id IN :ids"
                        ).bindparams(sa.bindparam("ids", expanding=True)),
                        {"ids": request_runs},
                    ).all()
                )
            assert starts == dict.fromkeys(request_runs, "warm")
            assert READY_MESSAGE in (tmp_path / "dev.log").read_text(errors="replace"), "the daemon says so"
