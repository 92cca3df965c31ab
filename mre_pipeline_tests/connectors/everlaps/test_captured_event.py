"""The real captured event 3702, served over loopback: every expected figure is computed from the JSON."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from mre_pipeline.connectors.everlaps.source import EverlapsSource, event_ref
from mre_pipeline.connectors.records import EventDetail, RaceResult
from mre_pipeline.fake_everlaps import FakeEverlapsServer
from mre_pipeline_tests.connectors.everlaps.conftest import source_for

EVENT = 3702
SLUG_RULE = re.compile(r"[a-z0-9][a-z0-9-]*")


def heat_nodes(capture: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Path -> node for every heat of the capture (the nodes with maxLaps and heatDuration)."""
    return {
        key.replace("_", "/"): node
        for key, node in capture["res_by_path"].items()
        if "maxLaps" in node and "heatDuration" in node
    }


def published_name(row: dict[str, Any]) -> str:
    return " ".join(f"{row.get('name') or ''} {row.get('surname') or ''}".split())


def ms_text(ms: int) -> str:
    """37234 -> '37.234', 42000 -> '42.0': the decimal the published milliseconds stand for."""
    whole, frac = divmod(ms, 1000)
    return f"{whole}.{f'{frac:03d}'.rstrip('0') or '0'}"


@pytest.fixture
def fetched(captured_server: FakeEverlapsServer) -> tuple[EventDetail, dict[str, RaceResult], EverlapsSource]:
    source = source_for(captured_server)
    detail = source.fetch_event(event_ref(EVENT))
    races = {race.locator or "": source.fetch_race(event_ref(EVENT), race) for race in detail.races}
    return detail, races, source


def test_event_parses_to_15_races_and_112_driver_results(capture, fetched) -> None:
    detail, races, _ = fetched
    heats = heat_nodes(capture)
    assert len(heats) == 15
    assert len(detail.races) == 15 and set(races) == set(heats)
    assert (
        sum(len(r.drivers) for r in races.values()) == sum(len(n["drivers"]) for n in heats.values()) == 112
    )
    assert len({r.race_id for r in detail.races}) == 15
    assert [r.race_number for r in detail.races] == list(range(1, 16))


def test_every_lap_count_equals_the_published_laps(capture, fetched) -> None:
    _, races, _ = fetched
    for path, node in heat_nodes(capture).items():
        parsed = races[path].drivers
        assert [d.driver_id for d in parsed] == [row["driverid"] for row in node["drivers"]]
        for result, row in zip(parsed, node["drivers"], strict=True):
            assert result.laps_completed == max(row["laps"], 0)
            assert len(result.laps) == result.laps_completed
            crossings = row.get("lapsdetail") or []
            assert [str(lap.lap_time_s) for lap in result.laps] == [ms_text(c["t"]) for c in crossings[1:]]
            assert [lap.position for lap in result.laps] == [c["y"] for c in crossings[1:]]


def test_final_winner_time_and_fastest_lap_equal_the_capture(capture, fetched) -> None:
    detail, races, _ = fetched
    path, node = next(
        (p, n) for p, n in heat_nodes(capture).items() if n["desc"]["title"].startswith("Final")
    )
    winner_row = node["drivers"][0]
    winner = races[path].drivers[0]
    assert winner.position == 1
    assert (winner.driver_id, winner.driver_name) == (winner_row["driverid"], published_name(winner_row))
    assert str(winner.total_time_s) == ms_text(winner_row["time"])
    assert str(winner.fastest_lap_s) == ms_text(winner_row["fastest"])
    assert winner.fastest_lap_number == winner_row["fastinlap"]
    assert winner.laps[winner_row["fastinlap"] - 1].lap_time_s == winner.fastest_lap_s
    assert winner.laps_completed == winner_row["laps"]
    summary = next(r for r in detail.races if r.locator == path)
    assert summary.section == "Finals" and summary.class_name == capture["res_event"]["races"][0]["name"]


def test_laps_plus_counted_lead_in_add_up_to_the_published_total(capture, fetched) -> None:
    """The lap rule (see payloads/heat.py): one check that holds for both first-lap rules."""
    _, races, _ = fetched
    starters = {True: 0, False: 0}
    for path, node in heat_nodes(capture).items():
        counted = node["desc"]["countfirstlap"]
        assert races[path].lead_in_counted is counted
        for result, row in zip(races[path].drivers, node["drivers"], strict=True):
            crossings = row.get("lapsdetail") or []
            expected_lead_in = crossings[0]["t"] / 1000 if counted and crossings else None
            assert result.lead_in_time_s == expected_lead_in
            if result.total_time_s is not None:
                added = sum(lap.lap_time_s for lap in result.laps) + (result.lead_in_time_s or 0)
                assert added == pytest.approx(result.total_time_s, abs=1e-6)
            starters[counted] += row["laps"] > 0
    assert starters == {False: 60, True: 44}  # the README's counts


def test_published_statistics_are_kept_as_published(capture, fetched) -> None:
    _, races, _ = fetched
    for path, node in heat_nodes(capture).items():
        for result, row in zip(races[path].drivers, node["drivers"], strict=True):
            for attribute, key in (
                ("avg_lap_s", "avg"),
                ("avg_top3_s", "t3"),
                ("avg_top5_s", "t5"),
                ("avg_top10_s", "t10"),
            ):
                value = getattr(result, attribute)
                assert (str(value) if value is not None else None) == (
                    ms_text(row[key]) if key in row else None
                )
            assert result.consistency_pct == (float(row["reg"]) if "reg" in row else None)
            assert result.grid_position == row.get("grid")
            assert result.car_number == str(row["carnumber"])


def test_non_starters_keep_their_rows(capture, fetched) -> None:
    _, races, _ = fetched
    rows = [(races[p], r) for p, n in heat_nodes(capture).items() for r in n["drivers"] if r["laps"] <= 0]
    assert rows
    for race, row in rows:
        result = next(d for d in race.drivers if d.driver_id == row["driverid"])
        assert result.laps_completed == 0 and result.laps == () and not result.started
        assert result.total_time_s == (row["time"] / 1000 if row["time"] else None)


def test_names_keep_their_accents(capture, fetched) -> None:
    _, races, _ = fetched
    parsed = {d.driver_name for race in races.values() for d in race.drivers}
    published = {published_name(r) for node in heat_nodes(capture).values() for r in node["drivers"]}
    assert parsed == published
    assert any(not name.isascii() for name in parsed)


def test_event_card_and_venue(capture, fetched) -> None:
    detail, _, _ = fetched
    card = capture["frontend_event"]
    assert detail.source == "everlaps" and detail.event_id == EVENT
    assert detail.name == " ".join(card["title"].split())
    assert detail.start_date.isoformat() == card["fromdate"][:10]
    assert detail.end_date.isoformat() == card["todate"][:10]
    assert detail.entries == sum(len(c["inscriptions"]) for c in card["categories"])
    venue = detail.venue
    assert venue is not None and detail.track_slug == venue.slug and detail.track_name == card["location"]
    latitude, longitude = (float(v) for v in card["mapLink"].split("dir//")[1].split("/")[0].split(","))
    assert (venue.latitude, venue.longitude) == (latitude, longitude)
    assert venue.organiser == card["organizer"]
    assert SLUG_RULE.fullmatch(venue.slug) and venue.slug.startswith("everlaps-") and len(venue.slug) <= 63
    assert venue.slug == "everlaps-n38969-w005868"  # the documented example: 38.969, -5.868


def test_every_call_is_a_polite_json_post(captured_server: FakeEverlapsServer, fetched) -> None:
    _, _, source = fetched
    api = [r for r in captured_server.requests if r.endpoint.startswith("/api/")]
    assert len(api) == 2 + 15 == source.stats.requests - 1  # plus robots.txt
    assert all(r.method == "POST" and json.loads(r.body) == {} for r in api)
    assert all((r.content_type or "").startswith("application/json") for r in api)
    assert all("mre-pipeline" in (r.user_agent or "") for r in captured_server.requests)
    assert [r.method for r in captured_server.requests if r.endpoint == "/robots.txt"] == ["GET"]
