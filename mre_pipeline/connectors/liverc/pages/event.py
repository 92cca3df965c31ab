"""Event detail, ``/results/?p=view_event&id=<id>``: header, stats and the Race Results table."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from mre_pipeline.connectors.liverc.pages.common import (
    Missing,
    child_cells,
    document,
    first,
    guarded,
    has_class,
    heading,
    query_id,
    refuse_problems,
    stats_card,
    xpath,
)
from mre_pipeline.connectors.liverc.values import (
    clean,
    optional_int,
    parse_completed,
    parse_day_range,
    text_of,
)
from mre_pipeline.connectors.plausibility import event_detail_problems
from mre_pipeline.connectors.records import EventDetail, RaceSummary

SOURCE = "liverc"
# "Race 14: 1/8 Nitro Buggy (1/8 Nitro Buggy A-Main)"; heats nest parentheses, so match the outer pair.
_LABEL = re.compile(r"^Race\s+(\d+)\s*:\s*(.*?)\s*\((.*)\)\s*$", re.ASCII)
_LABEL_BARE = re.compile(r"^Race\s+(\d+)\s*:\s*(.*)$", re.ASCII)
_TABLES = xpath(f"//table[{has_class('entry_list_data')}]")
_TABLE_TITLE = xpath(f"./thead//span[{has_class('class_header')}]")
_ROWS = xpath("./tbody/tr")
_LINK = xpath(".//a[@href]")
_ALL_LINKS = xpath("//a[@href]")
_ENTRIES = re.compile(r"Entries:\s*([\d,]+)", re.ASCII)
_DRIVERS = re.compile(r"Drivers:\s*([\d,]+)", re.ASCII)


def parse_race_label(label: str) -> tuple[int, str, str]:
    """(race number, class, session label) from an event-page race link."""
    text = clean(label)
    match = _LABEL.match(text)
    if match:
        return int(match.group(1)), clean(match.group(2)), clean(match.group(3))
    bare = _LABEL_BARE.match(text)
    if bare:  # other tracks omit the parentheses: the whole rest is both class and session
        return int(bare.group(1)), clean(bare.group(2)), clean(bare.group(2))
    raise Missing(f"race label {text!r} is not 'Race <n>: <class> (<session>)'")


def _race_results_table(root: HtmlElement) -> HtmlElement | None:
    for table in _TABLES(root):
        if text_of(first(_TABLE_TITLE(table))).lower() == "race results":
            return table
    return None


def _races(table: HtmlElement) -> tuple[list[RaceSummary], int]:
    """The races with results, and how many rows list a race without results (not run yet)."""
    races: list[RaceSummary] = []
    pending = 0
    section = ""
    for row in _ROWS(table):
        headers = child_cells(row, "th")
        if headers:
            section = text_of(headers[0])
            continue
        cells = child_cells(row)
        link = first(_LINK(cells[0])) if cells else None
        race_id = query_id(link.get("href"), "view_race_result") if link is not None else None
        if race_id is None:
            if link is not None:
                pending += 1  # not yet run (heat-sheet link only): nothing to fetch yet
            continue
        number, class_name, session = parse_race_label(link.text_content())
        completed_text = text_of(cells[1]) if len(cells) > 1 else ""
        races.append(
            RaceSummary(
                race_id=race_id,
                section=section or "Races",
                race_number=number,
                class_name=class_name,
                session_label=session,
                completed_at=parse_completed(completed_text) if completed_text else None,
                completed_text=completed_text or None,
            )
        )
    return races, pending


@guarded("event")
def parse_event(html: str | bytes, track_slug: str, event_id: int, *, url: str | None = None) -> EventDetail:
    """Races in page order (sections newest first); an event with no results table has no races."""
    root = document(html)
    if not _TABLES(root):
        raise Missing("the event's tables (table.entry_list_data)")
    name = heading(root, "h3")
    if not name:
        raise Missing("event name (h3.page-header)")
    date_text = heading(root, "h5")
    start, end = parse_day_range(date_text) if date_text else (None, None)
    table = _race_results_table(root)
    races, pending = _races(table) if table is not None else ([], 0)
    links = _ALL_LINKS(root)
    race_links = sum(query_id(a.get("href"), "view_race_result") is not None for a in links)
    if race_links != len(races):
        raise Missing(
            f"{race_links - len(races)} of its {race_links} race result links are outside the Race Results rows"
        )
    entry_link = any(query_id(a.get("href"), "view_entry_list") for a in links)
    stats = stats_card(root)
    registrations = stats.get("registrations", "")
    entries = _ENTRIES.search(registrations)
    drivers = _DRIVERS.search(registrations)
    detail = EventDetail(
        source=SOURCE,
        track_slug=track_slug,
        event_id=event_id,
        name=name,
        track_name=heading(root, "h1"),
        start_date=start,
        end_date=end,
        races=tuple(races),
        has_entry_list_link=entry_link,
        entries=optional_int(entries.group(1)) if entries else None,
        drivers=optional_int(drivers.group(1)) if drivers else None,
        total_race_laps=optional_int(stats.get("total race laps")),
        race_track=stats.get("race track") or None,
        races_pending=pending,
    )
    refuse_problems(event_detail_problems(detail))
    return detail
