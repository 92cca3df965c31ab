"""``replay.parse_file``: the engine of ``mre-pipeline parse``; JSON-ready data or a ConnectorError."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mre_pipeline.connectors.errors import ConnectorError, PageFormatError
from mre_pipeline.connectors.replay import PAGE_TYPES, parse_file


def test_page_types() -> None:
    assert PAGE_TYPES == ("catalogue", "events", "event", "race", "entry-list")


def test_unknown_page_type_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="unknown page type 'heat-sheet'"):
        parse_file("heat-sheet", tmp_path / "x.html")
    with pytest.raises(ConnectorError, match="cannot read"):
        parse_file("race", tmp_path / "missing.html")


def test_malformed_page_is_a_page_format_error(tmp_path: Path) -> None:
    page = tmp_path / "race-12345.html"
    page.write_text("<html><body>nothing here</body></html>", encoding="utf-8")
    with pytest.raises(PageFormatError) as err:
        parse_file("race", page)
    assert err.value.page_type == "race" and "race_result" in err.value.missing


@pytest.mark.liverc_pages
def test_race_json_one_object_per_driver_with_laps(captured_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "CanberraOffRoad" / "race-6304822.html"  # outside the repo, deleted with tmp_path
    copy.parent.mkdir()
    shutil.copy(captured_dir / "canberraoffroad/race-6304822.html", copy)
    data = parse_file("race", copy)
    json.dumps(data)  # JSON-serialisable
    assert data["race_id"] == 6304822
    drivers = data["drivers"]
    assert [d["driver_id"] for d in drivers][-3:] == [731648, 505722, 433628]
    assert drivers[0]["driver_name"] == "ARI BAKLA" and len(drivers[0]["laps"]) == 16
    assert set(drivers[0]["laps"][0]) == {"lap_number", "lap_time_s", "position", "pace"}
    assert drivers[0]["laps"][0]["lap_number"] == 1 and drivers[0]["grid_position"] == 2
    assert drivers[-1]["started"] is False and drivers[-1]["laps"] == []
    assert parse_file("race", copy, object_id=7)["race_id"] == 7


@pytest.mark.liverc_pages
def test_ids_and_slug_inferred_from_the_path(captured_dir: Path) -> None:
    event = parse_file("event", captured_dir / "canberraoffroad/event-486677-two-races.html")
    assert (event["event_id"], event["track_slug"]) == (486677, "canberraoffroad")
    assert event["start_date"] == "2025-11-16" and event["races"][0]["completed_at"] == "2025-11-16T17:30:00"
    events = parse_file("events", captured_dir / "canberraoffroad/events.html", track_slug="cormcc")
    assert events[0]["track_slug"] == "cormcc" and events[0]["start_time"] == "08:30:00"
    entries = parse_file("entry-list", captured_dir / "silverstate/entry-list.html")
    assert entries["event_id"] == 0 and len(entries["entries"]) == 724  # no id in the name: 0


def test_connectors_do_not_import_dagster() -> None:
    """Layering: only connectors/liverc/resource.py may import Dagster."""
    import subprocess
    import sys

    code = (
        "import sys, mre_pipeline.connectors.liverc, mre_pipeline.connectors.replay, "
        "mre_pipeline.fake_liverc.generator; print('dagster' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
