"""The pure payload parsers: the refusals the brief asks for, the lap rule, ids, venues, the tree walk."""

from __future__ import annotations

import copy
import random
import re
from typing import Any

import pytest

from mre_pipeline.connectors.errors import PageFormatError
from mre_pipeline.connectors.everlaps.payloads.event import parse_event, path_for_race_id, race_id_for_path
from mre_pipeline.connectors.everlaps.payloads.heat import length_label, parse_heat
from mre_pipeline.connectors.everlaps.payloads.venue import coordinates, venue_record
from mre_pipeline.connectors.records import RaceSummary

URL = "http://127.0.0.1:1/api/res/1/7303/5/1/1?l=en"
RACE = RaceSummary(
    7303050101, "Finals", 1, "1:8 Nitro Buggy", "1:8 Nitro Buggy Finals, Final", locator="7303/5/1/1"
)
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def row(
    driver_id: int, lap_times: list[int], lead_in: int = 40_000, counted: bool = True, **extra: Any
) -> dict[str, Any]:
    crossings = [{"x": 0, "y": 1, "t": t} for t in [lead_in, *lap_times]]
    total = sum(lap_times) + (lead_in if counted else 0)
    return {"driverid": driver_id, "name": "Íñigo", "surname": "Núñez", "carnumber": driver_id, "laps": len(lap_times),
            "time": total, "grid": 1, "lapsdetail": crossings, **extra}  # fmt: skip


def heat(*rows: dict[str, Any], counted: bool = True) -> dict[str, Any]:
    return {"desc": {"title": "Final 1, Serie A", "countfirstlap": counted}, "drivers": list(rows),
            "heatDuration": 300_000, "maxLaps": 9}  # fmt: skip


def refused(payload: Any) -> str:
    with pytest.raises(PageFormatError) as err:
        parse_heat(payload, RACE, url=URL)
    message = str(err.value)
    assert message.startswith(f'the Everlaps heat "{RACE.session_label}" at {URL} cannot be used: ')
    return message


def test_milliseconds_become_exact_seconds() -> None:
    result = parse_heat(heat(row(1, [37_234, 42_000, 100_001], lead_in=5)), RACE, url=URL)
    (driver,) = result.drivers
    assert [str(lap.lap_time_s) for lap in driver.laps] == ["37.234", "42.0", "100.001"]
    assert str(driver.total_time_s) == "179.24" and driver.lead_in_time_s == 0.005


def test_staggered_start_does_not_count_the_first_crossing() -> None:
    result = parse_heat(
        heat(row(1, [45_000, 46_000], lead_in=12_345, counted=False), counted=False), RACE, url=URL
    )
    (driver,) = result.drivers
    assert driver.lead_in_time_s is None and driver.total_time_s == 91.0 and driver.laps_completed == 2
    assert result.lead_in_counted is False


def test_duplicated_driver_ids_are_refused() -> None:
    assert "driver 7 is listed more than once" in refused(heat(row(7, [40_000]), row(7, [41_000])))


def test_negative_times_are_refused() -> None:
    bad = row(3, [40_000, 41_000])
    bad["lapsdetail"][2]["t"] = -41_000
    assert "driver 3 (Íñigo Núñez): lap 2: the time ('t') is -41000, below" in refused(heat(bad))
    assert "the total time ('time') is -1" in refused(heat(row(3, [40_000], time=-1)))


def test_zero_lap_times_are_refused() -> None:
    bad = row(3, [40_000, 0])
    assert "lap 2: the time ('t') is 0, below the smallest possible 1" in refused(heat(bad))


def test_positions_outside_the_field_are_refused() -> None:
    bad = row(4, [40_000])
    bad["lapsdetail"][1]["y"] = 3
    assert "lap 1: the position 3 is outside a field of 2" in refused(heat(bad, row(5, [41_000])))
    assert "the grid position 9 is outside a field of 1" in refused(heat(row(4, [40_000], grid=9)))
    assert "the grid position ('grid') is 0" in refused(heat(row(4, [40_000], grid=0)))


def test_lap_count_must_match_the_crossings() -> None:
    too_few = row(6, [40_000, 41_000])
    too_few["laps"] = 3
    assert "the lap grid has 3 crossings of the line, but 3 laps need 4" in refused(heat(too_few))
    ghost = row(6, [40_000, 41_000])
    ghost["laps"] = -1
    assert "3 crossings of the line for a driver with no lap" in refused(heat(ghost))
    assert "the lap count ('laps') is -2" in refused(heat(row(6, [40_000], laps=-2)))


def test_totals_must_be_the_laps_plus_the_counted_lead_in() -> None:
    message = refused(heat(row(8, [40_000, 41_000], lead_in=500, time=81_001)))
    assert (
        "the published total 81.001 s is not its 2 laps of 81.0 s plus 0.5 s to the line before lap 1"
        in message
    )
    penalised = row(8, [40_000], lead_in=500, time=45_500, startcorrection=5_000)
    assert "(start correction 5000 ms)" in refused(heat(penalised))


def test_a_fastest_lap_outside_the_laps_is_refused() -> None:
    assert "the fastest lap is lap 3 of 2" in refused(
        heat(row(1, [40_000, 41_000], fastest=40_000, fastinlap=3))
    )


def test_booleans_and_fractions_are_not_numbers() -> None:
    assert "the lap count ('laps') is not a whole number (got True)" in refused(
        heat(row(1, [40_000], laps=True))
    )
    assert "the total time ('time') is not a whole number (got 40000.5)" in refused(
        heat(row(1, [40_000], time=40000.5))
    )
    assert "the consistency ('reg') is not a percentage" in refused(heat(row(1, [40_000], reg="9x")))
    assert "outside 0 to 100" in refused(heat(row(1, [40_000], reg="100.5")))


def test_non_starters() -> None:
    dns = {
        "driverid": 2,
        "name": "Ana",
        "surname": "",
        "carnumber": 2,
        "laps": -1,
        "time": 0,
        "grid": 2,
        "lapsdetail": [],
    }
    one_crossing = {
        **dns,
        "driverid": 3,
        "laps": 0,
        "time": 766_956,
        "lapsdetail": [{"x": 766_956, "y": 3, "t": 766_956}],
    }
    result = parse_heat(heat(row(1, [40_000]), dns, one_crossing), RACE, url=URL)
    _, first, second = result.drivers
    assert (first.driver_name, first.laps_completed, first.total_time_s, first.lead_in_time_s) == (
        "Ana",
        0,
        None,
        None,
    )
    assert (second.total_time_s, second.lead_in_time_s, second.laps) == (766.956, 766.956, ())
    assert not first.started and not second.started and [d.position for d in result.drivers] == [1, 2, 3]


def test_names_are_published_names_with_whitespace_normalised() -> None:
    result = parse_heat(
        heat(row(1, [40_000], name="  Miguel  Ángel ", surname="Alonso\tSoto (Ge)")), RACE, url=URL
    )
    assert result.drivers[0].driver_name == "Miguel Ángel Alonso Soto (Ge)"
    assert "the driver has no name" in refused(heat(row(1, [40_000], name=" ", surname=None)))


def test_length_labels() -> None:
    assert [length_label(ms) for ms in (300_000, 2_700_000, 90_500, 0)] == [
        "5:00 Timed",
        "45:00 Timed",
        "1:30.500 Timed",
        None,
    ]


def test_race_ids_pack_the_heat_path_reversibly() -> None:
    rng = random.Random(4)
    for _ in range(500):
        path = f"{rng.randint(1, 10**12)}/{rng.randint(0, 99)}/{rng.randint(0, 99)}/{rng.randint(0, 99)}"
        assert path_for_race_id(race_id_for_path(path)) == path
    assert race_id_for_path("7303/1/1/2") == 7303010102


def tree(*leaves: dict[str, Any], class_id: int = 7303) -> dict[str, Any]:
    return {"id": 1, "name": "Event", "races": [{"id": class_id, "path": class_id, "name": "1:8 Buggy",
            "children": [{"id": 1, "name": "Round", "path": f"{class_id}/1", "children": list(leaves)}]}]}  # fmt: skip


CARD = {"title": "Prueba", "eventId": 1, "mapLink": "https://maps.google.com/?q=40.4168,-3.7038"}


def test_only_four_part_leaves_are_heats_and_unrun_heats_are_skipped() -> None:
    detail = parse_event(CARD, tree(
        {"id": 0, "name": "Series", "path": "7303/1/0"},
        {"id": 1, "name": "Serie 1", "path": "7303/1/1/1", "results": 4},
        {"id": 2, "name": "Serie 2", "path": "7303/1/1/2", "results": 0},
        {"id": 3, "name": "Final", "path": "7303/5/1/1", "children": []},
    ), 1)  # fmt: skip
    assert [(r.locator, r.race_number, r.section) for r in detail.races] == [
        ("7303/1/1/1", 1, "Round"),
        ("7303/5/1/1", 2, "Round"),
    ]


@pytest.mark.parametrize(
    ("leaf", "reason"),
    [
        ({"name": "Serie 1", "path": "7303/1/1/1/../x"}, "is not numbers separated by slashes"),
        ({"name": "Serie 1", "path": 7303010101}, None),  # one part: an overview, skipped
        ({"name": "Serie 1", "path": "7303/1/100/1"}, "has a part too large to make a race id"),
        ({"name": "Serie 1", "path": "9999/1/1/1"}, "its path does not start with the class id 7303"),
        ({"name": "Serie 1", "path": "7303/1/1/1", "results": -1}, "the result count ('results') is -1"),
        ({"path": "7303/1/1/1"}, "heat 7303/1/1/1: the heat name ('name') is missing or blank"),
    ],
)
def test_tree_refusals(leaf: dict[str, Any], reason: str | None) -> None:
    if reason is None:
        assert parse_event(CARD, tree(leaf), 1).races == ()
        return
    with pytest.raises(PageFormatError) as err:
        parse_event(CARD, tree(leaf), 1, tree_url="http://x/api/res/1?l=en")
    assert reason in str(err.value)
    assert str(err.value).startswith("the Everlaps results tree at http://x/api/res/1?l=en cannot be used")


def test_duplicated_heat_paths_and_deep_trees_are_refused() -> None:
    leaf = {"name": "Serie 1", "path": "7303/1/1/1"}
    with pytest.raises(PageFormatError, match="heat path 7303/1/1/1 appears more than once"):
        parse_event(CARD, tree(leaf, dict(leaf)), 1)
    deep: dict[str, Any] = {"name": "Serie 1", "path": "7303/1/1/1"}
    for _ in range(20):
        deep = {"name": "Nest", "path": "7303/1", "children": [deep]}
    with pytest.raises(PageFormatError, match="nested deeper than 8 levels"):
        parse_event(CARD, tree(deep), 1)


def test_card_dates_and_fallbacks() -> None:
    card = {**CARD, "fromdate": "2026-03-21T23:30:00.000Z", "todate": "2026-03-22T17:00:00Z"}
    detail = parse_event(card, tree(), 1)
    assert (str(detail.start_date), str(detail.end_date), detail.starts_at_utc.hour) == (
        "2026-03-21",
        "2026-03-22",
        23,
    )
    untitled = parse_event({"eventId": 1}, {**tree(), "track": "Pista Cáceres", "club": "Club RC"}, 1)
    assert (
        untitled.name == "Event"
        and untitled.track_name == "Pista Cáceres"
        and untitled.venue.organiser == "Club RC"
    )
    assert untitled.track_slug == "everlaps-venue-pista-caceres"
    for bad, reason in (
        (
            {**card, "todate": "2026-03-20T00:00:00Z"},
            "the event ends (2026-03-20T00:00:00+00:00) before it starts",
        ),
        ({**card, "fromdate": "22/03/2026"}, "the start date ('fromdate') is not a date and time"),
        ({**card, "fromdate": "2026-03-22T08:00:00"}, "has no time zone"),
        ({**card, "categories": {"a": 1}}, "the class list ('categories') is not a list"),
    ):
        with pytest.raises(PageFormatError) as err:
            parse_event(bad, tree(), 1, card_url="http://x/api/frontend/event/1")
        assert reason in str(err.value) and str(err.value).startswith("the Everlaps event card at http://x/")


@pytest.mark.parametrize(
    ("link", "found"),
    [
        (
            "https://www.google.com/maps/dir//38.9694506,-5.8681566/@38.9694506,-5.8681566,15z",
            (38.9694506, -5.8681566),
        ),
        ("https://maps.google.com/?q=40.4168%2C-3.7038", (40.4168, -3.7038)),
        ("https://www.google.com/maps/place/Circuito/@41.38,2.17,17z/data=!3m1", (41.38, 2.17)),
        ("https://www.google.com/maps/@-33.8688,151.2093,12z", (-33.8688, 151.2093)),
        ("https://goo.gl/maps/AbC123", None),
        ("https://maps.google.com/?q=123.5,200.1", None),
        ("https://maps.google.com/?q=1234.5678,9.1", None),
        ("", None),
        (None, None),
    ],
)
def test_coordinates_from_map_links(link: str | None, found: tuple[float, float] | None) -> None:
    assert coordinates(link) == found


def test_venue_slugs_are_stable_valid_and_never_liverc_shaped() -> None:
    assert (
        venue_record(1, "X", None, "https://maps/?q=38.9694506,-5.8681566").slug == "everlaps-n38969-w005868"
    )
    assert venue_record(1, "X", None, "https://maps/?q=-33.86885,151.20935").slug == "everlaps-s33869-e151209"
    assert venue_record(1, "X", None, "https://maps/?q=38.96949,-5.86821").slug == "everlaps-n38969-w005868"
    assert venue_record(77, None, None, None).slug == "everlaps-event-77"
    assert venue_record(77, "🏁 ☃", None, None).slug == "everlaps-event-77"
    rng = random.Random(9)
    alphabet = "abcñáéíóúüçãõ ÁÉ-_/.,'()0123456789🏁"
    for _ in range(300):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120)))
        lat, lng = rng.uniform(-90, 90), rng.uniform(-180, 180)
        for record in (
            venue_record(5, name, None, None),
            venue_record(5, name, None, f"https://m/?q={lat:.6f},{lng:.6f}"),
        ):
            assert SLUG.fullmatch(record.slug) and record.slug.startswith("everlaps-"), record.slug


def test_the_capture_mutated_by_hand_keeps_its_meaning(capture) -> None:
    """A copy of the captured final with one driver's row duplicated is refused, naming the driver."""
    final = copy.deepcopy(capture["res_by_path"]["7303_5_1_1"])
    final["drivers"].append(copy.deepcopy(final["drivers"][0]))
    message = refused(final)
    assert f"driver {final['drivers'][0]['driverid']} is listed more than once" in message
