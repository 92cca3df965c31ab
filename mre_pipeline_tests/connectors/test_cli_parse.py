"""``mre-pipeline parse PAGE_TYPE FILE``: JSON records on stdout, or exit 1 with one line on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mre_pipeline.cli import main
from mre_pipeline.fake_liverc.generator import generate_race, generate_site


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["parse", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.liverc_pages
@pytest.mark.parametrize(("race_id", "drivers", "laps"), [(6304829, 12, 444), (6304822, 10, 96)])
def test_parse_captured_race_prints_one_object_per_driver(
    capsys, captured_dir: Path, race_id: int, drivers: int, laps: int
) -> None:
    code, out, err = run(capsys, "race", str(captured_dir / f"canberraoffroad/race-{race_id}.html"))
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["race_id"] == race_id  # taken from the file name: the page does not contain it
    assert len(data["drivers"]) == drivers
    assert all(isinstance(d, dict) and {"driver_id", "position", "laps"} <= d.keys() for d in data["drivers"])
    assert [d["position"] for d in data["drivers"]] == list(range(1, drivers + 1))
    assert sum(len(d["laps"]) for d in data["drivers"]) == laps
    assert data["drivers"][-1]["started"] is False and data["drivers"][0]["started"] is True


@pytest.mark.liverc_pages
def test_parse_captured_event_and_catalogue(capsys, captured_dir: Path) -> None:
    code, out, _ = run(capsys, "event", str(captured_dir / "canberraoffroad/event-486677.html"))
    event = json.loads(out)
    assert code == 0 and event["event_id"] == 486677 and event["track_slug"] == "canberraoffroad"
    assert len(event["races"]) == 32 and event["total_race_laps"] == 4129
    code, out, _ = run(capsys, "catalogue", str(captured_dir / "live.liverc.com/index.html"))
    assert code == 0 and len(json.loads(out)) == 1090


def test_parse_generated_race(capsys, tmp_path: Path) -> None:
    html, expected = generate_race(3, drivers=8, laps=12)
    page = tmp_path / "race.html"
    page.write_text(html, encoding="utf-8")
    code, out, err = run(capsys, "race", str(page), "--id", str(expected.race_id))
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["race_id"] == expected.race_id
    assert [d["driver_id"] for d in data["drivers"]] == [d.driver_id for d in expected.drivers]
    assert [d["driver_name"] for d in data["drivers"]] == [d.driver_name for d in expected.drivers]
    assert [len(d["laps"]) for d in data["drivers"]] == [d.laps_completed for d in expected.drivers]


def test_parse_generated_entry_list_keeps_non_ascii(capsys, tmp_path: Path) -> None:
    site = generate_site(1)
    key = next(k for k, v in site.entry_lists.items() if v is not None)
    page = tmp_path / f"entry-{key[1]}.html"
    page.write_text(site.page(key[0], site.entry_list_path(key[1])), encoding="utf-8")
    code, out, _ = run(capsys, "entry-list", str(page))
    data = json.loads(out)
    assert code == 0 and data["event_id"] == key[1]
    assert [e["driver_name"] for e in data["entries"]] == [
        e.driver_name for e in site.entry_lists[key].entries
    ]


@pytest.mark.parametrize("page_type", ["catalogue", "events", "event", "race", "entry-list"])
def test_malformed_page_exits_1_with_one_stderr_line(capsys, tmp_path: Path, page_type: str) -> None:
    page = tmp_path / "race-123.html"
    page.write_text("<html><body><p>Service temporarily unavailable</p></body></html>", encoding="utf-8")
    code, out, err = run(capsys, page_type, str(page))
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mre-pipeline: error:")
    assert "malformed" in lines[0] and "Traceback" not in err


def test_missing_file_exits_1_with_one_stderr_line(capsys, tmp_path: Path) -> None:
    code, out, err = run(capsys, "race", str(tmp_path / "nope.html"))
    assert code == 1 and out == "" and len(err.splitlines()) == 1
