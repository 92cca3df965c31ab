"""Entry list, ``/results/?p=view_entry_list&id=<eventId>``: one table per class tab, names only."""

from __future__ import annotations

import re

from mre_pipeline.connectors.liverc.pages.common import Missing, guarded, soup_of
from mre_pipeline.connectors.liverc.values import clean, hidden_value, optional_int, text_without_hidden
from mre_pipeline.connectors.records import EntryList, EntryRecord

_TAB_ID = re.compile(r"_tab_(\w+)$")


@guarded("entry-list")
def parse_entry_list(html: str | bytes, event_id: int, *, url: str | None = None) -> EntryList:
    soup = soup_of(html)
    entries: list[EntryRecord] = []
    panes = soup.select("div.tab-pane")
    for pane in panes:
        table = pane.find("table")
        if table is None:
            continue
        header = table.select_one("thead .class_header")
        class_name = clean(header.get_text()) if header is not None else ""
        if not class_name:
            raise Missing(f"class name of entry table {pane.get('id')!r}")
        ref = _TAB_ID.search(pane.get("id") or "")
        for row in table.select("tbody > tr"):
            cells = row.find_all("td", recursive=False)
            if len(cells) < 2:
                continue  # "no entries" filler row
            name = text_without_hidden(cells[1])
            if not name:
                raise Missing(f"driver name in class {class_name!r}")
            entries.append(
                EntryRecord(
                    class_name=class_name,
                    driver_name=name,
                    row_number=optional_int(cells[0].get_text()),
                    sort_name=hidden_value(cells[1]),
                    transponder=clean(cells[2].get_text()) or None if len(cells) > 2 else None,
                    class_ref=ref.group(1) if ref else None,
                )
            )
    if not panes and soup.select_one("h3.page-header") is None:
        raise Missing("entry list tabs (div.tab-pane) and page header")
    return EntryList(event_id=event_id, entries=tuple(entries))
