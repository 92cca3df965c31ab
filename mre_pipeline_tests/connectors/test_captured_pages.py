"""Every parser against the real captured pages: each number of ground_truth.json is asserted."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time
from typing import Any

import pytest

from mre_pipeline.connectors.liverc.pages.catalogue import parse_catalogue
from mre_pipeline.connectors.liverc.pages.entry_list import parse_entry_list
from mre_pipeline.connectors.liverc.pages.event import parse_event
from mre_pipeline.connectors.liverc.pages.events import parse_events
from mre_pipeline.connectors.liverc.pages.race import parse_race
from mre_pipeline.connectors.liverc.values import duration_seconds, laps_and_time

pytestmark = pytest.mark.liverc_pages


def test_catalogue(read_page, truth: dict[str, Any]) -> None:
    gt = truth["track_catalogue"]
    tracks = parse_catalogue(read_page("live.liverc.com/index.html"))
    assert len(tracks) == gt["n_tracks"] == 1090
    assert [tracks[0].slug, tracks[0].name] == [gt["first"][0].lower(), gt["first"][1]]
    assert [tracks[-1].slug, tracks[-1].name] == [gt["last"][0].lower(), gt["last"][1]]
    active = [t for t in tracks if t.activity != "idle"]
    assert len(active) == gt["n_live_href"] == 126
    assert len(tracks) - len(active) == gt["n_results_href"] == 964
    assert sum(t.featured for t in tracks) == gt["n_featured"] == 10
    assert sum(t.current_event_name is None for t in tracks) == gt["n_without_current_event_line"] == 41
    assert all(t.slug == t.slug.lower() and t.name == " ".join(t.name.split()) for t in tracks)
    assert len({t.slug for t in tracks}) == 1090
    assert tracks[0].activity == "racing" and tracks[0].has_live_video
    assert tracks[0].last_activity_text == "1 minute ago" and tracks[-1].last_activity_text == "last year"
    assert Counter(t.activity for t in tracks) == {"idle": 964, "practice": 107, "racing": 19}


def test_events_listing(read_page, truth: dict[str, Any]) -> None:
    gt = truth["events_listing"]
    events = parse_events(read_page("canberraoffroad/events.html"), "canberraoffroad")
    assert len(events) == gt["n_events"] == 100
    for record, expected in ((events[0], gt["first"]), (events[-1], gt["last"])):
        assert record.event_id == int(expected["event_id"])
        assert record.name == expected["name"]
        stamp = datetime.strptime(expected["hidden_datetime"], "%Y-%m-%d %H:%M:%S")
        assert record.start_date == record.end_date == stamp.date()
        assert record.start_time == stamp.time()
        assert record.start_date == datetime.strptime(expected["visible_date"], "%b %d, %Y").date()
        assert (record.entries, record.drivers) == (expected["entries"], expected["drivers"])
    assert events[0].start_time == time(8, 30)
    assert sum(e.end_date != e.start_date for e in events) == gt["n_multi_day"] == 14
    assert all(e.end_date >= e.start_date for e in events)
    zero = [str(e.event_id) for e in events if e.entries == 0]
    assert zero == gt["zero_entry_events"]
    assert all(e.drivers == 0 for e in events if e.entries == 0)
    assert sum(e.start_time is None for e in events) == 75  # 00:00:00 means "no time"
    assert {e.track_slug for e in events} == {"canberraoffroad"}


def _check_event(detail, gt: dict[str, Any], n_races: int) -> None:
    assert detail.event_id == int(gt["event_id"]) and detail.track_slug == gt["track_slug"]
    assert detail.name == gt["event_name"]
    assert detail.track_name == "Canberra Off Road Model Car Club"
    assert detail.start_date == detail.end_date == date(2025, 11, 16)
    assert detail.has_entry_list_link
    assert (detail.entries, detail.drivers) == (gt["entries"], gt["drivers"]) == (71, 60)
    assert detail.total_race_laps == gt["total_race_laps"] == 4129
    assert detail.race_track == gt["race_track"]
    assert len(detail.races) == n_races


def test_event_detail(read_page, truth: dict[str, Any]) -> None:
    gt = truth["event_detail"]
    detail = parse_event(read_page("canberraoffroad/event-486677.html"), "canberraoffroad", 486677)
    _check_event(detail, gt, gt["n_race_result_links"])
    assert dict(Counter(r.section for r in detail.races)) == gt["races_per_section"]
    assert list(dict.fromkeys(r.section for r in detail.races)) == list(gt["races_per_section"])
    first, last = detail.races[0], detail.races[-1]
    assert (first.race_id, first.section, first.completed_text) == (
        int(gt["first_race"]["id"]),
        gt["first_race"]["section"],
        gt["first_race"]["completed"],
    )
    assert (first.race_number, first.class_name, first.session_label) == (
        14,
        "1/8 Nitro Buggy",
        "1/8 Nitro Buggy A-Main",
    )
    assert first.completed_at == datetime(2025, 11, 16, 17, 30)
    assert (last.race_id, last.section, last.completed_text) == (
        int(gt["last_race"]["id"]),
        gt["last_race"]["section"],
        gt["last_race"]["completed"],
    )
    assert (last.race_number, last.class_name, last.session_label) == (
        1,
        "1/8 Electric Buggy",
        "1/8 Electric Buggy (Heat 1/3)",  # nested parentheses, double space normalised
    )
    assert last.completed_at == datetime(2025, 11, 16, 8, 22)
    assert len({r.race_id for r in detail.races}) == 32
    assert all(r.completed_at is not None for r in detail.races)
    assert Counter(r.race_number for r in detail.races)[1] == 4  # numbers restart per section


def test_event_detail_two_races(read_page, truth: dict[str, Any]) -> None:
    detail = parse_event(read_page("canberraoffroad/event-486677-two-races.html"), "canberraoffroad", 486677)
    _check_event(detail, truth["event_detail"], 2)
    assert [r.race_id for r in detail.races] == [6304829, 6304822]


@pytest.mark.parametrize("race_id", [6304829, 6304822])
def test_race_result(read_page, truth: dict[str, Any], race_id: int) -> None:
    gt = truth["race_results"][str(race_id)]
    race = parse_race(read_page(f"canberraoffroad/race-{race_id}.html"), race_id)
    assert race.race_id == race_id
    assert race.class_header == gt["class_header"]
    assert race.race_number == int(gt["race_num"])
    assert [f"Round: {race.round_label}", f"Length: {race.length_label}"] == gt["sub_headers"]
    assert len(race.drivers) == gt["n_drivers_table"] == gt["n_racerlaps"]
    assert sum(len(d.laps) for d in race.drivers) == gt["total_laps_excl_lap0"]
    for driver, expected in zip(race.drivers, gt["drivers"], strict=True):
        assert driver.position == expected["position"]
        assert driver.car_number == expected["car_num"]
        assert driver.driver_name == expected["driver_name"]
        assert driver.driver_id == int(expected["racerlaps_key"])
        if expected["table_data_driver_id"] is not None:
            assert driver.driver_id == int(expected["table_data_driver_id"])
        assert driver.qual_position == int(expected["qual"])
        laps, total = laps_and_time(expected["laps_time_cell"])
        assert (driver.laps_completed, driver.total_time_s) == (laps, total)
        assert driver.behind_text == (expected["behind_cell"] or None)
        assert len(driver.laps) == expected["laps_excl_lap0"] == driver.laps_completed
        assert [lap.lap_number for lap in driver.laps] == list(range(1, len(driver.laps) + 1))
        if expected["has_lap0_row"]:
            assert driver.started
            assert driver.grid_position == driver.qual_position  # lap 0 carries the grid slot
            assert driver.fastest_lap_s == float(expected["fastLap_racerLaps"])
            assert driver.fastest_lap_s == float(expected["fastest_lap_cell"])
            assert driver.fastest_lap_number == expected["fastest_lap_no_cell"]
            assert driver.avg_lap_s == float(expected["avgLap_racerLaps"])
            published = float(expected["consistency_cell"].rstrip("%"))  # table: 2 dp; racerLaps: 3 dp
            assert abs(driver.consistency_pct - published) <= 0.005 + 1e-9
            assert round(sum(lap.lap_time_s for lap in driver.laps), 3) == expected["sum_lap_times"]
            assert round(sum(lap.lap_time_s for lap in driver.laps), 3) == driver.total_time_s
            assert min(lap.lap_time_s for lap in driver.laps) == float(expected["min_lap_time_all_laps"])
            assert driver.laps[driver.fastest_lap_number - 1].lap_time_s == driver.fastest_lap_s
        else:  # non-starter: id only from the racerLaps key, every statistic absent
            assert not driver.started
            assert driver.total_time_s is None and driver.grid_position is None
            assert driver.fastest_lap_s is driver.fastest_lap_number is driver.avg_lap_s is None
            assert driver.consistency_pct is driver.std_deviation_s is driver.avg_top15_s is None


def test_race_published_statistics_kept_as_published(read_page) -> None:
    race = parse_race(read_page("canberraoffroad/race-6304829.html"), 6304829)
    felix = race.drivers[0]
    assert felix.avg_lap_s == 38.983  # LiveRC's figure: laps 2..N here, not the plain mean
    assert round(sum(lap.lap_time_s for lap in felix.laps[1:]) / 46, 3) == 38.983
    assert (felix.avg_top5_s, felix.avg_top10_s, felix.avg_top15_s) == (37.267, 37.362, 37.468)
    assert (felix.top3_consecutive_s, felix.std_deviation_s, felix.consistency_pct) == (111.828, 2.799, 92.82)
    assert felix.laps[0].lap_time_s == 38.17 and felix.laps[0].pace == "48/30:32.160"
    assert felix.laps[0].position == 1


def test_race_non_starters(read_page) -> None:
    race = parse_race(read_page("canberraoffroad/race-6304822.html"), 6304822)
    non_starters = [(d.driver_id, d.driver_name, d.grid_position) for d in race.drivers if not d.started]
    assert non_starters == [
        (731648, "RILEY LANDER", None),
        (505722, "STEPHEN SNEDDEN", None),
        (433628, "LEE BAGGULEY", None),
    ]


def test_entry_list(read_page, truth: dict[str, Any]) -> None:
    gt = truth["entry_list"]
    entries = parse_entry_list(read_page("silverstate/entry-list.html"), 4242)
    assert entries.event_id == 4242
    assert len(entries.class_names) == gt["n_classes"] == 18
    assert len(entries.entries) == gt["n_entries_total"] == gt["event_stats"]["entries"] == 724
    assert len({e.driver_name for e in entries.entries}) == gt["event_stats"]["drivers"] == 263
    assert entries.class_names == [c["class"] for c in gt["classes"]]
    for expected in gt["classes"]:
        rows = [e for e in entries.entries if e.class_name == expected["class"]]
        assert len(rows) == expected["n_rows"] == int(expected["entries_header"].split(":")[1])
        first = rows[0]
        row = expected["first_row"]
        assert (first.row_number, first.sort_name, first.driver_name, first.transponder) == (
            int(row["num"]),
            row["sort_name"],
            row["display_name"],
            row["transponder"],
        )
        assert first.class_ref == expected["tab_id"].rsplit("_tab_", 1)[1]
        assert [e.row_number for e in rows] == list(range(1, len(rows) + 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1:52.036", 112.036), ("56.135", 56.135), ("1:02:03.5", 3723.5), ("", None), ("  ", None)],
)
def test_duration_values(text: str, expected: float | None) -> None:
    assert duration_seconds(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("47/30:31.382", (47, 1831.382)), ("1/56.135", (1, 56.135)), ("0", (0, None)), ("0/0.000", (0, None))],
)
def test_laps_time_values(text: str, expected: tuple[int, float | None]) -> None:
    assert laps_and_time(text) == expected
