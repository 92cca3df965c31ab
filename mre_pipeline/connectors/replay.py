"""Parse a saved page with the LiveRC parsers and return JSON-ready data (``mre-pipeline parse``).

A replay and debugging tool: no network, no database. Pages do not contain their own ids, so the id
comes from ``object_id``, else from a file name like ``race-6304829.html``.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from mre_pipeline.connectors.errors import ConnectorError
from mre_pipeline.connectors.liverc.pages.catalogue import parse_catalogue
from mre_pipeline.connectors.liverc.pages.entry_list import parse_entry_list
from mre_pipeline.connectors.liverc.pages.event import parse_event
from mre_pipeline.connectors.liverc.pages.events import parse_events
from mre_pipeline.connectors.liverc.pages.race import parse_race

PAGE_TYPES = ("catalogue", "events", "event", "race", "entry-list")
# "race-6304829", "event-486677-two-races", "entry-list-12345": the first dash-delimited run of digits.
_ID_IN_NAME = re.compile(r"(?:^|[-_])(\d{3,18})(?=$|[-_.])", re.ASCII)


def to_jsonable(value: Any) -> Any:
    """Records as plain JSON data: dataclasses to objects, tuples to lists, dates and times to ISO text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return data
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    return value


def parse_file(
    page_type: str, path: str | Path, *, track_slug: str | None = None, object_id: int | None = None
) -> Any:
    """Parse a saved page of ``page_type`` (one of PAGE_TYPES) into JSON-ready data.

    Ids come from ``object_id``, else the file name (``race-6304829.html``), else 0; the track slug from
    ``track_slug``, else the folder name. A race is one object per driver, each with its laps. Raises only
    ConnectorError (unknown page type, unreadable file, malformed page).
    """
    if page_type not in PAGE_TYPES:
        raise ConnectorError(f"unknown page type {page_type!r}; expected one of {', '.join(PAGE_TYPES)}")
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConnectorError(f"cannot read {file}: {exc.strerror or exc}") from exc
    if object_id is None:
        match = _ID_IN_NAME.search(file.stem)
        object_id = int(match.group(1)) if match else 0
    slug = track_slug or file.parent.name.lower()
    url = file.resolve().as_uri()
    if page_type == "catalogue":
        return to_jsonable(parse_catalogue(text, url=url))
    if page_type == "events":
        return to_jsonable(parse_events(text, slug, url=url))
    if page_type == "event":
        return to_jsonable(parse_event(text, slug, object_id, url=url))
    if page_type == "entry-list":
        return to_jsonable(parse_entry_list(text, object_id, url=url))
    race = parse_race(text, object_id, url=url)
    data = to_jsonable(race)
    for driver, record in zip(data["drivers"], race.drivers, strict=True):
        driver["started"] = record.started
    return data
