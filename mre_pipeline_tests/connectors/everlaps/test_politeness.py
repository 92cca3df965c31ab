"""Politeness over a real loopback server: interval, User-Agent, kill switch, Retry-After, backoff, robots."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from mre_pipeline.connectors.errors import RobotsDisallowedError, ScrapingDisabledError, SourceHttpError
from mre_pipeline.connectors.everlaps.config import EverlapsConfig
from mre_pipeline.connectors.everlaps.source import EverlapsSource
from mre_pipeline.fake_everlaps import FakeEverlapsServer
from mre_pipeline.fake_everlaps.generator import GeneratedEvent, generate_event
from mre_pipeline.fake_everlaps.server import status_fault
from mre_pipeline_tests.connectors.everlaps.conftest import assert_plain_sentence, source_for


@pytest.fixture(scope="module")
def event() -> GeneratedEvent:
    return generate_event(
        21, classes=1, drivers_per_class=6, qualifying_rounds=1, consolation_series=0, semi_series=0
    )


@pytest.fixture
def server(event: GeneratedEvent) -> Iterator[FakeEverlapsServer]:
    with FakeEverlapsServer(event.site()) as running:
        yield running


def tree_path(event: GeneratedEvent) -> str:
    return f"/api/res/{event.event_id}"


def test_min_interval_holds_between_requests(server: FakeEverlapsServer, event: GeneratedEvent) -> None:
    interval = 0.15
    source = source_for(server, min_interval_s=interval)
    detail = source.fetch_event(event.ref)
    for race in detail.races:
        source.fetch_race(event.ref, race)
    stamps = [r.at for r in server.requests]
    assert len(stamps) == 1 + 2 + len(detail.races)
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:], strict=False)]
    assert all(gap >= interval for gap in gaps), gaps
    assert source.stats.wait_seconds > 0


def test_min_interval_holds_across_threads(server: FakeEverlapsServer, event: GeneratedEvent) -> None:
    interval = 0.1
    source = source_for(server, min_interval_s=interval)
    detail = source.fetch_event(event.ref)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda race: source.fetch_race(event.ref, race), detail.races))
    assert results == [event.results[r.race_id] for r in detail.races]
    stamps = sorted(r.at for r in server.requests)
    assert all(later - earlier >= interval for earlier, later in zip(stamps, stamps[1:], strict=False))


def test_user_agent_is_honest_and_configurable(
    server: FakeEverlapsServer, event: GeneratedEvent, monkeypatch
) -> None:
    source_for(server).fetch_event(event.ref)
    default_agents = {r.user_agent for r in server.requests}
    assert len(default_agents) == 1
    (agent,) = default_agents
    assert agent and agent.startswith("mre-pipeline/") and "contact:" in agent and "rate-limited" in agent
    monkeypatch.setenv("MRE_EVERLAPS_URL", server.base_url)
    monkeypatch.setenv("MRE_EVERLAPS_MIN_INTERVAL_S", "0")
    monkeypatch.setenv("MRE_EVERLAPS_CONTACT", "ops@example.org")
    EverlapsSource().fetch_event(event.ref)
    assert "contact: ops@example.org" in (server.requests[-1].user_agent or "")


@pytest.mark.parametrize("from_env", [False, True])
def test_kill_switch_makes_no_request(
    server: FakeEverlapsServer, event: GeneratedEvent, monkeypatch, from_env
) -> None:
    if from_env:
        monkeypatch.setenv("MRE_EVERLAPS_URL", server.base_url)
        monkeypatch.setenv("MRE_SCRAPE_ENABLED", "0")
        source = EverlapsSource()
    else:
        source = source_for(server, scrape_enabled=False)
    with pytest.raises(ScrapingDisabledError) as err:
        source.fetch_event(event.ref)
    assert server.requests == [] and source.stats.requests == 0
    assert "MRE_SCRAPE_ENABLED" in str(err.value)
    assert_plain_sentence(str(err.value))


def test_retry_after_is_honoured(server: FakeEverlapsServer, event: GeneratedEvent) -> None:
    server.site.fail(tree_path(event), status_fault(429, retry_after="1"))
    source = source_for(server, backoff_base_s=0.01)
    assert source.fetch_event(event.ref) == event.detail
    posts = server.requests_for(tree_path(event), "POST")
    assert len(posts) == 2
    assert posts[1].at - posts[0].at >= 1.0  # waited the server's Retry-After, not the 10 ms backoff
    assert source.stats.retries == 1 and source.stats.wait_seconds >= 1.0


def test_5xx_backs_off_then_succeeds(server: FakeEverlapsServer, event: GeneratedEvent) -> None:
    server.site.fail(tree_path(event), status_fault(503), status_fault(502))
    source = source_for(server, backoff_base_s=0.05)
    assert source.fetch_event(event.ref) == event.detail
    posts = server.requests_for(tree_path(event), "POST")
    assert len(posts) == 3
    assert posts[1].at - posts[0].at >= 0.025 and posts[2].at - posts[1].at >= 0.05  # doubling, with jitter
    assert source.stats.retries == 2


def test_gives_up_after_max_retries(server: FakeEverlapsServer, event: GeneratedEvent) -> None:
    server.site.fail(tree_path(event), *[status_fault(500)] * 5)
    source = source_for(server, max_retries=2)
    with pytest.raises(SourceHttpError) as err:
        source.fetch_event(event.ref)
    assert err.value.status == 500 and "gave up after 3 attempts" in str(err.value)
    assert len(server.requests_for(tree_path(event), "POST")) == 3
    assert_plain_sentence(str(err.value), err.value.url)


def test_robots_disallow_stops_every_call(server: FakeEverlapsServer, event: GeneratedEvent) -> None:
    server.site.disallow("/api/")
    source = source_for(server)
    with pytest.raises(RobotsDisallowedError):
        source.fetch_event(event.ref)
    assert [r.endpoint for r in server.requests] == ["/robots.txt"]


def test_robots_can_be_ignored_by_configuration(server: FakeEverlapsServer, event: GeneratedEvent) -> None:
    server.site.disallow("/api/")
    assert source_for(server, respect_robots=False).fetch_event(event.ref) == event.detail
    assert "/robots.txt" not in [r.endpoint for r in server.requests]


def test_config_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("MRE_EVERLAPS_URL", "http://127.0.0.1:9/prefix/")
    monkeypatch.setenv("MRE_EVERLAPS_MIN_INTERVAL_S", "2.5")
    monkeypatch.setenv("MRE_EVERLAPS_TIMEOUT_S", "7")
    monkeypatch.setenv("MRE_EVERLAPS_MAX_RETRIES", "1")
    monkeypatch.setenv("MRE_EVERLAPS_MAX_RESPONSE_BYTES", "1000")
    monkeypatch.setenv("MRE_EVERLAPS_USER_AGENT", "custom-agent/1")
    config = EverlapsConfig.from_env()
    assert config.base_url == "http://127.0.0.1:9/prefix"
    assert (config.min_interval_s, config.timeout_s, config.max_retries) == (2.5, 7.0, 1)
    assert (config.max_response_bytes, config.user_agent, config.scrape_enabled) == (
        1000,
        "custom-agent/1",
        True,
    )
    assert EverlapsConfig() == EverlapsConfig(base_url="https://everlaps.com")
    assert EverlapsConfig().min_interval_s == 1.0
