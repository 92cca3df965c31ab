"""Generated events of several shapes and sizes, over loopback, parse to exactly the generator's records."""

from __future__ import annotations

import pytest

from mre_pipeline.fake_everlaps import FakeEverlapsServer
from mre_pipeline.fake_everlaps.generator import GeneratedEvent, generate_event
from mre_pipeline_tests.connectors.everlaps.conftest import source_for

SHAPES = {
    "default": {},
    "no map link": {"with_coordinates": False},
    "one class, no finals round": {
        "classes": 1,
        "drivers_per_class": 6,
        "consolation_series": 0,
        "semi_series": 0,
    },
    "many non-starters": {"non_starter_rate": 0.4, "drivers_per_class": 9},
    "big": {"classes": 4, "drivers_per_class": 32, "semi_series": 3, "heat_minutes": (5, 10, 20, 45)},
}


def fetch_all(event: GeneratedEvent, server: FakeEverlapsServer):
    source = source_for(server)
    detail = source.fetch_event(event.ref)
    return detail, {race.race_id: source.fetch_race(event.ref, race) for race in detail.races}, source


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_generated_event_parses_to_exactly_the_expected_records(shape: str, seed: int) -> None:
    event = generate_event(seed, **SHAPES[shape])
    with FakeEverlapsServer(event.site()) as server:
        detail, races, source = fetch_all(event, server)
        posted = [r.endpoint for r in server.requests if r.method == "POST"]
    assert detail == event.detail
    assert races == event.results
    assert source.stats.requests == 1 + 2 + len(event.results)  # robots.txt, card, tree, one per heat
    for pending in event.pending_paths:  # listed with results 0: not a race, never asked for
        assert f"/api/res/{event.event_id}/{pending}" not in posted


def test_generator_is_deterministic_and_covers_both_lap_rules() -> None:
    first, again, other = generate_event(5), generate_event(5), generate_event(6)
    assert first.payloads == again.payloads and first.results == again.results
    assert first.payloads != other.payloads
    rules = {r.lead_in_counted for r in first.results.values()}
    assert rules == {True, False}
    drivers = [d for r in first.results.values() for d in r.drivers]
    assert any(not d.started for d in drivers) and any(not d.driver_name.isascii() for d in drivers)
    heats = [p for path, p in first.payloads.items() if path.count("/") == 7]
    staggered = [row for h in heats if not h["desc"]["countfirstlap"] for row in h["drivers"]]
    assert any(row["lapsdetail"] and row["lapsdetail"][0]["t"] == 0 for row in staggered)


def test_big_event_sizes() -> None:
    event = generate_event(7, classes=6, drivers_per_class=60, heat_minutes=(5, 10, 20, 60))
    laps = sum(len(d.laps) for r in event.results.values() for d in r.drivers)
    assert len(event.results) == len(event.detail.races) > 150
    assert laps > 10_000
