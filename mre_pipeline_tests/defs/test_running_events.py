"""Events that are still running (issue 14): a racer who asks again gets the races run since.

The request sensor ticks on a real Dagster instance against a real Postgres queue; the runs it asks for are
materialized in process against a generated LiveRC (or Everlaps) served over loopback HTTP, as the daemon
would run them. The fake server's request log proves which requests cost the source nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from mre_pipeline.connectors.everlaps.resource import EverlapsResource
from mre_pipeline.connectors.liverc.resource import LiveRCResource
from mre_pipeline.defs.assets import event_results, track_catalogue, track_events
from mre_pipeline.defs.event_refresh import event_final_refresh_sensor
from mre_pipeline.defs.request_sensor import ingestion_request_sensor
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.fake_everlaps import FakeEverlapsServer
from mre_pipeline.fake_everlaps.generator import generate_event
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site
from mre_pipeline.warehouse import requests as queue
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.event_results import event_row_counts

ASSETS = [track_catalogue, track_events, event_results]
INTERVAL_ENV = "MRE_EVENT_REFRESH_MIN_INTERVAL_S"
SITE = generate_site(14, tracks=1, events_per_track=2, extra_catalogue_tracks=0, big_first_event=False)
TRACK = SITE.tracks[0]
RUNNING, FINISHED = TRACK.events  # the first is moved to today and grows; the second ended in 2025

EVENT_STATE_SQL = """
SELECT results_state, results_state_since, races_pending, complete_after, last_ingested_at, results_changed_at,
       refresh_launched_at
FROM mre.events WHERE source = :source AND source_event_id = :id
"""
XMIN_SQL = """
SELECT r.source_race_id, array_agg(l.xmin::text ORDER BY rr.race_result_id, l.lap_number) AS versions
FROM mre.races r JOIN mre.race_results rr USING (race_id) JOIN mre.laps l USING (race_result_id)
WHERE r.event_id = (SELECT event_id FROM mre.events WHERE source_event_id = :id)
GROUP BY r.source_race_id
"""


@dataclass
class Pipeline:
    """The sensor, the queue and the runs it launches, on one Dagster instance and one warehouse."""

    engine: sa.Engine
    instance: dg.DagsterInstance
    warehouse_url: str
    resources: dict[str, object]

    def tick(self) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=self.instance, resources={"warehouse": WarehouseResource(url=self.warehouse_url)}
        )
        result = ingestion_request_sensor(context)
        for add in result.dynamic_partitions_requests:
            self.instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))
        return result

    def run(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        """What the daemon does with a run request (the run key lets the sensor find the run)."""
        return dg.materialize(
            ASSETS,
            selection=[event_results],
            partition_key=request.partition_key,
            instance=self.instance,
            resources=self.resources,
            tags={**request.tags, "dagster/run_key": request.run_key},
        )

    def ask(
        self, event_id: int, source: str = "liverc", track: str | None = TRACK.key, force: bool = False
    ) -> int:
        with self.engine.begin() as conn:
            return queue.insert_request(
                conn, "ingest_event", track, str(event_id), force=force, source=source
            )

    def request(self, request_id: int) -> sa.Row:
        with self.engine.connect() as conn:
            return queue.get_request(conn, request_id)

    def event(self, event_id: int, source: str = "liverc") -> sa.Row:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(EVENT_STATE_SQL), {"source": source, "id": event_id}).one()

    def lap_versions(self, event_id: int) -> dict[int, list[str]]:
        with self.engine.connect() as conn:
            return {r.source_race_id: r.versions for r in conn.execute(sa.text(XMIN_SQL), {"id": event_id})}


@pytest.fixture
def liverc() -> Iterator[tuple[FakeLiveRCServer, object, object]]:
    first, final = SITE.in_two_stages(TRACK.key, RUNNING.event_id, date.today())
    with FakeLiveRCServer(first.fake_site()) as server:
        yield server, first, final


@pytest.fixture
def pipeline(
    clean_warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance, liverc
) -> Pipeline:
    server = liverc[0]
    with clean_warehouse.begin() as conn:
        upsert_catalogue(conn, "liverc", SITE.catalogue)
    resources = {
        "liverc": LiveRCResource(
            catalogue_url=server.catalogue_url,
            track_url_template=server.track_url_template,
            min_interval_s=0.0,
        ),
        "everlaps": EverlapsResource(),  # never called for a LiveRC partition
        "warehouse": WarehouseResource(url=warehouse_url),
    }
    return Pipeline(clean_warehouse, dagster_instance, warehouse_url, resources)


def test_a_racer_who_asks_again_gets_the_races_run_since(
    pipeline: Pipeline, liverc, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, first, final = liverc
    event_id = RUNNING.event_id
    first_races = len(first.event_details[(TRACK.key, event_id)].races)
    all_races = len(final.event_details[(TRACK.key, event_id)].races)
    assert 0 < first_races < all_races

    # 2 pm: the first request ingests the races run so far; the event is stored as possibly incomplete.
    monkeypatch.setenv(INTERVAL_ENV, "600")
    morning = pipeline.ask(event_id)
    [launch] = pipeline.tick().run_requests
    pipeline.run(launch)
    row = pipeline.request(morning)
    assert row.status == "succeeded" and row.status_detail.startswith(f"ingested {first_races} races")
    assert row.status_detail.endswith("; the event may still change, so ask again later for newer results")
    state = pipeline.event(event_id)
    assert (state.results_state, state.races_pending) == ("incomplete", all_races - first_races)
    assert state.complete_after == datetime.combine(
        final.event_details[(TRACK.key, event_id)].end_date + timedelta(days=2), datetime.min.time(), UTC
    ) + timedelta(hours=12), "the last day is over everywhere on Earth at 12:00 UTC the next day, plus a day"
    assert state.results_changed_at == state.last_ingested_at
    with pipeline.engine.connect() as conn:
        assert event_row_counts(conn, "liverc", event_id)["races"] == first_races
    stage_one_versions = pipeline.lap_versions(event_id)

    # The mains are run. A racer asks again within the interval: answered from the warehouse, no HTTP.
    final.fill(server.site)
    served = len(server.requests)
    early = pipeline.ask(event_id)
    assert pipeline.tick().run_requests == []
    row = pipeline.request(early)
    assert (row.status, row.dagster_run_id) == ("succeeded", None)
    assert row.status_detail.startswith(
        f"event {event_id} may still change, and its results were last refreshed at "
    )
    assert "ask again after" in row.status_detail
    assert len(server.requests) == served

    # 6 pm (the interval has passed): the next request fetches the event again; a crowd asking at the same
    # moment attaches to that one run, before and after Dagster created it.
    monkeypatch.setenv(INTERVAL_ENV, "0")
    evening = pipeline.ask(event_id)
    crowd = pipeline.ask(event_id)
    [refresh] = pipeline.tick().run_requests
    assert refresh.run_key == f"request-{evening}"
    assert pipeline.request(evening).status_detail == (
        f"the event may still change, so it is fetched again; run requested (run key request-{evening})"
    )
    assert pipeline.request(crowd).status_detail.startswith(f"attached to request {evening}")
    assert pipeline.event(event_id).refresh_launched_at is not None
    monkeypatch.setenv(INTERVAL_ENV, "600")
    late_in_crowd = pipeline.ask(event_id)
    assert pipeline.tick().run_requests == [], "queued work is joined, never launched twice"
    assert pipeline.request(late_in_crowd).status_detail.startswith(f"attached to request {evening}")
    served = len(server.requests)
    result = pipeline.run(refresh)
    assert len(server.requests) > served
    for request_id in (evening, crowd, late_in_crowd):
        row = pipeline.request(request_id)
        assert row.status == "succeeded" and row.dagster_run_id == result.run_id
        assert row.status_detail.startswith(f"ingested {all_races} races")

    # The warehouse holds every race; the races stored at 2 pm were not rewritten.
    with pipeline.engine.connect() as conn:
        assert event_row_counts(conn, "liverc", event_id)["races"] == all_races
    versions = pipeline.lap_versions(event_id)
    assert {race: versions[race] for race in stage_one_versions} == stage_one_versions
    later = pipeline.event(event_id)
    assert (later.results_state, later.races_pending) == ("incomplete", 0), "the event's day is not over"
    assert later.results_changed_at > state.results_changed_at
    assert later.results_state_since == state.results_state_since

    # A third request within the interval reuses that work: no run, no HTTP request.
    served = len(server.requests)
    third = pipeline.ask(event_id)
    assert pipeline.tick().run_requests == []
    row = pipeline.request(third)
    assert (row.status, row.dagster_run_id) == ("succeeded", None) and "may still change" in row.status_detail
    assert len(server.requests) == served

    # force keeps its meaning: fetched at once; nothing changed, so the summaries have nothing to rebuild.
    forced = pipeline.ask(event_id, force=True)
    [again] = pipeline.tick().run_requests
    pipeline.run(again)
    assert pipeline.request(forced).status == "succeeded"
    after_force = pipeline.event(event_id)
    assert after_force.last_ingested_at > later.last_ingested_at
    assert after_force.results_changed_at == later.results_changed_at
    assert pipeline.lap_versions(event_id) == versions


def test_a_finished_event_is_answered_without_any_http_request(pipeline: Pipeline, liverc) -> None:
    server = liverc[0]
    first = pipeline.ask(FINISHED.event_id)
    [launch] = pipeline.tick().run_requests
    pipeline.run(launch)
    row = pipeline.request(first)
    assert row.status == "succeeded" and "may still change" not in row.status_detail
    state = pipeline.event(FINISHED.event_id)
    assert state.results_state == "complete" and state.results_state_since == state.last_ingested_at

    served = len(server.requests)
    again = pipeline.ask(FINISHED.event_id)
    assert pipeline.tick().run_requests == []
    row = pipeline.request(again)
    assert (row.status, row.dagster_run_id) == ("succeeded", None)
    assert row.status_detail.startswith(f"event {FINISHED.event_id} was already fully ingested (")
    assert row.status_detail.endswith("); set force to re-ingest")
    assert len(server.requests) == served


def test_an_event_stored_while_running_is_fetched_once_more_after_it_ended(
    pipeline: Pipeline, liverc
) -> None:
    """Stored as incomplete while it ran, an event that has ended since is fetched again by the next request;
    that fetch makes it complete, and the requests after it cost the source nothing."""
    server = liverc[0]
    first = pipeline.ask(FINISHED.event_id)
    pipeline.run(pipeline.tick().run_requests[0])
    assert pipeline.request(first).status == "succeeded"
    with pipeline.engine.begin() as conn:  # as the 2 pm ingestion on its last day left it
        conn.execute(
            sa.text(
                "UPDATE mre.events SET results_state = 'incomplete', last_ingested_at = end_date + time '14:00' "
                "WHERE source_event_id = :id"
            ),
            {"id": FINISHED.event_id},
        )
    after_the_end = pipeline.ask(FINISHED.event_id)
    [refresh] = pipeline.tick().run_requests
    pipeline.run(refresh)
    assert pipeline.request(after_the_end).status == "succeeded"
    state = pipeline.event(FINISHED.event_id)
    assert state.results_state == "complete" and state.results_state_since == state.last_ingested_at
    served = len(server.requests)
    [pipeline.ask(FINISHED.event_id) for _ in range(3)]
    assert pipeline.tick().run_requests == [] and len(server.requests) == served


def test_the_optional_final_refresh_fetches_an_event_stored_while_running_once_after_it_ended(
    pipeline: Pipeline, liverc
) -> None:
    server = liverc[0]
    for event in (FINISHED, RUNNING):
        request_id = pipeline.ask(event.event_id)
        pipeline.run(pipeline.tick().run_requests[0])
        assert pipeline.request(request_id).status == "succeeded"
    with pipeline.engine.begin() as conn:  # FINISHED as a 2 pm ingestion on its last day left it
        conn.execute(
            sa.text(
                "UPDATE mre.events SET results_state = 'incomplete', last_ingested_at = end_date + time '14:00' "
                "WHERE source_event_id = :id"
            ),
            {"id": FINISHED.event_id},
        )

    def final_refresh() -> str:
        context = dg.build_sensor_context(
            instance=pipeline.instance, resources={"warehouse": WarehouseResource(url=pipeline.warehouse_url)}
        )
        return event_final_refresh_sensor(context).skip_message

    served = len(server.requests)
    assert final_refresh() == "queued 1 final refresh request(s) for the request sensor"
    assert len(server.requests) == served, "the sensor only queues a request"
    with pipeline.engine.connect() as conn:
        [(request_id, track, by)] = conn.execute(
            sa.text(
                "SELECT request_id, track_slug, requested_by FROM mre.ingestion_requests "
                "WHERE status = 'pending' AND source_event_id = :id"
            ),
            {"id": str(FINISHED.event_id)},
        ).all()
    assert (track, by) == (TRACK.key, "mre:final-refresh")
    [refresh] = pipeline.tick().run_requests
    pipeline.run(refresh)
    assert pipeline.request(request_id).status == "succeeded"
    assert pipeline.event(FINISHED.event_id).results_state == "complete"
    # Once per event: nothing more to queue (the running event has not ended).
    assert final_refresh() == "no event stored while running has ended since"


# -- Everlaps: the same rule, from its UTC instants ------------------------------------------------------------
def running_everlaps_event(seed: int, ends_in: timedelta):
    """A generated Everlaps event whose published end is ``ends_in`` from now."""
    event = generate_event(seed, classes=1, drivers_per_class=4, qualifying_rounds=1, semi_series=0)
    payloads = copy.deepcopy(event.payloads)
    end = datetime.now(UTC).replace(microsecond=0) + ends_in
    card = payloads[f"/api/frontend/event/{event.event_id}"]
    card["fromdate"] = (end - timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    card["todate"] = end.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return event, payloads


def test_everlaps_events_follow_the_same_rule(
    clean_warehouse: sa.Engine, warehouse_url: str, dagster_instance: dg.DagsterInstance, monkeypatch
) -> None:
    running, running_payloads = running_everlaps_event(31, ends_in=timedelta(hours=3))
    ended, ended_payloads = running_everlaps_event(32, ends_in=-timedelta(days=3))
    site = running.site()
    for path, payload in {**running_payloads, **ended_payloads}.items():
        site.put(path, payload)
    with FakeEverlapsServer(site) as server:
        resources = {
            "liverc": LiveRCResource(scrape_enabled=False),
            "everlaps": EverlapsResource(base_url=server.base_url, min_interval_s=0.0),
            "warehouse": WarehouseResource(url=warehouse_url),
        }
        pipeline = Pipeline(clean_warehouse, dagster_instance, warehouse_url, resources)
        monkeypatch.setenv(INTERVAL_ENV, "600")
        for event in (running, ended):
            request_id = pipeline.ask(event.event_id, source="everlaps", track=None)
            pipeline.run(pipeline.tick().run_requests[0])
            assert pipeline.request(request_id).status == "succeeded"
        running_state = pipeline.event(running.event_id, "everlaps")
        assert running_state.results_state == "incomplete"
        assert running_state.races_pending == 1, "the generated final B is listed without results"
        assert pipeline.event(ended.event_id, "everlaps").results_state == "complete"

        served = len(server.requests)
        asks = [pipeline.ask(e.event_id, source="everlaps", track=None) for e in (running, ended)]
        assert pipeline.tick().run_requests == []
        details = [pipeline.request(i).status_detail for i in asks]
        assert "may still change" in details[0] and "already fully ingested" in details[1]
        assert len(server.requests) == served

        monkeypatch.setenv(INTERVAL_ENV, "0")
        asks = [pipeline.ask(e.event_id, source="everlaps", track=None) for e in (running, ended)]
        [refresh] = pipeline.tick().run_requests
        assert refresh.partition_key == f"everlaps-{running.event_id}"
        assert "already fully ingested" in pipeline.request(asks[1]).status_detail
