"""Entry list, ``/results/?p=view_entry_list&id=<eventId>``: one table per class tab, names only."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from mre_pipeline.connectors.liverc.pages.common import (
    Implausible,
    Missing,
    child_cells,
    document,
    first,
    guarded,
    has_class,
    heading,
    stats_card,
    xpath,
)
from mre_pipeline.connectors.liverc.values import hidden_value, optional_int, text_of, text_without_hidden
from mre_pipeline.connectors.records import EntryList, EntryRecord

_TAB_ID = re.compile(r"_tab_(\w+)$")
_PANES = xpath(f"//div[{has_class('tab-pane')}]")
_CLASS_HEADER = xpath(f"./thead//*[{has_class('class_header')}]")
_SUB_HEADER = xpath(f"./thead//*[{has_class('class_sub_header')}]")
_ROWS = xpath("./tbody/tr")
_ENTRIES = re.compile(r"Entries:\s*([\d,]+)", re.ASCII)
_DRIVERS = re.compile(r"Drivers:\s*([\d,]+)", re.ASCII)


def _pane_entries(pane: HtmlElement) -> list[EntryRecord]:
    """The entries of one class tab; its "Entries: N" sub-header must count them."""
    table = first(pane.xpath(".//table"))
    if table is None:
        return []
    class_name = text_of(first(_CLASS_HEADER(table)))
    if not class_name:
        raise Missing(f"class name of entry table {pane.get('id')!r}")
    ref = _TAB_ID.search(pane.get("id") or "")
    entries: list[EntryRecord] = []
    for row in _ROWS(table):
        cells = child_cells(row)
        if len(cells) < 2:
            continue  # "no entries" filler row
        name = text_without_hidden(cells[1])
        if not name:
            raise Missing(f"driver name in class {class_name!r}")
        entries.append(
            EntryRecord(
                class_name=class_name,
                driver_name=name,
                row_number=optional_int(cells[0].text_content()),
                sort_name=hidden_value(cells[1]),
                transponder=text_of(cells[2]) or None if len(cells) > 2 else None,
                class_ref=ref.group(1) if ref else None,
            )
        )
    declared = _ENTRIES.search(" ".join(text_of(n) for n in _SUB_HEADER(table)))
    if declared and optional_int(declared.group(1)) != len(entries):
        raise Implausible(f"class {class_name!r} says {declared.group(1)} entries but lists {len(entries)}")
    return entries


def _totals(root: HtmlElement) -> tuple[int | None, int | None]:
    """Entries and drivers from the stats card ("Registrations: Entries: N Drivers: M", or one row each)."""
    stats = stats_card(root)
    registrations = stats.get("registrations", "")
    entries, drivers = _ENTRIES.search(registrations), _DRIVERS.search(registrations)
    return (
        optional_int(entries.group(1)) if entries else optional_int(stats.get("entries")),
        optional_int(drivers.group(1)) if drivers else optional_int(stats.get("drivers")),
    )


@guarded("entry-list")
def parse_entry_list(html: str | bytes, event_id: int, *, url: str | None = None) -> EntryList:
    """Entries per class tab, in page order; the tab id's suffix is kept as the class reference.

    The page counts its entries three times (per class, in total, and distinct drivers); a list that
    disagrees with its own counts has lost or gained rows and is refused.
    """
    root = document(html)
    panes = _PANES(root)
    entries = [entry for pane in panes for entry in _pane_entries(pane)]
    if not panes and heading(root, "h3") is None:
        raise Missing("entry list tabs (div.tab-pane) and page header")
    total, drivers = _totals(root)
    if total is not None and total != len(entries):
        raise Implausible(f"the event stats say {total} entries but the classes list {len(entries)}")
    distinct = len({e.driver_name for e in entries})
    if drivers is not None and drivers != distinct:
        raise Implausible(f"the event stats say {drivers} drivers but the classes list {distinct}")
    return EntryList(event_id=event_id, entries=tuple(entries))
