"""Load the two captured LiveRC races (6304829, 6304822) of event 486677 into a warehouse.

Records come from the project's own LiveRC parsers, exactly as ingestion would produce them.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from mre_pipeline.connectors.liverc.pages.event import parse_event
from mre_pipeline.connectors.liverc.pages.race import parse_race
from mre_pipeline.ingestion.validation import validate_event
from mre_pipeline.warehouse.event_results import write_event

SLUG = "canberraoffroad"
EVENT_ID = 486677
RACE_IDS = (6304829, 6304822)


def load_captured_event(engine: sa.Engine, pages: Path) -> str:
    """Write event 486677 with both races; returns which loader produced the records."""
    folder = pages / SLUG
    detail = parse_event((folder / "event-486677-two-races.html").read_text(), SLUG, EVENT_ID)
    races = [parse_race((folder / f"race-{rid}.html").read_text(), rid) for rid in RACE_IDS]
    validate_event(detail, races)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO mre.tracks (slug, name) VALUES (:s, 'Canberra Off Road Model Car Club')"),
            {"s": SLUG},
        )
    with engine.begin() as conn:
        write_event(conn, detail, races, None)
    return "project parsers"
