"""Each page the parsers refuse, with the exact reason a racer would read (one sentence, the URL once)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mre_pipeline.connectors.errors import (
    ImplausibleRecordError,
    MaintenancePageError,
    PageFormatError,
    TruncatedPageError,
    UnrecognisedPageError,
)
from mre_pipeline.connectors.liverc.pages.entry_list import parse_entry_list
from mre_pipeline.connectors.liverc.pages.event import parse_event
from mre_pipeline.connectors.liverc.pages.events import parse_events
from mre_pipeline.connectors.liverc.pages.race import parse_race
from mre_pipeline.fake_liverc.generator import generate_race, generate_site
from mre_pipeline.fake_liverc.server import MAINTENANCE_PAGE

URL = "https://demo.liverc.com/results/?p=view_race_result&id=6940673"
SITE = generate_site(seed=11, tracks=1, events_per_track=1)
TRACK = SITE.tracks[0]
EVENT = TRACK.events[0]


@pytest.fixture(scope="module")
def race() -> tuple[str, int]:
    """A 4-driver race: LACHLAN BROWN (487926, 5 laps), FELIX McLEAN (371952), CARLOS BROPHY (735017),
    MARK LEWIS (667252, did not start)."""
    html, record = generate_race(3, drivers=4, laps=5, non_starters=1, retirements=1)
    assert [d.driver_id for d in record.drivers] == [487926, 371952, 735017, 667252]
    return html, record.race_id


def refused(html: str, race_id: int) -> PageFormatError:
    with pytest.raises(PageFormatError) as err:
        parse_race(html, race_id, url=URL)
    assert str(err.value).count(URL) == 1 and "Error" not in str(err.value)
    return err.value


def cannot_be_right(detail: str) -> str:
    return f"the race page shows something that cannot be right: race 6940673, {detail} ({URL})"


def block(html: str, driver_id: int) -> tuple[int, int]:
    start = html.index(f"racerLaps[{driver_id}] = {{")
    return start, html.index("};", start) + 2


def row(html: str, driver_id: int) -> tuple[int, int]:
    anchor = html.index(f'data-driver-id="{driver_id}"')
    return html.rindex("<tr>", 0, anchor), html.index("</tr>", anchor) + 5


def test_a_results_table_missing_a_driver_is_refused(race) -> None:
    html, race_id = race
    start, end = row(html, 371952)
    error = refused(html[:start] + html[end:], race_id)
    assert isinstance(error, ImplausibleRecordError)
    assert (error.race_id, error.driver_id, error.driver_name) == (6940673, 371952, "FELIX McLEAN")
    assert str(error) == cannot_be_right(
        "driver FELIX McLEAN (371952): in the lap data but not in the results table"
    )


def test_lap_data_missing_a_driver_is_refused(race) -> None:
    html, race_id = race
    start, end = block(html, 735017)
    error = refused(html[:start] + html[end:], race_id)
    assert str(error) == cannot_be_right(
        "driver CARLOS BROPHY (735017): in the results table but not in the lap data"
    )


def test_a_lap_position_beyond_the_field_is_refused(race) -> None:
    html, race_id = race
    start, end = block(html, 487926)
    lap2 = html.index("'lapNum' : '2'", start)
    damaged = html[:lap2] + re.sub(r"'pos' : '\d+'", "'pos' : '152738'", html[lap2:end], count=1) + html[end:]
    assert str(refused(damaged, race_id)) == cannot_be_right(
        "driver LACHLAN BROWN (487926): lap 2 position 152738 is outside 1..4"
    )


def test_a_fastest_lap_of_zero_is_refused(race) -> None:
    html, race_id = race
    start, end = block(html, 487926)
    zeroed = html[:start] + re.sub(r"'fastLap' : '[\d.]+'", "'fastLap' : '0.0'", html[start:end]) + html[end:]
    assert str(refused(zeroed, race_id)) == cannot_be_right(
        "driver LACHLAN BROWN (487926): the results table shows fastest lap 33.861 but the lap data 0"
    )
    both = re.sub(r"<td>33\.861<sup>", "<td>0.000<sup>", zeroed)
    assert str(refused(both, race_id)) == cannot_be_right(
        "driver LACHLAN BROWN (487926): published fastest lap 0.000 s is not positive"
    )


def test_a_lap_more_than_the_table_says_is_refused(race) -> None:
    html, race_id = race
    start, end = block(html, 371952)
    lap = re.search(r"\{\s*'lapNum' : '4'.*?\}", html[start:end], re.S)
    assert lap is not None
    extra = (
        html[: start + lap.end()] + ",\n" + lap.group().replace("'4'", "'5'", 1) + html[start + lap.end() :]
    )
    assert str(refused(extra, race_id)) == cannot_be_right(
        "driver FELIX McLEAN (371952): 5 lap rows but the Laps/Time cell says 4 laps"
    )


def test_names_that_disagree_are_refused(race) -> None:
    html, race_id = race
    start, end = row(html, 371952)
    renamed = html[:start] + html[start:end].replace("FELIX McLEAN", "FELIX McLEOD") + html[end:]
    assert str(refused(renamed, race_id)) == cannot_be_right(
        "driver FELIX McLEOD (371952): the results table names 'FELIX McLEOD' but the lap data 'FELIX McLEAN'"
    )


def test_swapped_positions_are_refused(race) -> None:
    html, race_id = race
    first, second = row(html, 487926), row(html, 371952)
    a = html[first[0] : first[1]].replace("<td>1</td>", "<td>2</td>", 1)
    b = html[second[0] : second[1]].replace("<td>2</td>", "<td>1</td>", 1)
    swapped = html[: first[0]] + a + html[first[1] : second[0]] + b + html[second[1] :]
    assert str(refused(swapped, race_id)) == cannot_be_right(
        "driver LACHLAN BROWN (487926): results row 1 shows position 2"
    )


def test_a_duplicated_lap_data_block_is_refused(race) -> None:
    html, race_id = race
    start, end = block(html, 487926)
    doubled = html[:end] + html[start:end] + html[end:]
    assert str(refused(doubled, race_id)) == (
        f"the race page is malformed: lap data (racerLaps): two lap-data blocks for driver 487926 ({URL})"
    )


def test_a_statistic_printed_in_one_place_only_is_refused(race) -> None:
    html, race_id = race
    start, end = block(html, 487926)
    blanked = html[:start] + re.sub(r"'avgLap' : '[\d.]+'", "'avgLap' : ''", html[start:end]) + html[end:]
    assert str(refused(blanked, race_id)) == cannot_be_right(
        "driver LACHLAN BROWN (487926): the results table shows a figure for average lap that the lap data leaves blank"
    )


def test_a_truncated_page_is_told_apart_from_a_maintenance_page(race) -> None:
    html, race_id = race
    start, _ = row(html, 735017)
    truncated = refused(html[: start + 40], race_id)
    assert isinstance(truncated, TruncatedPageError)
    assert (
        str(truncated) == f"the race page ends before its content is complete, as if it was cut short ({URL})"
    )
    maintenance = refused(MAINTENANCE_PAGE, race_id)
    assert isinstance(maintenance, MaintenancePageError)
    assert str(maintenance) == f"LiveRC showed a maintenance page instead of the race page ({URL})"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
            "the answer is not a LiveRC race page (its title is '502 Bad Gateway')",
        ),
        ('{"error": "not found"}', "the answer is not a LiveRC race page"),
        ("", "the answer is not a LiveRC race page"),
    ],
)
def test_foreign_answers_are_named(answer: str, expected: str) -> None:
    error = refused(answer, 1)
    assert isinstance(error, UnrecognisedPageError)
    assert str(error) == f"{expected} ({URL})"


def test_deep_nesting_is_refused_not_half_read(race) -> None:
    html, race_id = race
    start, _ = row(html, 371952)
    nested = html[:start] + "<div>" * 400 + html[start:]
    assert str(refused(nested, race_id)) == (
        f"the race page is malformed: markup nested too deeply to be read to the end ({URL})"
    )


# -- events listing, event page, entry list ------------------------------------------------------------------
EVENTS_URL = "https://demo.liverc.com/events/"


def events_refusal(html: str) -> str:
    with pytest.raises(PageFormatError) as err:
        parse_events(html, TRACK.key, url=EVENTS_URL)
    return str(err.value)


def first_event_row(html: str) -> tuple[int, int]:
    start = html.index("<tr>", html.index("<tbody>", html.index('id="events"')))
    return start, html.index("</tr>", start) + 5


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda r: re.sub(r"id=\d+", "id=0", r, count=1), "event id 0 is not a positive number"),
        (
            lambda r: re.sub(
                r"(\d{4})-(\d\d)-(\d\d)",
                lambda m: f"{int(m.group(1)) - 1}-{m.group(2)}-{m.group(3)}",
                r,
                count=1,
            ),
            "event {id} is shown starting on {start} but sorted as starting on {earlier}",
        ),
        (
            lambda r: re.sub(
                r"<td>(\d+)</td>(\s*)<td>(\d+)</td>",
                lambda m: f"<td>{m.group(3)}</td>{m.group(2)}<td>{int(m.group(3)) + 1}</td>",
                r,
            ),
            "event {id}: {more} drivers but only {entries} entries",
        ),
    ],
)
def test_events_rows_that_cannot_be_right(edit, expected: str) -> None:
    html = SITE.page(TRACK.key, "/events/")
    start, end = first_event_row(html)
    first = SITE.events[TRACK.key][0]
    message = expected.format(
        id=first.event_id,
        start=first.start_date,
        earlier=first.start_date.replace(year=first.start_date.year - 1),
        more=(first.drivers or 0) + 1,
        entries=first.drivers,
    )
    assert events_refusal(html[:start] + edit(html[start:end]) + html[end:]) == (
        f"the events page shows something that cannot be right: {message} ({EVENTS_URL})"
    )


def test_an_event_ending_before_it_starts_is_refused() -> None:
    html = SITE.page(TRACK.key, "/events/")
    start, end = first_event_row(html)
    first = SITE.events[TRACK.key][0]
    changed = re.sub(
        r"(</span>)([A-Z][a-z]{2} \d+, \d{4})(?: to <br />[A-Z][a-z]{2} \d+, \d{4})?",
        r"\1\2 to <br />Jan 1, 2001",
        html[start:end],
    )
    assert events_refusal(html[:start] + changed + html[end:]) == (
        "the events page shows something that cannot be right: "
        f"event {first.event_id} ends (2001-01-01) before it starts ({first.start_date}) ({EVENTS_URL})"
    )


def test_an_event_listed_twice_differently_is_refused_and_identically_kept_once() -> None:
    html = SITE.page(TRACK.key, "/events/")
    start, end = first_event_row(html)
    row_html = html[start:end]
    assert parse_events(html[:end] + row_html + html[end:], TRACK.key) == SITE.events[TRACK.key]
    other = re.sub(r">([^<]+)</a>", ">Another Name</a>", row_html, count=1)
    first = SITE.events[TRACK.key][0]
    assert events_refusal(html[:end] + other + html[end:]) == (
        "the events page shows something that cannot be right: "
        f"event {first.event_id} is listed twice with different details ({EVENTS_URL})"
    )


def test_event_links_outside_readable_rows_are_refused() -> None:
    html = SITE.page(TRACK.key, "/events/").replace("<tbody>", "", 1)
    rows = len(SITE.events[TRACK.key])
    assert events_refusal(html) == (
        f"the events page is malformed: {rows} of its {rows} event links are outside rows that can be read ({EVENTS_URL})"
    )


def test_an_event_page_listing_a_race_twice_is_refused() -> None:
    url = "https://demo.liverc.com/results/?p=view_event&id=1"
    html = SITE.page(TRACK.key, SITE.event_path(EVENT.event_id))
    anchor = html.index("view_race_result")
    start, end = html.rindex("<tr>", 0, anchor), html.index("</tr>", anchor) + 5
    race_id = int(re.search(r"id=(\d+)", html[start:end]).group(1))
    with pytest.raises(ImplausibleRecordError) as err:
        parse_event(html[:end] + html[start:end] + html[end:], TRACK.key, EVENT.event_id, url=url)
    assert str(err.value) == (
        "the event page shows something that cannot be right: "
        f"event {EVENT.event_id} lists race ids more than once: [{race_id}] ({url})"
    )


def test_an_entry_list_that_disagrees_with_its_counts_is_refused() -> None:
    url = "https://demo.liverc.com/results/?p=view_entry_list&id=1"
    html = SITE.page(TRACK.key, SITE.entry_list_path(EVENT.event_id))
    first_class = EVENT.classes[0]
    anchor = html.index('<span class="hidden">', html.index(f"_table_{first_class.class_id}"))
    start, end = html.rindex("<tr>", 0, anchor), html.index("</tr>", anchor) + 5
    with pytest.raises(ImplausibleRecordError) as err:
        parse_entry_list(html[:start] + html[end:], EVENT.event_id, url=url)
    assert str(err.value) == (
        "the entry-list page shows something that cannot be right: "
        f"class {first_class.name!r} says {len(first_class.people)} entries but lists {len(first_class.people) - 1} ({url})"
    )


@pytest.mark.liverc_pages
def test_captured_pages_pass_every_rule(captured_dir: Path) -> None:
    """The real pages obey every rule (so the rules cannot refuse real LiveRC data of this shape)."""
    for race_id in (6304829, 6304822):
        parse_race(
            (captured_dir / f"canberraoffroad/race-{race_id}.html").read_text(encoding="utf-8"), race_id
        )
    assert (
        len(parse_events((captured_dir / "canberraoffroad/events.html").read_text(encoding="utf-8"), "c"))
        == 100
    )
    page = (captured_dir / "silverstate/entry-list.html").read_text(encoding="utf-8")
    assert len(parse_entry_list(page, 1).entries) == 724
