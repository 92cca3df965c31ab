"""End to end, issue 14: an event that is still running, asked for again, through `mre-pipeline dev`.

Real parts throughout: `mre-pipeline dev` (webserver, daemon, both code locations) on real Postgres, a
generated LiveRC on loopback whose event page gains its mains between two requests, and the web app played
as role `mre_webapp` with plain SQL. The fake server's request log shows which requests cost LiveRC nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.event_results import event_row_counts
from mre_pipeline_tests.faults.service import DevService, as_webapp, wait_until

pytestmark = pytest.mark.e2e

SITE = generate_site(14, tracks=1, events_per_track=2, extra_catalogue_tracks=0, big_first_event=False)
TRACK = SITE.tracks[0]
RUNNING, FINISHED = TRACK.events


def test_a_racer_asking_again_through_the_running_pipeline_gets_the_mains(
    clean_warehouse: sa.Engine, warehouse_url: str, dagster_storage_url: str, tmp_path: Path
) -> None:
    first, final = SITE.in_two_stages(TRACK.key, RUNNING.event_id, date.today())
    first_races = len(first.event_details[(TRACK.key, RUNNING.event_id)].races)
    all_races = len(final.event_details[(TRACK.key, RUNNING.event_id)].races)
    with clean_warehouse.begin() as conn:
        upsert_catalogue(conn, "liverc", SITE.catalogue)
    webapp = as_webapp(warehouse_url)

    def event_state(event_id: int) -> sa.Row:
        with webapp.engine.connect() as conn:  # the web app reads the state it acts on
            return conn.execute(
                sa.text(
                    "SELECT results_state, results_state_since, last_ingested_at, results_changed_at "
                    "FROM mre.events WHERE source = 'liverc' AND source_event_id = :id"
                ),
                {"id": event_id},
            ).one()

    def races_stored(event_id: int) -> int:
        with clean_warehouse.connect() as conn:
            return event_row_counts(conn, "liverc", event_id)["races"]

    def summarised_races(event_id: int) -> int:
        with clean_warehouse.connect() as conn:
            if (
                conn.exec_driver_sql("SELECT to_regclass('mre_summaries.driver_race_summary')").scalar()
                is None
            ):
                return 0
            return conn.execute(
                sa.text(
                    "SELECT count(DISTINCT s.source_race_id) FROM mre_summaries.driver_race_summary s "
                    "JOIN mre.events e USING (event_id) WHERE e.source_event_id = :id"
                ),
                {"id": event_id},
            ).scalar_one()

    with FakeLiveRCServer(first.fake_site()) as liverc:
        env = {
            "MRE_DATABASE_URL": warehouse_url,
            "MRE_DAGSTER_DATABASE_URL": dagster_storage_url,
            "MRE_STATE_DIR": str(tmp_path / "state"),
            "MRE_REQUEST_SENSOR_INTERVAL_S": "2",
            "MRE_LIVERC_MIN_INTERVAL_S": "0",
            "MRE_EVENT_REFRESH_MIN_INTERVAL_S": "600",
            **liverc.env(),
        }
        service = DevService(env, tmp_path)
        try:
            service.start()

            # 2 pm: the heats are run; the first request ingests them and the event may still change.
            morning = webapp.request(TRACK.key, RUNNING.event_id)
            row = wait_until(lambda: webapp.final(morning), 240, "the first request")
            assert row.status == "succeeded", row.status_detail
            assert races_stored(RUNNING.event_id) == first_races
            assert event_state(RUNNING.event_id).results_state == "incomplete"

            # The mains are run and published. Hours later (the refresh interval has passed) the racer asks
            # again: the event is fetched again and the warehouse holds every race.
            final.fill(liverc.site)
            with clean_warehouse.begin() as conn:
                conn.execute(
                    sa.text(
                        "UPDATE mre.events SET last_ingested_at = last_ingested_at - interval '4 hours' "
                        "WHERE source_event_id = :id"
                    ),
                    {"id": RUNNING.event_id},
                )
            served = len(liverc.requests)
            evening = webapp.request(TRACK.key, RUNNING.event_id)
            row = wait_until(lambda: webapp.final(evening), 240, "the second request")
            assert row.status == "succeeded", row.status_detail
            assert row.dagster_run_id and row.status_detail.startswith(f"ingested {all_races} races")
            assert len(liverc.requests) > served
            assert races_stored(RUNNING.event_id) == all_races

            # A third request within the interval reuses that work: no run, no HTTP request.
            served = len(liverc.requests)
            third = webapp.request(TRACK.key, RUNNING.event_id)
            row = wait_until(lambda: webapp.final(third), 120, "the third request")
            assert (row.status, row.dagster_run_id) == ("succeeded", None)
            assert "may still change" in row.status_detail and "ask again after" in row.status_detail
            assert len(liverc.requests) == served

            # A finished event: ingested once (complete), then answered without any HTTP request.
            done = webapp.request(TRACK.key, FINISHED.event_id)
            assert wait_until(lambda: webapp.final(done), 240, "the finished event").status == "succeeded"
            assert event_state(FINISHED.event_id).results_state == "complete"
            served = len(liverc.requests)
            again = webapp.request(TRACK.key, FINISHED.event_id)
            row = wait_until(lambda: webapp.final(again), 120, "the finished event asked again")
            assert (row.status, row.dagster_run_id) == ("succeeded", None)
            assert "already fully ingested" in row.status_detail
            assert len(liverc.requests) == served

            # The lap summaries follow the growing event, by their own sensor.
            wait_until(lambda: summarised_races(RUNNING.event_id) == all_races, 300, "the summaries", 3)
        finally:
            service.stop()
            webapp.dispose()
