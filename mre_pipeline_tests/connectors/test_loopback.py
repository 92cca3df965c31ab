"""The connector against a real HTTP server on loopback (FakeLiveRCServer): pacing, faults, robots, ids."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from mre_pipeline.connectors.base import EventDiscovery, EventSource, TrackCatalogue
from mre_pipeline.connectors.errors import (
    ImplausibleRecordError,
    RobotsDisallowedError,
    ScrapingDisabledError,
    SourceHttpError,
)
from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.resource import LiveRCResource, SnapshotLiveRCResource
from mre_pipeline.connectors.liverc.source import LiveRCSource, event_ref
from mre_pipeline.fake_liverc import FakeLiveRCServer, Route
from mre_pipeline.fake_liverc.captured import CANBERRA, EVENT_ID, RACE_IDS, captured_site
from mre_pipeline.fake_liverc.server import FakeSite

RACE_PATH = "/results/?p=view_race_result&id={}"


def source_for(server: FakeLiveRCServer, **settings: object) -> LiveRCSource:
    config = LiveRCConfig(
        catalogue_url=server.catalogue_url,
        track_url_template=server.track_url_template,
        **{"min_interval_s": 0.0, "backoff_base_s": 0.0, **settings},  # type: ignore[arg-type]
    )
    return LiveRCSource(config)


@pytest.fixture
def small_site() -> FakeSite:
    site = FakeSite()
    site.put("demo", "/events/", "<html><table id='events'><tbody></tbody></table></html>")
    site.put("demo", "/private/", "secret")
    return site


@pytest.fixture
def server(small_site: FakeSite) -> Iterator[FakeLiveRCServer]:
    with FakeLiveRCServer(small_site) as running:
        yield running


def test_min_interval_holds_between_requests_to_one_host(server: FakeLiveRCServer) -> None:
    interval = 0.2
    source = source_for(server, min_interval_s=interval)
    for _ in range(3):
        assert source.fetch_track_events("demo") == []
    stamps = [r.at for r in server.requests]
    assert [r.path for r in server.requests] == ["/robots.txt"] + ["/events/"] * 3
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:], strict=False)]
    assert all(gap >= interval for gap in gaps), gaps
    assert source.stats.requests == 4 and source.stats.wait_seconds > 0


def test_user_agent_reaches_the_server(server: FakeLiveRCServer) -> None:
    source_for(server).fetch_track_events("demo")
    assert all("mre-pipeline" in (r.user_agent or "") for r in server.requests)


def test_retry_on_503_then_success(server: FakeLiveRCServer, small_site: FakeSite) -> None:
    small_site.fail("demo", "/events/", Route(503), Route(429, headers=(("Retry-After", "0"),)))
    source = source_for(server)
    assert source.fetch_track_events("demo") == []
    assert len(server.requests_for("demo", "/events/")) == 3
    assert source.stats.retries == 2


def test_404_is_typed_and_not_retried(server: FakeLiveRCServer) -> None:
    source = source_for(server)
    with pytest.raises(SourceHttpError) as err:
        source.fetch_race_page("demo", 42)
    assert err.value.status == 404 and err.value.url.endswith("/t/demo/results/?p=view_race_result&id=42")
    assert len(server.requests_for("demo", RACE_PATH.format(42))) == 1
    assert source.fetch_entry_list(event_ref("demo", 42)) is None  # no entry list: None, not an error


def test_timeouts_retried_then_raised(server: FakeLiveRCServer, small_site: FakeSite) -> None:
    small_site.fail("demo", "/events/", Route(200, "late", delay_s=0.6), Route(200, "late", delay_s=0.6))
    source = source_for(server, timeout_s=0.15, max_retries=1, respect_robots=False)
    with pytest.raises(SourceHttpError, match="did not answer within 0.15 s; gave up after 2 attempts"):
        source.fetch_track_events("demo")
    assert source.stats.requests == 2 and source.stats.retries == 1


def test_robots_disallow_stops_the_request(server: FakeLiveRCServer, small_site: FakeSite) -> None:
    small_site.disallow("/t/demo/events/")
    with pytest.raises(RobotsDisallowedError):
        source_for(server).fetch_track_events("demo")
    assert [r.path for r in server.requests] == ["/robots.txt"]
    source_for(server, respect_robots=False).fetch_track_events("demo")  # robots off: fetched


def test_kill_switch_makes_no_request(server: FakeLiveRCServer) -> None:
    source = source_for(server, scrape_enabled=False)
    for call in (source.fetch_catalogue, lambda: source.fetch_track_events("demo")):
        with pytest.raises(ScrapingDisabledError):
            call()
    assert server.requests == []


def test_routes_by_host_header_or_path(server: FakeLiveRCServer) -> None:
    by_host = requests.get(f"{server.base_url}/events/", headers={"Host": "Demo.liverc.com"}, timeout=5)
    by_path = requests.get(f"{server.base_url}/t/demo/events/", timeout=5)
    assert by_host.status_code == by_path.status_code == 200 and by_host.text == by_path.text
    catalogue = requests.get(f"{server.base_url}/", headers={"Host": "live.liverc.com"}, timeout=5)
    assert catalogue.status_code == 404  # this small site has no catalogue page
    assert [r.slug for r in server.requests] == ["demo", "demo", None]


def test_resource_points_at_the_server(server: FakeLiveRCServer) -> None:
    resource = LiveRCResource(
        catalogue_url=server.catalogue_url,
        track_url_template=server.track_url_template,
        min_interval_s=0.0,
        respect_robots=False,
        max_response_bytes=5000,
    )
    source = resource.get_source()
    assert all(isinstance(source, c) for c in (EventSource, TrackCatalogue, EventDiscovery))
    assert source.fetch_track_events("demo") == []
    with pytest.raises(SourceHttpError):  # the 57-byte events page is over a 20-byte cap
        LiveRCResource(
            catalogue_url=server.catalogue_url,
            track_url_template=server.track_url_template,
            min_interval_s=0.0,
            respect_robots=False,
            max_response_bytes=20,
        ).get_source().fetch_track_events("demo")


@pytest.mark.liverc_pages
def test_captured_site_over_loopback(captured_dir: Path) -> None:
    with FakeLiveRCServer(captured_site(captured_dir)) as server:
        source = source_for(server)
        assert len(source.fetch_catalogue()) == 1090
        assert len(source.fetch_track_events("CanberraOffRoad")) == 100
        event = source.fetch_event(event_ref(CANBERRA, EVENT_ID))
        assert [r.race_id for r in event.races] == list(RACE_IDS)
        ref = event_ref(CANBERRA, EVENT_ID)
        laps = [sum(len(d.laps) for d in source.fetch_race(ref, r).drivers) for r in event.races]
        assert laps == [444, 96]
        assert source.fetch_entry_list(event_ref(CANBERRA, EVENT_ID)) is None  # 404 in the replay
        with pytest.raises(SourceHttpError) as err:
            source.fetch_race_page(CANBERRA, 6295537)  # listed on the full event page, not captured
        assert err.value.status == 404
        assert source.stats.requests == len(server.requests) == 8  # one robots.txt: one loopback host


@pytest.mark.liverc_pages
def test_snapshot_resource_serves_files_without_http(captured_dir: Path) -> None:
    base = "https://canberraoffroad.liverc.com"
    resource = SnapshotLiveRCResource(
        directory=str(captured_dir),
        pages={
            "https://live.liverc.com/": "live.liverc.com/index.html",
            f"{base}/events/": "canberraoffroad/events.html",
            f"{base}/results/?id=486677&p=view_event": "canberraoffroad/event-486677.html",
            f"{base}/results/?p=view_race_result&id=6304822": "canberraoffroad/race-6304822.html",
        },
    )
    source = resource.get_source()
    assert len(source.fetch_catalogue()) == 1090
    assert len(source.fetch_event(event_ref("canberraoffroad", 486677)).races) == 32
    assert len(source.fetch_race_page("canberraoffroad", 6304822).drivers) == 10
    assert source.fetch_entry_list(event_ref("canberraoffroad", 486677)) is None
    with pytest.raises(SourceHttpError):
        source.fetch_race_page("canberraoffroad", 6304829)
    assert source.stats.requests == 5


def test_min_interval_holds_across_threads(server: FakeLiveRCServer) -> None:
    interval = 0.1
    source = source_for(server, min_interval_s=interval, respect_robots=False)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: source.fetch_track_events("demo"), range(6)))
    assert results == [[]] * 6
    stamps = sorted(r.at for r in server.requests)
    assert len(stamps) == 6
    assert all(later - earlier >= interval for earlier, later in zip(stamps, stamps[1:], strict=False))


def test_server_accepts_a_plain_mapping() -> None:
    pages = {"/": "<p>catalogue</p>", "/t/demo/events/": "<p>events</p>", ("demo", "/results/?id=5&p=x"): "r"}
    with FakeLiveRCServer(pages) as running:
        assert requests.get(running.catalogue_url, timeout=5).text == "<p>catalogue</p>"
        assert requests.get(f"{running.base_url}/t/Demo/events/", timeout=5).text == "<p>events</p>"
        assert requests.get(f"{running.base_url}/t/demo/results/?p=x&id=5", timeout=5).text == "r"
        assert requests.get(f"{running.base_url}/t/demo/nothing/", timeout=5).status_code == 404


@pytest.mark.liverc_pages
@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"race_number": 9}, "it says race 14 where the event page says race 9"),
        (
            {"section": "Qualifier Round 1"},
            "it says round 'Main Events' where the event page says 'Qualifier Round 1'",
        ),
    ],
)
def test_a_race_page_must_be_the_race_the_event_page_listed(
    captured_dir: Path, change: dict[str, object], problem: str
) -> None:
    """LiveRC prints a race's number and round on both pages: a race page that disagrees is another race."""
    with FakeLiveRCServer(captured_site(captured_dir)) as server:
        source = source_for(server)
        ref = event_ref(CANBERRA, EVENT_ID)
        listed = source.fetch_event(ref).races[0]
        with pytest.raises(ImplausibleRecordError) as err:
            source.fetch_race(ref, replace(listed, **change))
    assert err.value.race_id == listed.race_id
    assert (
        str(err.value)
        == f"the race page shows something that cannot be right: {problem} ({server.track_url_template.format(slug=CANBERRA)}/results/?p=view_race_result&id={listed.race_id})"
    )
