"""``mre-pipeline report`` on the captured races: the page's chart data are the marts' numbers, it opens
offline in headless Chromium with its four charts and twelve drivers, and bad arguments say which."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from mre_pipeline.cli import main
from mre_pipeline.engineer.report import RACE_CHARTS, SPECS_ELEMENT_ID
from mre_pipeline_tests.engineer.chromium import chromium_or_skip, page_requests
from mre_pipeline_tests.engineer.conftest import EVENT, FELIX, RACE
from mre_pipeline_tests.summaries.conftest import rows

pytestmark = pytest.mark.liverc_pages

DRIVERS_6304829 = 12
LAPS_SQL = """
select driver_name, lap_number, lap_time_s, position, gap_to_leader_s, delta_to_own_median_s
from mre_summaries.lap_progression where source_race_id = :race
"""


@pytest.fixture
def on_captured(captured_marts_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MRE_DATABASE_URL", captured_marts_url)
    return captured_marts_url


@pytest.fixture
def race_report(on_captured: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "race.html"
    assert main(["report", "--event", str(EVENT), "--race", str(RACE), "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    return out


def _specs(page: Path) -> dict[str, dict]:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
    return json.loads(soup.find("script", id=SPECS_ELEMENT_ID).string)


def test_chart_data_are_lap_progression_numbers(race_report: Path, captured_marts: sa.Engine) -> None:
    specs = _specs(race_report)
    assert sorted(specs) == sorted(f"chart-{RACE}-{name}" for name in RACE_CHARTS)
    expected = {(r["driver_name"], r["lap_number"]): r for r in rows(captured_marts, LAPS_SQL, race=RACE)}
    for name in ("lap-times", "positions", "gap"):
        plotted = specs[f"chart-{RACE}-{name}"]["data"]["values"]
        assert len(plotted) == len(expected) == 444
        for point in plotted:
            row = expected[(point["driver_name"], point["lap_number"])]
            assert point["lap_time_s"] == float(row["lap_time_s"])
            assert point["position"] == row["position"]
            assert point["gap_to_leader_s"] == float(row["gap_to_leader_s"])
            assert point["incident"] == (float(row["delta_to_own_median_s"]) > 2)
    summary = {
        r["driver_name"]: r
        for r in rows(
            captured_marts,
            "select * from mre_summaries.driver_race_summary where source_race_id = :race",
            race=RACE,
        )
    }
    consistency = specs[f"chart-{RACE}-consistency"]
    assert len(consistency["hconcat"][0]["encoding"]["y"]["scale"]["domain"]) == DRIVERS_6304829
    for point in consistency["data"]["values"]:
        row = summary[point["driver_name"]]
        assert point["consistency_pct"] == float(row["consistency_pct"])
        assert point["drop_off_s"] == float(row["drop_off_s"])
    assert len(consistency["data"]["values"]) == sum(1 for r in summary.values() if r["laps"]) == 11


def test_page_references_nothing_outside_itself(race_report: Path) -> None:
    page = race_report.read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "lxml")
    assert soup.find_all("link") == [] and soup.find_all("iframe") == []
    assert all(not tag.get("src") for tag in soup.find_all(["script", "img"]))
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page, re.IGNORECASE)
    assert "@import" not in page and "url(http" not in page
    assert "FELIX KOEGLER" in soup.find("table", class_="results").get_text()
    assert len(soup.find("table", class_="results").find("tbody").find_all("tr")) == DRIVERS_6304829


def test_report_opens_offline_in_chromium_with_four_charts(
    race_report: Path, captured_marts: sa.Engine, tmp_path: Path
) -> None:
    run, page_hosts = page_requests(chromium_or_skip(), race_report, tmp_path)
    assert page_hosts == set(), run.requests
    soup = BeautifulSoup(run.dom, "lxml")
    drivers = [
        r["driver_name"]
        for r in rows(
            captured_marts,
            "select driver_name from mre_summaries.driver_race_summary where source_race_id = :race",
            race=RACE,
        )
    ]
    assert len(drivers) == DRIVERS_6304829
    for name in RACE_CHARTS:
        chart = soup.find(id=f"chart-{RACE}-{name}")
        assert chart.get("data-rendered") == "true", (name, chart.get_text()[:300])
        labels = {t.get_text() for t in chart.select("svg text")}
        assert set(drivers) <= labels, (name, set(drivers) - labels)
    # The incident diamonds Chromium drew carry their figures: exactly lap_progression's incident laps.
    drawn = set()
    for mark in soup.find(id=f"chart-{RACE}-lap-times").select('path[aria-roledescription="point"]'):
        found = re.match(r"Lap: (\d+); Lap time \(s\): ([\d.]+); Driver: ([^;]+);", mark["aria-label"])
        drawn.add((found[3], int(found[1]), float(found[2])))
    incidents = {
        (r["driver_name"], r["lap_number"], float(r["lap_time_s"]))
        for r in rows(captured_marts, LAPS_SQL, race=RACE)
        if r["delta_to_own_median_s"] > 2
    }
    assert drawn == incidents and len(incidents) > 20


def test_the_network_check_catches_a_page_that_loads_from_outside(tmp_path: Path) -> None:
    page = tmp_path / "leaky.html"
    page.write_text(
        '<html><body><img src="https://cdn.example.org/logo.png">'
        '<script src="http://scripts.example.net/vega.js"></script></body></html>',
        encoding="utf-8",
    )
    _, page_hosts = page_requests(chromium_or_skip(), page, tmp_path)
    assert page_hosts == {"cdn.example.org", "scripts.example.net"}


def test_driver_report_keeps_their_races_and_history(
    on_captured: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "felix.html"
    assert main(["report", "--event", str(EVENT), "--driver", "félix koegler", "--out", str(out)]) == 0
    specs = _specs(out)
    assert sorted(specs) == sorted([*(f"chart-{RACE}-{n}" for n in RACE_CHARTS), f"chart-driver-{FELIX}"])
    pick = specs[f"chart-{RACE}-lap-times"]["layer"][0]["params"][0]
    assert pick["value"] == [{"driver_name": "FELIX KOEGLER"}]
    history = specs[f"chart-driver-{FELIX}"]["data"]["values"]
    assert [(h["race_date"], h["laps"], h["finish_position"]) for h in history] == [("2025-11-16", 47, 1)]


def test_event_report_has_every_race(on_captured: str, tmp_path: Path) -> None:
    out = tmp_path / "event.html"
    assert main(["report", "--event", str(EVENT), "--out", str(out)]) == 0
    specs = _specs(out)
    assert sorted(specs) == sorted(f"chart-{race}-{name}" for race in (6304822, RACE) for name in RACE_CHARTS)
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "lxml")
    assert [s["id"] for s in soup.find_all("section", class_="race")] == ["race-6304822", f"race-{RACE}"]
    assert len(soup.find("table", class_="races").find("tbody").find_all("tr")) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--event", "999999"], "--event: liverc event 999999 is not in the warehouse"),
        (["--event", str(EVENT), "--race", "123"], "--race: race 123 is not part of event 486677"),
        (["--event", str(EVENT), "--driver", "nobody at all"], "--driver: no driver's name contains"),
        (["--event", str(EVENT), "--driver", "an"], "--driver: 'an' matches several drivers"),
    ],
)
def test_bad_arguments_name_the_argument(
    on_captured: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["report", *args, "--out", str(tmp_path / "x.html")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("mre-pipeline: error: ") and message in err, err
    assert "\n" not in err and "Problem" not in err
    assert not (tmp_path / "x.html").exists()
