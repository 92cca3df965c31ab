"""Entry list, ``/results/?p=view_entry_list&id=<eventId>``: one table per class tab, names only."""

from __future__ import annotations

import re

from mre_pipeline.connectors.liverc.pages.common import (
    Missing,
    child_cells,
    document,
    first,
    guarded,
    has_class,
    heading,
    xpath,
)
from mre_pipeline.connectors.liverc.values import hidden_value, optional_int, text_of, text_without_hidden
from mre_pipeline.connectors.records import EntryList, EntryRecord

_TAB_ID = re.compile(r"_tab_(\w+)$")
_PANES = xpath(f"//div[{has_class('tab-pane')}]")
_CLASS_HEADER = xpath(f"./thead//*[{has_class('class_header')}]")
_ROWS = xpath("./tbody/tr")


@guarded("entry-list")
def parse_entry_list(html: str | bytes, event_id: int, *, url: str | None = None) -> EntryList:
    """Entries per class tab, in page order; the tab id's suffix is kept as the class reference."""
    root = document(html)
    entries: list[EntryRecord] = []
    panes = _PANES(root)
    for pane in panes:
        table = first(pane.xpath(".//table"))
        if table is None:
            continue
        class_name = text_of(first(_CLASS_HEADER(table)))
        if not class_name:
            raise Missing(f"class name of entry table {pane.get('id')!r}")
        ref = _TAB_ID.search(pane.get("id") or "")
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
    if not panes and heading(root, "h3") is None:
        raise Missing("entry list tabs (div.tab-pane) and page header")
    return EntryList(event_id=event_id, entries=tuple(entries))
