"""Parsers against the generated LiveRC-shaped site: exact expected records, raw and prettified, end to end."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from mre_pipeline.connectors.http import PoliteHttpClient
from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.pages.catalogue import parse_catalogue
from mre_pipeline.connectors.liverc.pages.entry_list import parse_entry_list
from mre_pipeline.connectors.liverc.pages.event import parse_event
from mre_pipeline.connectors.liverc.pages.events import parse_events
from mre_pipeline.connectors.liverc.pages.race import parse_race
from mre_pipeline.connectors.liverc.source import LiveRCSource, event_ref
from mre_pipeline.fake_liverc.generator import PRETTY, RAW, GeneratedSite, generate_race, generate_site
from mre_pipeline.fake_liverc.server import CATALOGUE, FakeLiveRCServer

SEEDS = (0, 7)


def parse_page(slug: str | None, path: str, html: str) -> Any:
    """Dispatch a generated page to its parser, with the ids carried from the path (as the source does)."""
    if slug is CATALOGUE:
        return parse_catalogue(html)
    if path == "/events/":
        return parse_events(html, slug)
    page, _, ident = path.partition("&id=")
    object_id = int(ident)
    if page.endswith("view_event"):
        return parse_event(html, slug, object_id)
    if page.endswith("view_race_result"):
        return parse_race(html, object_id)
    return parse_entry_list(html, object_id)


def page_kind(slug: str | None, path: str) -> str:
    if slug is CATALOGUE:
        return "catalogue"
    if path == "/events/":
        return "events"
    return re.search(r"p=(\w+)", path).group(1)


@pytest.fixture(scope="module", params=SEEDS)
def site(request) -> GeneratedSite:
    return generate_site(request.param)


@pytest.mark.parametrize("style", [RAW, PRETTY])
def test_every_page_parses_to_the_expected_records(site: GeneratedSite, style: str) -> None:
    kinds: dict[str, int] = {}
    for (slug, path), html in site.pages(style).items():
        expected = site.expected(slug, path)
        assert parse_page(slug, path, html) == expected, (style, slug, path)
        kind = page_kind(slug, path)
        kinds[kind] = kinds.get(kind, 0) + 1
    assert set(kinds) == {"catalogue", "events", "view_event", "view_race_result", "view_entry_list"}


def test_prettified_pages_parse_identically_to_raw() -> None:
    site = generate_site(2, tracks=2, events_per_track=2, big_first_event=False)
    raw, pretty = site.pages(RAW), site.pages(PRETTY)
    assert raw.keys() == pretty.keys()
    for key in raw:
        assert raw[key] != pretty[key]
        assert parse_page(*key, pretty[key]) == parse_page(*key, raw[key]), key


def test_prettified_pages_really_are_reformatted(site: GeneratedSite) -> None:
    race_keys = [k for k in site.page_keys() if "view_race_result" in k[1]]
    pretty = site.page(*race_keys[0], style=PRETTY)
    raw = site.page(*race_keys[0], style=RAW)
    assert "'driverName' : " in raw and re.search(r"racerLaps\[\d+\] = \{", raw)
    assert re.search(r"\n\t+\};", raw)  # LiveRC's ';' after each block
    assert "'driverName'" not in pretty and re.search(r'\bdriverName: "', pretty)
    assert "};" not in pretty and not re.search(r";\s*$", pretty, re.M)  # no semicolons
    assert re.search(r",\n\s*\}", pretty)  # trailing commas
    assert "\t" not in pretty.split("<body>", 1)[1].split("<script", 1)[0]
    events = site.page(next(t.key for t in site.tracks if t.events), "/events/", style=PRETTY)
    assert re.search(r'href="/results/\?[^"]*&amp;', events)  # attributes re-escaped by the formatter


def test_generated_pages_carry_liverc_quirks() -> None:
    site = generate_site(1)
    raw = "\n".join(site.pages(RAW).values())
    assert re.search(r"'[A-Z ]*O\\'[A-Z]+'", raw)  # apostrophes backslash-escaped in JS ...
    assert re.search(r'class="driver_name">[^<]*O\'[A-Z]', raw)  # ... raw in the HTML table
    assert re.search(r">[^<&]* & [^<]*<", raw)  # raw ampersand in data text
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]", raw)  # CJK
    assert re.search(r"[ÉÜÑØÖÅÇ]", raw)  # accented names
    assert re.search(r"<td>\d{1,3}(,\d{3})+</td>", raw)  # thousands separators
    assert "'lapNum' : '0'" in raw  # lap-0 grid rows
    assert re.search(r"'laps' : \[\s*\]", raw)  # non-starters
    assert re.search(r"<td>\d+ Laps?</td>", raw) and "<td>0.000</td>" in raw  # Behind forms
    assert re.search(r"<td>\d+\.\d{3}<sup>\d+</sup></td>", raw)  # fastest lap with its lap number
    assert re.search(r'<div class="hidden">\d+\.\d{3}</div>\d+:\d\d\.\d{3}', raw)  # hidden sort keys
    assert '<td><div class="hidden"></div></td>' in raw
    assert "to <br />" in raw  # multi-day events in the listing
    assert re.search(r"\(Heat \d/\d\)\)", raw) and "  (Heat" in raw  # nested parentheses, double space
    assert "view%5Frace%5Fresult" in raw and re.search(r"\?id=\d+&p=", raw)
    assert "race_id=" in raw  # a race not yet run (heat-sheet link only)
    races = list(site.races.values())
    assert any(not d.started for r in races for d in r.drivers)
    assert any(0 < d.laps_completed < r.drivers[0].laps_completed for r in races for d in r.drivers)
    assert any(e.entries == 0 for events in site.events.values() for e in events)
    assert any(e.end_date > e.start_date for events in site.events.values() for e in events)
    assert any(t.name != t.name.strip() or "  " in t.name for t in site.tracks)  # double space in a name
    names = [t.name for t in site.catalogue]
    assert len(names) > len(set(names))  # duplicate display names under different slugs


def test_lap_times_sum_exactly_to_the_published_total(site: GeneratedSite) -> None:
    for race in site.races.values():
        for driver in race.drivers:
            assert len(driver.laps) == driver.laps_completed
            if driver.started:
                assert round(sum(lap.lap_time_s for lap in driver.laps), 3) == driver.total_time_s
                assert driver.laps[driver.fastest_lap_number - 1].lap_time_s == driver.fastest_lap_s
            else:
                assert driver.total_time_s is None and driver.grid_position is None
        positions = [d.position for d in race.drivers]
        assert positions == list(range(1, len(positions) + 1))


def test_generation_is_deterministic() -> None:
    a, b = generate_site(5), generate_site(5)
    assert a.pages(RAW) == b.pages(RAW) and a.pages(PRETTY) == b.pages(PRETTY)
    assert a.races == b.races and a.catalogue == b.catalogue
    assert generate_site(6).pages(RAW) != a.pages(RAW)


def test_sizes_are_configurable() -> None:
    site = generate_site(3, tracks=5, events_per_track=4, extra_catalogue_tracks=2)
    assert len(site.catalogue) == 7
    assert sum(len(events) for events in site.events.values()) == 20
    assert len([t for t in site.tracks if t.events]) == 5


@pytest.mark.parametrize("style", [RAW, PRETTY])
def test_big_race_is_fast_to_generate_and_exact(style: str) -> None:
    started = time.perf_counter()
    html, expected = generate_race(11, drivers=30, laps=60, style=style)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"30 x 60 race took {elapsed:.2f} s to generate"
    assert len(expected.drivers) == 30
    assert expected.drivers[0].laps_completed == 60
    assert parse_race(html, expected.race_id) == expected


def test_generated_site_end_to_end_over_loopback() -> None:
    site = generate_site(4, tracks=2, events_per_track=2, extra_catalogue_tracks=1, big_first_event=False)
    with FakeLiveRCServer(site.fake_site()) as server:
        config = LiveRCConfig(
            catalogue_url=server.catalogue_url,
            track_url_template=server.track_url_template,
            min_interval_s=0.0,
            max_retries=0,
        )
        source = LiveRCSource(config, PoliteHttpClient(config))
        assert source.fetch_catalogue() == site.catalogue
        fetched_races = 0
        for track in site.catalogue:
            assert source.fetch_track_events(track.slug) == site.events[track.slug]
            for summary in site.events[track.slug]:
                detail = source.fetch_event(event_ref(track.slug, summary.event_id))
                assert detail == site.event_details[(track.slug, summary.event_id)]
                for race in detail.races:
                    assert (
                        source.fetch_race(event_ref(track.slug, summary.event_id), race)
                        == site.races[(track.slug, race.race_id)]
                    )
                    fetched_races += 1
                entries = source.fetch_entry_list(event_ref(track.slug, summary.event_id))
                assert entries == site.entry_lists[(track.slug, summary.event_id)]
    assert fetched_races == len(site.races) > 0
    assert source.stats.requests == len(server.requests)
    pages = [r for r in server.requests if not r.path.endswith("robots.txt")]
    assert all("mre-pipeline" in (r.user_agent or "") for r in pages)
