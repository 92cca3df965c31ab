"""The event_results asset on Everlaps partitions: the captured event 3702 and generated events over loopback,
real Postgres, real Dagster instance; faults end the request failed with one sentence and write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from mre_pipeline.connectors.everlaps.resource import EverlapsResource
from mre_pipeline.connectors.liverc.resource import LiveRCResource
from mre_pipeline.defs.assets import event_results, track_catalogue, track_events
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.fake_everlaps import FakeEverlapsServer
from mre_pipeline.fake_everlaps.captured import capture_available, capture_root, captured_site, load_capture
from mre_pipeline.fake_everlaps.generator import GeneratedEvent, generate_event
from mre_pipeline.fake_everlaps.server import malformed_fault, missing_keys_fault, status_fault
from mre_pipeline.warehouse import requests as queue
from mre_pipeline.warehouse.event_results import event_row_counts
from mre_pipeline_tests.connectors.everlaps.conftest import assert_plain_sentence

ASSETS = [track_catalogue, track_events, event_results]

RESULTS_SQL = """
SELECT r.source_race_id, r.locator, r.lead_in_counted, d.source_driver_id, d.name, rr.position,
       rr.laps_completed, rr.total_time_s::float AS total, rr.lead_in_time_s::float AS lead_in,
       rr.fastest_lap_s::float AS fastest, rr.fastest_lap_number, rr.avg_top3_s::float AS top3,
       (SELECT count(*) FROM mre.laps l WHERE l.race_result_id = rr.race_result_id) AS lap_rows,
       (SELECT sum(lap_time_s)::float FROM mre.laps l WHERE l.race_result_id = rr.race_result_id) AS lap_sum
FROM mre.race_results rr JOIN mre.races r USING (race_id) JOIN mre.drivers d USING (driver_id)
WHERE r.source = 'everlaps'
ORDER BY r.source_race_id, rr.position
"""
XMIN_SQL = """
SELECT xmin::text FROM mre.tracks UNION ALL SELECT xmin::text FROM mre.races
UNION ALL SELECT xmin::text FROM mre.drivers UNION ALL SELECT xmin::text FROM mre.race_results
UNION ALL SELECT xmin::text FROM mre.laps
"""


def resources_for(server: FakeEverlapsServer, warehouse_url: str, **everlaps: Any) -> dict[str, object]:
    return {
        "liverc": LiveRCResource(scrape_enabled=False),  # never called for an Everlaps partition
        "everlaps": EverlapsResource(base_url=server.base_url, min_interval_s=0.0, **everlaps),
        "warehouse": WarehouseResource(url=warehouse_url),
    }


def ingest(
    engine: sa.Engine, instance: dg.DagsterInstance, resources: dict[str, object], event_id: int
) -> tuple[dg.ExecuteInProcessResult, sa.Row]:
    """Queue a request as the sensor would, materialize the partition, return the run and the request row."""
    key = f"everlaps-{event_id}"
    with engine.begin() as conn:
        request_id = queue.insert_request(conn, "ingest_event", None, str(event_id), source="everlaps")
        queue.mark_queued(conn, request_id, key, "run requested")
    instance.add_dynamic_partitions("event", [key])
    result = dg.materialize(
        ASSETS,
        selection=[event_results],
        partition_key=key,
        instance=instance,
        resources=resources,
        raise_on_error=False,
    )
    with engine.connect() as conn:
        return result, queue.get_request(conn, request_id)


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    [materialization] = result.asset_materializations_for_node("event_results")
    return {k: v.value for k, v in materialization.metadata.items()}


def results(engine: sa.Engine) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.exec_driver_sql(RESULTS_SQL).all()


def table_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.exec_driver_sql(f"SELECT count(*) FROM mre.{t}").scalar_one()
            for t in ("tracks", "events", "races", "drivers", "race_results", "laps")
        }


# -- the captured event ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def capture() -> dict[str, Any]:
    if not capture_available():
        pytest.skip(f"captured Everlaps event not found at {capture_root()} (set MRE_EVERLAPS_CAPTURE)")
    return load_capture()


@pytest.fixture
def captured_server(capture: dict[str, Any]) -> Iterator[FakeEverlapsServer]:
    with FakeEverlapsServer(captured_site()) as server:
        yield server


def heat_nodes(capture: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        key.replace("_", "/"): node
        for key, node in capture["res_by_path"].items()
        if "maxLaps" in node and "heatDuration" in node
    }


def test_captured_event_3702_ingests_as_published(
    clean_warehouse: sa.Engine,
    dagster_instance: dg.DagsterInstance,
    captured_server: FakeEverlapsServer,
    capture: dict[str, Any],
    warehouse_url: str,
) -> None:
    resources = resources_for(captured_server, warehouse_url)
    result, request = ingest(clean_warehouse, dagster_instance, resources, 3702)
    assert result.success
    heats = heat_nodes(capture)
    laps = sum(max(row["laps"], 0) for node in heats.values() for row in node["drivers"])
    assert request.status == "succeeded"
    assert request.status_detail.startswith(f"ingested 15 races, 112 results, {laps} laps")
    meta = metadata(result)
    assert (meta["races"], meta["results"], meta["laps"], meta["entries"]) == (15, 112, laps, 0)
    assert len(captured_server.requests_for("/api/res/3702", "POST")) == 1
    assert len([r for r in captured_server.requests if r.method == "POST"]) == 17  # card, tree, 15 heats

    rows = results(clean_warehouse)
    assert len(rows) == 112 and len({r.source_race_id for r in rows}) == 15
    by_path = {}
    for row in rows:
        by_path.setdefault(row.locator, []).append(row)
    assert set(by_path) == set(heats)
    for path, node in heats.items():
        stored = by_path[path]
        assert [r.source_driver_id for r in stored] == [d["driverid"] for d in node["drivers"]]
        assert all(r.lead_in_counted is node["desc"]["countfirstlap"] for r in stored)
        for row, published in zip(stored, node["drivers"], strict=True):
            assert row.laps_completed == row.lap_rows == max(published["laps"], 0)
            crossings = published.get("lapsdetail") or []
            counted = node["desc"]["countfirstlap"] and crossings
            assert row.lead_in == (crossings[0]["t"] / 1000 if counted else None)
            assert row.top3 == (published["t3"] / 1000 if "t3" in published else None)
            if row.lap_rows:
                assert row.lap_sum + (row.lead_in or 0) == pytest.approx(published["time"] / 1000, abs=1e-9)

    final_path, final = next((p, n) for p, n in heats.items() if n["desc"]["title"].startswith("Final"))
    winner, published = by_path[final_path][0], final["drivers"][0]
    assert winner.position == 1
    assert winner.name == " ".join(f"{published['name']} {published['surname']}".split())
    assert winner.total == published["time"] / 1000
    assert (winner.fastest, winner.fastest_lap_number) == (
        published["fastest"] / 1000,
        published["fastinlap"],
    )

    card = capture["frontend_event"]
    with clean_warehouse.connect() as conn:
        venue = conn.exec_driver_sql(
            "SELECT t.source, t.slug, t.name, t.organiser, t.latitude::float, t.longitude::float, "
            "e.name AS event, e.start_date::text, e.starts_at_utc, e.ends_at_utc, e.ingest_depth "
            "FROM mre.events e JOIN mre.tracks t USING (track_id) WHERE e.source_event_id = 3702"
        ).one()
    assert tuple(venue[:6]) == (
        "everlaps",
        "everlaps-n38969-w005868",
        card["location"],
        card["organizer"],
        38.9694506,
        -5.8681566,
    )
    assert (venue.event, venue.start_date, venue.ingest_depth) == (card["title"], "2026-03-22", "laps_full")
    assert venue.starts_at_utc.isoformat() == "2026-03-22T08:00:00+00:00"
    assert venue.ends_at_utc.isoformat() == "2026-03-22T17:00:00+00:00"

    # Re-ingest, unchanged: nothing written, not even the venue.
    with clean_warehouse.connect() as conn:
        xmins = [r[0] for r in conn.exec_driver_sql(XMIN_SQL)]
    again, request = ingest(clean_warehouse, dagster_instance, resources, 3702)
    assert again.success and request.status == "succeeded"
    assert all(v == {"inserted": 0, "updated": 0, "deleted": 0} for v in metadata(again)["changes"].values())
    with clean_warehouse.connect() as conn:
        assert [r[0] for r in conn.exec_driver_sql(XMIN_SQL)] == xmins


# -- generated events ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("seed", "shape"),
    [
        (1, {}),
        (2, {"classes": 3, "drivers_per_class": 9, "with_coordinates": False}),
        (3, {"classes": 1, "drivers_per_class": 24, "semi_series": 3, "consolation_series": 2}),
    ],
)
def test_generated_events_ingest_exactly(
    clean_warehouse: sa.Engine,
    dagster_instance: dg.DagsterInstance,
    warehouse_url: str,
    seed: int,
    shape: dict[str, Any],
) -> None:
    event = generate_event(seed, **shape)
    with FakeEverlapsServer(event.site()) as server:
        result, request = ingest(
            clean_warehouse, dagster_instance, resources_for(server, warehouse_url), event.event_id
        )
    assert result.success and request.status == "succeeded", request.status_detail
    expected = [
        (race_id, d.driver_id, d.driver_name, d.position, d.laps_completed, d.total_time_s, d.lead_in_time_s)
        for race_id, race in sorted(event.results.items())
        for d in race.drivers
    ]
    got = [
        (r.source_race_id, r.source_driver_id, r.name, r.position, r.lap_rows, r.total, r.lead_in)
        for r in results(clean_warehouse)
    ]
    assert got == expected
    with clean_warehouse.connect() as conn:
        assert event_row_counts(conn, "everlaps", event.event_id) == {
            "races": len(event.results),
            "results": event.driver_results,
            "laps": sum(len(d.laps) for r in event.results.values() for d in r.drivers),
            "entries": 0,
        }
        slug = conn.exec_driver_sql(
            "SELECT t.slug FROM mre.tracks t JOIN mre.events e USING (track_id) WHERE e.source_event_id = %s",
            (event.event_id,),
        ).scalar_one()
    assert slug == event.detail.track_slug


def test_two_events_at_one_venue_share_its_track(
    clean_warehouse: sa.Engine, dagster_instance: dg.DagsterInstance, warehouse_url: str
) -> None:
    first, second = generate_event(7, classes=1), generate_event(8, classes=1)
    card = second.payloads[f"/api/frontend/event/{second.event_id}"]
    card.update(
        {k: first.payloads[f"/api/frontend/event/{first.event_id}"][k] for k in ("mapLink", "location")}
    )
    card["organizer"] = "A new club"
    for event in (first, second):
        with FakeEverlapsServer(event.site()) as server:
            _, request = ingest(
                clean_warehouse, dagster_instance, resources_for(server, warehouse_url), event.event_id
            )
        assert request.status == "succeeded", request.status_detail
    with clean_warehouse.connect() as conn:
        venues = conn.exec_driver_sql(
            "SELECT t.slug, t.organiser, count(*) FROM mre.events e JOIN mre.tracks t USING (track_id) "
            "GROUP BY t.slug, t.organiser"
        ).all()
    assert [tuple(v) for v in venues] == [(first.detail.track_slug, "A new club", 2)]


# -- faults: failed, one sentence, nothing written -------------------------------------------------------
@pytest.fixture(scope="module")
def small_event() -> GeneratedEvent:
    return generate_event(41, classes=1, drivers_per_class=6, qualifying_rounds=1, semi_series=1)


def failed_ingest(
    engine: sa.Engine, instance: dg.DagsterInstance, warehouse_url: str, event: GeneratedEvent, stage
) -> tuple[sa.Row, FakeEverlapsServer]:
    with FakeEverlapsServer(event.site()) as server:
        stage(server)
        result, request = ingest(
            engine, instance, resources_for(server, warehouse_url, max_retries=0), event.event_id
        )
    assert not result.success
    assert request.status == "failed" and request.dagster_run_id == result.run_id
    assert_plain_sentence(request.status_detail, getattr(server, "base_url", None))
    assert table_counts(engine) == dict.fromkeys(
        ("tracks", "events", "races", "drivers", "race_results", "laps"), 0
    ), "a failed event writes nothing, not even its venue"
    return request, server


def heat_path(event: GeneratedEvent, index: int = -1) -> str:
    return f"/api/res/{event.event_id}/{event.detail.races[index].locator}"


def test_a_malformed_heat_fails_the_event(
    clean_warehouse: sa.Engine, dagster_instance: dg.DagsterInstance, warehouse_url: str, small_event
) -> None:
    path = heat_path(small_event)
    request, _ = failed_ingest(
        clean_warehouse, dagster_instance, warehouse_url, small_event,
        lambda server: server.site.fail(path, malformed_fault(server.site.payload(path))),
    )  # fmt: skip
    race = small_event.detail.races[-1]
    assert request.status_detail.startswith(f"race {race.race_id} ({race.section}, Race {race.race_number}: ")
    assert "could not be used, so nothing was written" in request.status_detail
    assert "the body is not valid JSON" in request.status_detail


def test_a_missing_heat_fails_the_event(
    clean_warehouse: sa.Engine, dagster_instance: dg.DagsterInstance, warehouse_url: str, small_event
) -> None:
    path = heat_path(small_event, 0)
    request, _ = failed_ingest(
        clean_warehouse, dagster_instance, warehouse_url, small_event, lambda server: server.site.remove(path)
    )
    assert "HTTP 404" in request.status_detail and f"{path}?l=en" in request.status_detail


def test_a_heat_missing_its_lap_grid_fails_the_event(
    clean_warehouse: sa.Engine, dagster_instance: dg.DagsterInstance, warehouse_url: str, small_event
) -> None:
    path = heat_path(small_event)
    request, _ = failed_ingest(
        clean_warehouse, dagster_instance, warehouse_url, small_event,
        lambda server: server.site.fail(path, missing_keys_fault(server.site.payload(path), "drivers.0.lapsdetail")),
    )  # fmt: skip
    assert "the lap grid has 0 crossings of the line" in request.status_detail


def test_a_server_error_fails_the_event(
    clean_warehouse: sa.Engine, dagster_instance: dg.DagsterInstance, warehouse_url: str, small_event
) -> None:
    tree = f"/api/res/{small_event.event_id}"
    request, _ = failed_ingest(
        clean_warehouse, dagster_instance, warehouse_url, small_event,
        lambda server: server.site.fail(tree, status_fault(503)),
    )  # fmt: skip
    assert request.status_detail.startswith(f"event {small_event.event_id} page could not be used: ")
    assert "HTTP 503" in request.status_detail


@pytest.mark.parametrize("answer", ["empty card", "404"])
def test_an_event_that_does_not_exist_fails_and_leaves_no_partition(
    clean_warehouse: sa.Engine,
    dagster_instance: dg.DagsterInstance,
    warehouse_url: str,
    small_event: GeneratedEvent,
    answer: str,
) -> None:
    card = f"/api/frontend/event/{small_event.event_id}"

    def stage(server: FakeEverlapsServer) -> None:
        if answer == "404":
            server.site.remove(card)
        else:
            server.site.put(card, {})

    request, _ = failed_ingest(clean_warehouse, dagster_instance, warehouse_url, small_event, stage)
    if answer == "404":
        assert request.status_detail.startswith(f"Everlaps event {small_event.event_id} does not exist (")
    else:
        assert request.status_detail.startswith(
            f"Everlaps has no event {small_event.event_id} (its event card"
        )
    assert request.status_detail.endswith("; check the event id")
    assert f"everlaps-{small_event.event_id}" not in dagster_instance.get_dynamic_partitions("event")


def test_the_kill_switch_fails_without_a_request(
    clean_warehouse: sa.Engine, dagster_instance: dg.DagsterInstance, warehouse_url: str, small_event
) -> None:
    with FakeEverlapsServer(small_event.site()) as server:
        resources = resources_for(server, warehouse_url, scrape_enabled=False)
        result, request = ingest(clean_warehouse, dagster_instance, resources, small_event.event_id)
    assert not result.success and request.status == "failed"
    assert server.requests == []


def test_an_event_without_a_date_fails_the_event(
    clean_warehouse: sa.Engine, dagster_instance: dg.DagsterInstance, warehouse_url: str, small_event
) -> None:
    card = f"/api/frontend/event/{small_event.event_id}"

    def undated(server: FakeEverlapsServer) -> None:
        server.site.put(
            card, {k: v for k, v in server.site.payload(card).items() if k not in ("fromdate", "todate")}
        )

    request, _ = failed_ingest(clean_warehouse, dagster_instance, warehouse_url, small_event, undated)
    assert request.status_detail == (
        f"event {small_event.event_id} ({small_event.detail.name}) publishes no date, so it cannot be filed"
    )
