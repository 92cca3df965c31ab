"""Track catalogue, ``https://live.liverc.com/``: every track row of ``table.track_list``."""

from __future__ import annotations

import re

from mre_pipeline.connectors.liverc.pages.common import (
    Missing,
    child_cells,
    document,
    first,
    guarded,
    has_class,
    require,
    xpath,
)
from mre_pipeline.connectors.liverc.values import clean, text_of
from mre_pipeline.connectors.records import TrackRecord

# The slug is the first label of the host; slugs are validated like every other slug (lower-cased).
_SLUG = re.compile(r"^(?:https?:)?//([a-z0-9][a-z0-9-]{0,62})\.liverc\.com(?::\d+)?(?:/|$)", re.I | re.ASCII)
SOURCE = "liverc"
_TABLE = xpath(f"//table[{has_class('track_list')}]")
_ROWS = xpath("./tbody/tr")
_LINK = xpath(".//a[@href]")
_INDENT = xpath(f".//div[{has_class('indent')}]")
_WHEN = xpath(".//small/small | .//small")


def _activity(icons: set[str]) -> str:
    if "status_2" in icons:
        return "racing"
    if "status_1" in icons:
        return "practice"
    return "idle"


@guarded("catalogue")
def parse_catalogue(html: str | bytes, *, url: str | None = None) -> list[TrackRecord]:
    """All tracks in page order (activity group, then recency); duplicate slugs keep their first row."""
    root = document(html)
    table = require(first(_TABLE(root)), "table.track_list")
    tracks: dict[str, TrackRecord] = {}
    rows = 0
    for row in _ROWS(table):
        rows += 1
        cells = child_cells(row)
        if len(cells) < 2:
            raise Missing(f"catalogue row with {len(cells)} cells")
        status, name_cell = cells[0], cells[1]
        link = require(first(_LINK(name_cell)), "track link in catalogue row")
        href = link.get("href", "").strip()
        match = _SLUG.match(href)
        if not match:
            raise Missing(f"track slug in link {href!r}")
        slug = match.group(1).lower()
        strong = first(link.xpath(".//strong"))
        name = text_of(strong if strong is not None else link)
        if not name:
            raise Missing(f"name of track {slug}")
        icons = {c for i in status.iter("i") for c in (i.get("class") or "").split()}
        indent = first(_INDENT(name_cell))
        smalls = _WHEN(status)
        tracks.setdefault(
            slug,
            TrackRecord(
                source=SOURCE,
                slug=slug,
                name=name,
                activity=_activity(icons),
                has_live_video="status_video_1" in icons,
                featured="status_featured" in icons,
                current_event_name=text_of(indent) or None,
                last_activity_text=clean(smalls[-1].text_content()) or None if smalls else None,
            ),
        )
    if not tracks:
        raise Missing("track rows (the catalogue table is empty)")
    links = sum(_SLUG.match((a.get("href") or "").strip()) is not None for a in _LINK(table))
    if links != rows:
        raise Missing(f"{links - rows} of its {links} track links are outside rows that can be read")
    return list(tracks.values())
