"""Load the two captured LiveRC races (6304829, 6304822) of event 486677 into a warehouse.

Records come from the project's parsers (``mre_pipeline.connectors.replay.parse_file``) when they exist.
Until the connector lands, a minimal stand-in reads ``racerLaps`` from the race pages (results only as
far as the summaries need them); ``LOADER`` says which one ran.
"""

from __future__ import annotations

import importlib
import inspect
import re
from datetime import date, datetime
from pathlib import Path

import json5
import sqlalchemy as sa

from mre_pipeline.connectors.records import DriverResult, EventDetail, LapRecord, RaceResult, RaceSummary
from mre_pipeline.warehouse.event_results import write_event

SLUG = "canberraoffroad"
EVENT_ID = 486677
RACE_IDS = (6304829, 6304822)


def _project_parse_file():
    try:
        return importlib.import_module("mre_pipeline.connectors.replay").parse_file
    except (ImportError, AttributeError):
        return None


def _call(parse_file, page_type: str, path: Path, **known: object):
    accepted = inspect.signature(parse_file).parameters
    return parse_file(page_type, path, **{k: v for k, v in known.items() if k in accepted})


def _stand_in_race(path: Path, race_id: int) -> RaceResult:
    html = path.read_text()
    drivers = []
    for position, match in enumerate(re.finditer(r"racerLaps\[\s*(\d+)\s*\]\s*=\s*\{", html), start=1):
        start, depth = match.end() - 1, 0
        for end in range(start, len(html)):  # no braces inside the strings of these pages
            depth += {"{": 1, "}": -1}.get(html[end], 0)
            if depth == 0:
                break
        block = json5.loads(html[start : end + 1])
        laps = [lap for lap in block["laps"] if lap["lapNum"] != "0"]
        grid = [int(lap["pos"]) for lap in block["laps"] if lap["lapNum"] == "0"]
        times = [float(lap["time"]) for lap in laps]
        drivers.append(
            DriverResult(
                driver_id=int(match.group(1)),
                driver_name=block["driverName"],
                position=position,  # blocks appear in finishing order
                laps_completed=len(laps),
                total_time_s=round(sum(times), 3) if times else None,
                grid_position=grid[0] if grid else None,
                fastest_lap_s=float(block["fastLap"]) if block["fastLap"] else None,
                laps=tuple(
                    LapRecord(int(lap["lapNum"]), float(lap["time"]), int(lap["pos"])) for lap in laps
                ),
            )
        )
    return RaceResult(race_id, None, None, None, None, tuple(drivers))


STAND_IN_DETAIL = EventDetail(
    source="liverc",
    track_slug=SLUG,
    event_id=EVENT_ID,
    name="Cormcc 2025 Rudi Wensing Memorial, Clay Cup",
    track_name="Canberra Off Road Model Car Club",
    start_date=date(2025, 11, 15),
    end_date=date(2025, 11, 16),
    races=(
        RaceSummary(
            6304829,
            "Main Events",
            14,
            "1/8 Nitro Buggy",
            "1/8 Nitro Buggy A-Main",
            datetime(2025, 11, 16, 17, 30),
        ),
        RaceSummary(
            6304822, "Main Events", 7, "1/10 Electric", "1/10 Electric A3-Main", datetime(2025, 11, 16, 15, 0)
        ),
    ),
)


def load_captured_event(engine: sa.Engine, pages: Path) -> str:
    """Write event 486677 with both races; returns which loader produced the records."""
    folder = pages / SLUG
    parse_file = _project_parse_file()
    if parse_file is not None:
        detail = _call(
            parse_file,
            "event",
            folder / "event-486677-two-races.html",
            track_slug=SLUG,
            slug=SLUG,
            event_id=EVENT_ID,
        )
        races = [
            _call(parse_file, "race", folder / f"race-{rid}.html", race_id=rid, track_slug=SLUG, slug=SLUG)
            for rid in RACE_IDS
        ]
        loader = "project parsers"
    else:
        detail = STAND_IN_DETAIL
        races = [_stand_in_race(folder / f"race-{rid}.html", rid) for rid in RACE_IDS]
        loader = "stand-in loader (mre_pipeline.connectors.replay not available yet)"
    assert {r.race_id for r in detail.races} >= set(RACE_IDS)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO mre.tracks (slug, name) VALUES (:s, 'Canberra Off Road Model Car Club')"),
            {"s": SLUG},
        )
    with engine.begin() as conn:
        write_event(conn, detail, races, None)
    return loader
