"""A track's events listing, ``/events/``: ``table#events`` rows (all rows are in the HTML)."""

from __future__ import annotations

from lxml.html import HtmlElement

from mre_pipeline.connectors.liverc.pages.common import (
    Implausible,
    Missing,
    child_cells,
    document,
    first,
    guarded,
    query_id,
    refuse_problems,
    require,
    xpath,
)
from mre_pipeline.connectors.liverc.values import (
    hidden_value,
    optional_int,
    parse_day_range,
    parse_sort_datetime,
    text_of,
    text_without_hidden,
)
from mre_pipeline.connectors.plausibility import event_summary_problems
from mre_pipeline.connectors.records import EventSummary

SOURCE = "liverc"
_TABLE = xpath("//table[@id='events']")
_ROWS = xpath("./tbody/tr")
_LINK = xpath(".//a[@href]")


def _event(row: HtmlElement, track_slug: str) -> EventSummary | None:
    """One listing row (None for DataTables' "No data available" filler)."""
    cells = child_cells(row)
    if len(cells) == 1 and not _LINK(cells[0]):
        return None
    if len(cells) < 2:
        raise Missing(f"event row with {len(cells)} cells")
    link = require(first(_LINK(cells[0])), "event link")
    event_id = query_id(link.get("href"), "view_event")
    if event_id is None:
        raise Missing(f"event id in link {link.get('href')!r}")
    name = text_of(link)
    if not name:
        raise Missing(f"name of event {event_id}")
    start, end = parse_day_range(text_without_hidden(cells[1]))
    start_time = None
    sort_key = hidden_value(cells[1])
    if sort_key:
        sort_day, start_time = parse_sort_datetime(sort_key)
        if sort_day != start:
            raise Implausible(
                f"event {event_id} is shown starting on {start} but sorted as starting on {sort_day}"
            )
    return EventSummary(
        source=SOURCE,
        track_slug=track_slug,
        event_id=event_id,
        name=name,
        start_date=start,
        end_date=end,
        start_time=start_time,
        entries=optional_int(cells[2].text_content()) if len(cells) > 2 else None,
        drivers=optional_int(cells[3].text_content()) if len(cells) > 3 else None,
    )


@guarded("events")
def parse_events(html: str | bytes, track_slug: str, *, url: str | None = None) -> list[EventSummary]:
    """Events in page order (start date descending); dates from the visible text, time from the sort key.

    A row repeated word for word is kept once; the same id with different content, a row that cannot be
    right (id 0, ending before it starts, more drivers than entries) or an event link outside the readable
    rows refuses the page.
    """
    root = document(html)
    table = require(first(_TABLE(root)), "table#events")
    events: dict[int, EventSummary] = {}
    rows = 0
    for row in _ROWS(table):
        event = _event(row, track_slug)
        if event is None:
            continue
        rows += 1
        kept = events.setdefault(event.event_id, event)
        if kept != event:
            raise Implausible(f"event {event.event_id} is listed twice with different details")
        refuse_problems(event_summary_problems(event))
    links = sum(query_id(a.get("href"), "view_event") is not None for a in _LINK(table))
    if links != rows:
        raise Missing(f"{links - rows} of its {links} event links are outside rows that can be read")
    return list(events.values())
