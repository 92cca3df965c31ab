"""End to end, a second source: `mre-pipeline dev` (webserver + daemon) on real Postgres, the captured Everlaps
event 3702 over loopback next to a generated LiveRC site, the web app played as role ``mre_webapp``.

The issue's done-when: the web app's Everlaps insert ends ``succeeded`` with 15 races and 112 results as
published; a malformed Everlaps answer ends ``failed`` with a reason and writes nothing; a LiveRC request
inserted exactly as today still works; ``driver_race_summary`` holds both events side by side.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mre_pipeline.fake_everlaps import FakeEverlapsServer
from mre_pipeline.fake_everlaps.captured import capture_available, capture_root, captured_site, load_capture
from mre_pipeline.fake_everlaps.server import malformed_fault
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.event_results import event_row_counts
from mre_pipeline_tests.dagster_process import BIN, free_port, running
from mre_pipeline_tests.faults.service import WebApp, as_webapp, wait_until

pytestmark = pytest.mark.e2e

LIVERC_SITE = generate_site(31, tracks=1, events_per_track=1, extra_catalogue_tracks=0, big_first_event=False)
EVERLAPS_INSERT = (
    "INSERT INTO mre.ingestion_requests (source, request_type, source_event_id) "
    "VALUES ('everlaps', 'ingest_event', '3702') RETURNING request_id"
)
LIVERC_INSERT = (
    "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id, requested_by) "
    "VALUES ('ingest_event', :track, :event, 'e2e') RETURNING request_id"
)
EVERLAPS_RESULTS_SQL = """
SELECT r.locator, d.name, rr.position, rr.laps_completed, rr.total_time_s::float AS total,
       rr.fastest_lap_s::float AS fastest, rr.fastest_lap_number,
       (SELECT count(*) FROM mre.laps l WHERE l.race_result_id = rr.race_result_id) AS lap_rows
FROM mre.race_results rr JOIN mre.races r USING (race_id) JOIN mre.drivers d USING (driver_id)
JOIN mre.events e ON e.event_id = r.event_id
WHERE e.source = 'everlaps' AND e.source_event_id = 3702
ORDER BY r.locator, rr.position
"""


@pytest.fixture(scope="module")
def capture() -> dict[str, Any]:
    if not capture_available():
        pytest.skip(f"captured Everlaps event not found at {capture_root()} (set MRE_EVERLAPS_CAPTURE)")
    return load_capture()


@pytest.fixture
def webapp(warehouse_url: str, clean_warehouse: sa.Engine) -> Iterator[WebApp]:
    app = as_webapp(warehouse_url)
    yield app
    app.dispose()


def insert(webapp: WebApp, sql: str, **params: object) -> int:
    with webapp.engine.begin() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def heat_nodes(capture: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        key.replace("_", "/"): node
        for key, node in capture["res_by_path"].items()
        if "maxLaps" in node and "heatDuration" in node
    }


def test_an_everlaps_event_and_a_liverc_event_through_the_real_daemon(
    webapp: WebApp,
    clean_warehouse: sa.Engine,
    warehouse_url: str,
    dagster_storage_url: str,
    capture: dict[str, Any],
    tmp_path: Path,
) -> None:
    warehouse = clean_warehouse
    with warehouse.begin() as conn:
        upsert_catalogue(conn, "liverc", LIVERC_SITE.catalogue)
    track = LIVERC_SITE.tracks[0]
    liverc_event = track.events[0]
    heats = heat_nodes(capture)
    stalled_heat = f"/api/res/3702/{sorted(heats)[-1]}"

    def count(sql: str) -> Any:
        with warehouse.connect() as conn:
            return conn.exec_driver_sql(sql).scalar_one()

    with FakeEverlapsServer(captured_site()) as everlaps, FakeLiveRCServer(LIVERC_SITE.fake_site()) as liverc:
        env = {
            "MRE_DATABASE_URL": warehouse_url,
            "MRE_DAGSTER_DATABASE_URL": dagster_storage_url,
            "MRE_STATE_DIR": str(tmp_path / "state"),
            "MRE_REQUEST_SENSOR_INTERVAL_S": "2",
            "MRE_LIVERC_MIN_INTERVAL_S": "0.05",
            "MRE_EVERLAPS_MIN_INTERVAL_S": "0.05",
            **liverc.env(),
            **everlaps.env(),
        }
        port = free_port()
        with running(
            [str(BIN / "mre-pipeline"), "dev", "--port", str(port)], env, port, tmp_path / "dev.log", 180
        ):
            # A malformed answer for one heat: the request fails with a reason and nothing is written.
            everlaps.site.fail(stalled_heat, malformed_fault(everlaps.site.payload(stalled_heat)))
            broken = insert(webapp, EVERLAPS_INSERT)
            row = wait_until(lambda: webapp.final(broken), 240, "the failing Everlaps request")
            assert row.status == "failed", row.status_detail
            assert "could not be used, so nothing was written" in row.status_detail
            assert "is not valid JSON" in row.status_detail and row.dagster_run_id
            assert count("SELECT count(*) FROM mre.events WHERE source = 'everlaps'") == 0
            assert count("SELECT count(*) FROM mre.tracks WHERE source = 'everlaps'") == 0

            # The web app's insert, exactly as the issue writes it: succeeds with the event as published.
            request_id = insert(webapp, EVERLAPS_INSERT)
            row = wait_until(lambda: webapp.final(request_id), 240, "the Everlaps request")
            assert row.status == "succeeded", row.status_detail
            assert (
                row.partition_key == "everlaps-3702"
                and row.dagster_run_id != webapp.row(broken).dagster_run_id
            )
            with warehouse.connect() as conn:
                assert event_row_counts(conn, "everlaps", 3702)["races"] == 15
                results = conn.exec_driver_sql(EVERLAPS_RESULTS_SQL).all()
            assert len(results) == 112
            published = {
                (path, position): d for path, n in heats.items() for position, d in enumerate(n["drivers"], 1)
            }
            for r in results:
                assert r.laps_completed == r.lap_rows == max(published[(r.locator, r.position)]["laps"], 0)
            final_path = next(p for p, n in heats.items() if n["desc"]["title"].startswith("Final"))
            winner = next(r for r in results if r.locator == final_path and r.position == 1)
            expected = heats[final_path]["drivers"][0]
            assert winner.name == " ".join(f"{expected['name']} {expected['surname']}".split())
            assert (winner.total, winner.fastest, winner.fastest_lap_number) == (
                expected["time"] / 1000,
                expected["fastest"] / 1000,
                expected["fastinlap"],
            )

            # A LiveRC request inserted exactly as today still works.
            liverc_request = insert(webapp, LIVERC_INSERT, track=track.key, event=str(liverc_event.event_id))
            row = wait_until(lambda: webapp.final(liverc_request), 240, "the LiveRC request")
            assert row.status == "succeeded", row.status_detail
            assert row.partition_key == f"liverc-{track.key}-{liverc_event.event_id}"
            liverc_results = sum(
                len(LIVERC_SITE.races[(track.key, r.race_id)].drivers) for r in liverc_event.races
            )
            with warehouse.connect() as conn:
                assert event_row_counts(conn, "liverc", liverc_event.event_id)["results"] == liverc_results

            # The lap summaries hold both events side by side, rebuilt by their own sensor.
            def summary_rows() -> dict[str, int]:
                with warehouse.connect() as conn:
                    if not conn.exec_driver_sql(
                        "SELECT to_regclass('mre_summaries.driver_race_summary')"
                    ).scalar():
                        return {}
                    return dict(
                        conn.exec_driver_sql(
                            "SELECT e.source, count(*) FROM mre_summaries.driver_race_summary s "
                            "JOIN mre.events e USING (event_id) GROUP BY e.source"
                        ).all()
                    )

            wanted = {"everlaps": 112, "liverc": liverc_results}
            assert wait_until(lambda: summary_rows() == wanted, 420, "both events in the summaries", 3)
