"""Event detail, ``/results/?p=view_event&id=<id>``: header, stats and the Race Results table."""

from __future__ import annotations

import re

from bs4 import Tag

from mre_pipeline.connectors.liverc.pages.common import Missing, guarded, heading, query_id, soup_of
from mre_pipeline.connectors.liverc.values import clean, optional_int, parse_completed, parse_day_range
from mre_pipeline.connectors.records import EventDetail, RaceSummary

SOURCE = "liverc"
# "Race 14: 1/8 Nitro Buggy (1/8 Nitro Buggy A-Main)"; heats nest parentheses, so match the outer pair.
_LABEL = re.compile(r"^Race\s+(\d+)\s*:\s*(.*?)\s*\((.*)\)\s*$")
_LABEL_BARE = re.compile(r"^Race\s+(\d+)\s*:\s*(.*)$")


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


def _race_results_table(soup) -> Tag | None:
    for table in soup.select("table.entry_list_data"):
        header = table.select_one("thead span.class_header")
        if header is not None and clean(header.get_text()).lower() == "race results":
            return table
    return None


def _stats(soup) -> dict[str, str]:
    stats: dict[str, str] = {}
    for row in soup.select("div.col-lg-4 table tr"):
        th, td = row.find("th"), row.find("td")
        if th is not None and td is not None:
            stats[clean(th.get_text()).lower()] = td.get_text(" ")
    return stats


@guarded("event")
def parse_event(html: str | bytes, track_slug: str, event_id: int, *, url: str | None = None) -> EventDetail:
    soup = soup_of(html)
    name = heading(soup, "h3")
    if not name:
        raise Missing("event name (h3.page-header)")
    date_text = heading(soup, "h5")
    start, end = parse_day_range(date_text) if date_text else (None, None)
    races: list[RaceSummary] = []
    table = _race_results_table(soup)
    if table is not None:
        section = ""
        for row in table.select("tbody > tr"):
            ths = row.find_all("th", recursive=False)
            if ths:
                section = clean(ths[0].get_text())
                continue
            cells = row.find_all("td", recursive=False)
            link = cells[0].find("a", href=True) if cells else None
            race_id = query_id(link["href"], "view_race_result") if link is not None else None
            if race_id is None:
                continue  # not yet run (heat-sheet link only): nothing to fetch
            number, class_name, session = parse_race_label(link.get_text())
            completed_text = clean(cells[1].get_text()) if len(cells) > 1 else ""
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
    entry_link = any(query_id(a["href"], "view_entry_list") for a in soup.find_all("a", href=True))
    stats = _stats(soup)
    registrations = clean(stats.get("registrations", ""))
    entries = re.search(r"Entries:\s*([\d,]+)", registrations)
    drivers = re.search(r"Drivers:\s*([\d,]+)", registrations)
    return EventDetail(
        source=SOURCE,
        track_slug=track_slug,
        event_id=event_id,
        name=name,
        track_name=heading(soup, "h1"),
        start_date=start,
        end_date=end,
        races=tuple(races),
        has_entry_list_link=entry_link,
        entries=optional_int(entries.group(1)) if entries else None,
        drivers=optional_int(drivers.group(1)) if drivers else None,
        total_race_laps=optional_int(stats.get("total race laps")),
        race_track=clean(stats.get("race track")) or None,
    )
