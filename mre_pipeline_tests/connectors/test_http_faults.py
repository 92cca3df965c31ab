"""Slow, redirecting and maintenance answers over real HTTP on loopback (FakeLiveRCServer).

Outcomes are asserted; elapsed times are printed and recorded (``record_property``), never asserted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from mre_pipeline.connectors.errors import (
    MaintenancePageError,
    RedirectRefusedError,
    ResponseDeadlineError,
    RobotsDisallowedError,
    SourceHttpError,
)
from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.source import LiveRCSource
from mre_pipeline.fake_liverc import FakeLiveRCServer, Route
from mre_pipeline.fake_liverc.server import FakeSite

EVENTS_PAGE = (
    "<html><body><table id='events'><tbody></tbody></table>" + "<!-- padding -->" * 500 + "</body></html>"
)


def source_for(server: FakeLiveRCServer, **settings: object) -> LiveRCSource:
    config = LiveRCConfig(
        catalogue_url=server.catalogue_url,
        track_url_template=server.track_url_template,
        **{"min_interval_s": 0.0, "backoff_base_s": 0.0, **settings},  # type: ignore[arg-type]
    )
    return LiveRCSource(config)


@pytest.fixture
def site() -> FakeSite:
    pages = FakeSite()
    pages.put("demo", "/events/", EVENTS_PAGE)
    return pages


@pytest.fixture
def server(site: FakeSite) -> Iterator[FakeLiveRCServer]:
    with FakeLiveRCServer(site) as running:
        yield running


@pytest.fixture
def other_host() -> Iterator[FakeLiveRCServer]:
    """A second server: the host a redirect points at, which must never be contacted."""
    with FakeLiveRCServer(FakeSite()) as running:
        yield running


def test_trickled_page_fails_at_the_deadline_and_is_not_retried(server, site, record_property) -> None:
    deadline = 1.0
    site.fail("demo", "/events/", *[Route.trickle(pieces=20, delay_s=0.25)] * 4)  # 4.75 s per answer
    source = source_for(server, response_deadline_s=deadline, timeout_s=30.0, max_retries=3)
    started = time.monotonic()
    with pytest.raises(ResponseDeadlineError) as err:
        source.fetch_track_events("demo")
    elapsed = time.monotonic() - started
    record_property("deadline_s", deadline)
    record_property("elapsed_s", round(elapsed, 3))
    print(f"\ntrickled page: deadline {deadline} s, failed after {elapsed:.2f} s")
    url = f"{server.base_url}/t/demo/events/"
    assert str(err.value) == f"LiveRC sent the page too slowly: not complete after 1 s ({url})"
    assert len(server.requests_for("demo", "/events/")) == 1  # a trickle is not retried
    assert source.stats.retries == 0


def test_page_within_the_deadline_is_read_whole(server, site) -> None:
    site.fail("demo", "/events/", Route.trickle(pieces=5, delay_s=0.05))
    source = source_for(server, response_deadline_s=10.0, respect_robots=False)
    assert source.fetch_track_events("demo") == []
    assert source.stats.bytes_received == len(EVENTS_PAGE)


def test_off_host_redirect_never_reaches_the_other_host(server, site, other_host) -> None:
    target = f"{other_host.base_url}/t/demo/events/"
    site.fail("demo", "/events/", Route.redirect(target))
    with pytest.raises(RedirectRefusedError) as err:
        source_for(server).fetch_track_events("demo")
    assert other_host.requests == []
    host = f"127.0.0.1:{other_host.port}"
    message = str(err.value)
    assert message == (
        f"LiveRC redirected the page to another host, {host}, which is never contacted "
        f"({server.base_url}/t/demo/events/)"
    )
    assert message.count(host) == 1 and err.value.target == target


def test_same_host_redirect_is_followed_and_paced(server, site) -> None:
    site.put("demo", "/moved/", EVENTS_PAGE)
    site.fail("demo", "/events/", Route.redirect("/t/demo/moved/", status=301))
    interval = 0.15
    source = source_for(server, min_interval_s=interval)
    assert source.fetch_track_events("demo") == []
    assert [r.path for r in server.requests] == ["/robots.txt", "/events/", "/moved/"]
    stamps = [r.at for r in server.requests]
    assert all(later - earlier >= interval for earlier, later in zip(stamps, stamps[1:], strict=False))
    assert source.stats.requests == 3


def test_same_host_redirect_to_a_disallowed_path_is_refused(server, site) -> None:
    site.disallow("/t/demo/private/")
    site.put("demo", "/private/", EVENTS_PAGE)
    site.fail("demo", "/events/", Route.redirect("/t/demo/private/"))
    with pytest.raises(RobotsDisallowedError):
        source_for(server).fetch_track_events("demo")
    assert [r.path for r in server.requests] == ["/robots.txt", "/events/"]


def test_maintenance_page_with_status_200_is_named_as_such(server, site) -> None:
    site.fail("demo", "/events/", Route.maintenance())
    with pytest.raises(MaintenancePageError) as err:
        source_for(server).fetch_track_events("demo")
    assert str(err.value) == (
        f"LiveRC showed a maintenance page instead of the events page ({server.base_url}/t/demo/events/)"
    )


def test_maintenance_with_503_is_retried_then_reported(server, site) -> None:
    site.fail("demo", "/events/", Route.maintenance(503, retry_after="0"), Route.maintenance(503))
    source = source_for(server, max_retries=1, respect_robots=False)
    with pytest.raises(SourceHttpError) as err:
        source.fetch_track_events("demo")
    assert str(err.value) == (
        "LiveRC answered HTTP 503 Service Unavailable; gave up after 2 attempts "
        f"({server.base_url}/t/demo/events/)"
    )
