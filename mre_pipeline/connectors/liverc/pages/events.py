"""A track's events listing, ``/events/``: ``table#events`` rows (all rows are in the HTML)."""

from __future__ import annotations

from mre_pipeline.connectors.liverc.pages.common import Missing, guarded, query_id, require, soup_of
from mre_pipeline.connectors.liverc.values import (
    clean,
    hidden_value,
    optional_int,
    parse_day_range,
    parse_sort_datetime,
    text_without_hidden,
)
from mre_pipeline.connectors.records import EventSummary

SOURCE = "liverc"


@guarded("events")
def parse_events(html: str | bytes, track_slug: str, *, url: str | None = None) -> list[EventSummary]:
    soup = soup_of(html)
    table = require(soup.select_one("table#events"), "table#events")
    events: dict[int, EventSummary] = {}
    for row in table.select("tbody > tr"):
        cells = row.find_all("td", recursive=False)
        if len(cells) == 1 and not cells[0].find("a"):
            continue  # DataTables' "No data available" row
        if len(cells) < 2:
            raise Missing(f"event row with {len(cells)} cells")
        link = require(cells[0].find("a", href=True), "event link")
        event_id = query_id(link["href"], "view_event")
        if event_id is None:
            raise Missing(f"event id in link {link['href']!r}")
        name = clean(link.get_text())
        visible = text_without_hidden(cells[1])
        start, end = parse_day_range(visible)
        start_time = None
        sort_key = hidden_value(cells[1])
        if sort_key:
            sort_day, start_time = parse_sort_datetime(sort_key)
            start = sort_day if sort_day <= end else start
        events.setdefault(
            event_id,
            EventSummary(
                source=SOURCE,
                track_slug=track_slug,
                event_id=event_id,
                name=name,
                start_date=start,
                end_date=end,
                start_time=start_time,
                entries=optional_int(cells[2].get_text()) if len(cells) > 2 else None,
                drivers=optional_int(cells[3].get_text()) if len(cells) > 3 else None,
            ),
        )
    return list(events.values())
