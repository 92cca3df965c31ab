"""Serve the real captured LiveRC pages (read at runtime from ../shared/liverc; never copied)."""

from __future__ import annotations

from pathlib import Path

from mre_pipeline.fake_liverc.server import CATALOGUE, FakeSite

CANBERRA = "canberraoffroad"
EVENT_ID = 486677
RACE_IDS = (6304829, 6304822)


def read(pages: Path, relative: str) -> str:
    return (pages / relative).read_text(encoding="utf-8")


def captured_site(pages: Path, event_page: str = "event-486677-two-races.html") -> FakeSite:
    """Catalogue, canberraoffroad's events, event 486677 (two-race copy by default), its two race pages.

    There is no entry list, and every other race page answers 404, as a faithful replay would.
    """
    site = FakeSite()
    site.put(CATALOGUE, "/", read(pages, "live.liverc.com/index.html"))
    site.put(CANBERRA, "/events/", read(pages, f"{CANBERRA}/events.html"))
    site.put(CANBERRA, "/", read(pages, f"{CANBERRA}/dashboard.html"))
    use_event_page(site, pages, event_page)
    for race_id in RACE_IDS:
        site.put(
            CANBERRA,
            f"/results/?p=view_race_result&id={race_id}",
            read(pages, f"{CANBERRA}/race-{race_id}.html"),
        )
    return site


def use_event_page(site: FakeSite, pages: Path, event_page: str) -> None:
    site.put(CANBERRA, f"/results/?p=view_event&id={EVENT_ID}", read(pages, f"{CANBERRA}/{event_page}"))
