"""The polite HTTP client: retries, backoff, Retry-After, kill switch, robots, caps. Nothing really sleeps."""

from __future__ import annotations

import pytest
import requests
import requests_mock

from mre_pipeline.connectors.errors import (
    ConfigurationError,
    ConnectorError,
    InvalidIdentifierError,
    RedirectRefusedError,
    ResponseDeadlineError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    ScrapingDisabledError,
    SourceHttpError,
)
from mre_pipeline.connectors.http import PoliteHttpClient
from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.source import LiveRCSource
from mre_pipeline.connectors.liverc.urls import LiveRCUrls, valid_slug

CATALOGUE = "https://live.liverc.com/"
ROBOTS = "https://live.liverc.com/robots.txt"
TRACK_ROBOTS = "https://demo.liverc.com/robots.txt"
EVENTS = "https://demo.liverc.com/events/"


class FakeClock:
    """A monotonic clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mock() -> requests_mock.Mocker:
    with requests_mock.Mocker() as m:
        m.get(ROBOTS, text="User-agent: *\nAllow: /\n")
        m.get(TRACK_ROBOTS, text="User-agent: *\nDisallow: /private/\n")
        yield m


def make_client(clock: FakeClock, **overrides: object) -> PoliteHttpClient:
    settings = {"min_interval_s": 1.0, "max_retries": 3, "backoff_base_s": 1.0, **overrides}
    return PoliteHttpClient(
        LiveRCConfig(**settings),  # type: ignore[arg-type]
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.5,  # multiplier 1.0: backoff is exactly base * 2**(n-1)
        wall_clock=lambda: 1_700_000_000.0,
    )


def urls(mock: requests_mock.Mocker) -> list[str]:
    return [r.url for r in mock.request_history]


def test_success_counts_request_and_sends_honest_user_agent(mock, clock) -> None:
    mock.get(CATALOGUE, text="<html>ok</html>")
    client = make_client(clock)
    assert client.get_text(CATALOGUE) == "<html>ok</html>"
    agent = mock.request_history[-1].headers["User-Agent"]
    assert "mre-pipeline" in agent and "contact:" in agent and "@" in agent
    assert client.stats.requests == 2  # robots.txt + the page
    assert client.stats.bytes_received == len("<html>ok</html>") + len("User-agent: *\nAllow: /\n")
    assert client.stats.retries == 0


def test_min_interval_between_requests_to_one_host(mock, clock) -> None:
    mock.get(CATALOGUE, text="ok")
    mock.get(EVENTS, text="ok")
    client = make_client(clock, min_interval_s=2.5)
    client.get_text(CATALOGUE)
    client.get_text(CATALOGUE)
    assert clock.sleeps == [2.5, 2.5]  # robots -> page -> page, same host
    client.get_text(EVENTS)  # another host: its own pacing (robots first, no wait)
    assert clock.sleeps == [2.5, 2.5, 2.5]  # robots.txt then page on demo.liverc.com
    assert client.stats.wait_seconds == pytest.approx(7.5)


def test_min_interval_counts_from_the_end_of_the_previous_response(mock, clock) -> None:
    mock.get(CATALOGUE, text="ok")
    client = make_client(clock, min_interval_s=1.0, respect_robots=False)
    client.get_text(CATALOGUE)
    clock.now += 0.4  # the caller spends time parsing
    client.get_text(CATALOGUE)
    assert clock.sleeps == [pytest.approx(0.6)]


def test_retries_5xx_with_exponential_backoff_then_succeeds(mock, clock) -> None:
    mock.get(CATALOGUE, [{"status_code": 503}, {"status_code": 500}, {"status_code": 502}, {"text": "ok"}])
    client = make_client(clock, min_interval_s=0.0)
    assert client.get_text(CATALOGUE) == "ok"
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert client.stats.retries == 3 and client.stats.requests == 5
    assert client.stats.wait_seconds == pytest.approx(7.0)


def test_jitter_spreads_backoff(mock) -> None:
    clock = FakeClock()
    mock.get(CATALOGUE, [{"status_code": 503}, {"status_code": 503}, {"text": "ok"}])
    draws = iter([0.0, 1.0])
    client = PoliteHttpClient(
        LiveRCConfig(min_interval_s=0.0, respect_robots=False),
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: next(draws),
    )
    client.get_text(CATALOGUE)
    assert clock.sleeps == [0.5, 3.0]  # base*(0.5+j): 1*0.5, then 2*1.5


def test_gives_up_after_max_retries(mock, clock) -> None:
    mock.get(CATALOGUE, status_code=503)
    client = make_client(clock, min_interval_s=0.0, max_retries=2, respect_robots=False)
    with pytest.raises(SourceHttpError) as err:
        client.get_text(CATALOGUE)
    assert err.value.status == 503 and err.value.url == CATALOGUE
    assert str(err.value) == (
        "LiveRC answered HTTP 503 Service Unavailable; gave up after 3 attempts (https://live.liverc.com/)"
    )
    assert len(mock.request_history) == 3 and clock.sleeps == [1.0, 2.0]


def test_429_honours_retry_after_seconds(mock, clock) -> None:
    mock.get(CATALOGUE, [{"status_code": 429, "headers": {"Retry-After": "17"}}, {"text": "ok"}])
    client = make_client(clock, min_interval_s=0.0, respect_robots=False)
    assert client.get_text(CATALOGUE) == "ok"
    assert clock.sleeps == [17.0]
    assert client.stats.wait_seconds == 17.0


def test_429_honours_retry_after_http_date(mock, clock) -> None:
    mock.get(
        CATALOGUE,
        [{"status_code": 429, "headers": {"Retry-After": "Tue, 14 Nov 2023 22:13:50 GMT"}}, {"text": "ok"}],
    )
    client = make_client(clock, min_interval_s=0.0, respect_robots=False)  # wall clock 22:13:20 GMT
    client.get_text(CATALOGUE)
    assert clock.sleeps == [30.0]


def test_retry_after_shorter_than_backoff_still_backs_off(mock, clock) -> None:
    mock.get(CATALOGUE, [{"status_code": 503, "headers": {"Retry-After": "0"}}, {"text": "ok"}])
    make_client(clock, min_interval_s=0.0, respect_robots=False).get_text(CATALOGUE)
    assert clock.sleeps == [1.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 418])
def test_other_4xx_fail_at_once(mock, clock, status: int) -> None:
    mock.get(CATALOGUE, status_code=status)
    client = make_client(clock, respect_robots=False)
    with pytest.raises(SourceHttpError) as err:
        client.get_text(CATALOGUE)
    assert (err.value.status, err.value.url) == (status, CATALOGUE)
    assert len(mock.request_history) == 1 and clock.sleeps == [] and client.stats.retries == 0


def test_404_is_none_when_allowed(mock, clock) -> None:
    mock.get(CATALOGUE, status_code=404)
    assert make_client(clock, respect_robots=False).get_text(CATALOGUE, not_found_ok=True) is None
    assert len(mock.request_history) == 1


def test_timeouts_retried_then_raised(mock, clock) -> None:
    mock.get(CATALOGUE, exc=requests.exceptions.ReadTimeout)
    client = make_client(clock, min_interval_s=0.0, max_retries=2, respect_robots=False)
    with pytest.raises(SourceHttpError) as err:
        client.get_text(CATALOGUE)
    assert err.value.status is None
    assert (
        str(err.value)
        == "LiveRC did not answer within 20 s; gave up after 3 attempts (https://live.liverc.com/)"
    )
    assert len(mock.request_history) == 3 and clock.sleeps == [1.0, 2.0]


def test_connection_errors_retried_then_succeed(mock, clock) -> None:
    mock.get(CATALOGUE, [{"exc": requests.exceptions.ConnectionError}, {"text": "ok"}])
    client = make_client(clock, min_interval_s=0.0, respect_robots=False)
    assert client.get_text(CATALOGUE) == "ok"
    assert client.stats.retries == 1


def test_kill_switch_makes_no_request(mock, clock) -> None:
    client = make_client(clock, scrape_enabled=False)
    with pytest.raises(ScrapingDisabledError):
        client.get_text(CATALOGUE)
    source = LiveRCSource(LiveRCConfig(scrape_enabled=False))
    with pytest.raises(ScrapingDisabledError):
        source.fetch_race_page("demo", 1)
    assert mock.request_history == []


def test_kill_switch_from_environment(monkeypatch) -> None:
    for word in ("0", "false", "NO", "off"):
        monkeypatch.setenv("MRE_SCRAPE_ENABLED", word)
        assert LiveRCConfig.from_env().scrape_enabled is False
    monkeypatch.delenv("MRE_SCRAPE_ENABLED")
    assert LiveRCConfig.from_env().scrape_enabled is True


def test_robots_refusal_makes_no_page_request_and_is_cached(mock, clock) -> None:
    mock.get("https://demo.liverc.com/private/x", text="secret")
    mock.get(EVENTS, text="ok")
    client = make_client(clock, min_interval_s=0.0)
    with pytest.raises(RobotsDisallowedError) as err:
        client.get_text("https://demo.liverc.com/private/x")
    assert err.value.url == "https://demo.liverc.com/private/x"
    client.get_text(EVENTS)
    client.get_text(EVENTS)
    assert urls(mock) == [TRACK_ROBOTS, EVENTS, EVENTS]  # robots.txt fetched once per host


def test_robots_missing_allows_and_forbidden_disallows(mock, clock) -> None:
    mock.get(ROBOTS, status_code=404)
    mock.get(CATALOGUE, text="ok")
    mock.get(TRACK_ROBOTS, status_code=403)
    client = make_client(clock, min_interval_s=0.0)
    assert client.get_text(CATALOGUE) == "ok"
    with pytest.raises(RobotsDisallowedError):
        client.get_text(EVENTS)
    assert EVENTS not in urls(mock)


def test_robots_off_skips_robots_txt(mock, clock) -> None:
    mock.get("https://demo.liverc.com/private/x", text="ok")
    client = make_client(clock, respect_robots=False)
    assert client.get_text("https://demo.liverc.com/private/x") == "ok"
    assert urls(mock) == ["https://demo.liverc.com/private/x"]


def test_response_size_cap(mock, clock) -> None:
    mock.get(CATALOGUE, text="x" * 5000)
    client = make_client(clock, max_response_bytes=1000, respect_robots=False)
    with pytest.raises(ResponseTooLargeError):
        client.get_text(CATALOGUE)
    assert client.stats.retries == 0


def test_off_host_redirect_is_refused_without_contacting_the_other_host(mock, clock) -> None:
    mock.get(CATALOGUE, status_code=302, headers={"Location": "https://evil.example/"})
    mock.get("https://evil.example/", text="gotcha")
    with pytest.raises(RedirectRefusedError) as err:
        make_client(clock, respect_robots=False).get_text(CATALOGUE)
    assert str(err.value) == (
        "LiveRC redirected the page to another host, evil.example, which is never contacted "
        "(https://live.liverc.com/)"
    )
    assert err.value.target == "https://evil.example/" and err.value.status == 302
    assert urls(mock) == [CATALOGUE]


@pytest.mark.parametrize(
    "location",
    [
        "http://live.liverc.com/elsewhere",  # another scheme
        "https://live.liverc.com:8443/elsewhere",  # another port
        "//other.liverc.com/",  # protocol-relative, another host
        "https://live.liverc.com.evil.example/",
        "https://user@evil.example/",
    ],
)
def test_redirects_leaving_the_origin_are_refused(mock, clock, location: str) -> None:
    mock.get(CATALOGUE, status_code=301, headers={"Location": location})
    with pytest.raises(RedirectRefusedError, match="to another host"):
        make_client(clock, respect_robots=False).get_text(CATALOGUE)
    assert urls(mock) == [CATALOGUE]


def test_same_host_redirects_are_followed_paced_and_checked_against_robots(mock, clock) -> None:
    mock.get(EVENTS, status_code=302, headers={"Location": "/events/new/"})
    mock.get("https://demo.liverc.com/events/new/", status_code=307, headers={"Location": "../final/"})
    mock.get("https://demo.liverc.com/events/final/", text="moved here")
    client = make_client(clock, min_interval_s=2.0)
    assert client.get_text(EVENTS) == "moved here"
    assert urls(mock) == [
        TRACK_ROBOTS,
        EVENTS,
        "https://demo.liverc.com/events/new/",
        "https://demo.liverc.com/events/final/",
    ]
    assert clock.sleeps == [2.0, 2.0, 2.0]  # every hop waits its turn like any request
    assert client.stats.requests == 4


def test_redirect_to_a_disallowed_path_is_not_followed(mock, clock) -> None:
    mock.get(EVENTS, status_code=302, headers={"Location": "/private/x"})
    mock.get("https://demo.liverc.com/private/x", text="secret")
    with pytest.raises(RobotsDisallowedError):
        make_client(clock).get_text(EVENTS)
    assert urls(mock) == [TRACK_ROBOTS, EVENTS]


def test_redirect_loops_and_long_chains_are_refused(mock, clock) -> None:
    mock.get(CATALOGUE, status_code=302, headers={"Location": "/a"})
    mock.get("https://live.liverc.com/a", status_code=302, headers={"Location": "/"})
    with pytest.raises(RedirectRefusedError) as err:
        make_client(clock, respect_robots=False).get_text(CATALOGUE)
    assert str(err.value) == "LiveRC redirected the page in a loop (https://live.liverc.com/)"
    for hop in range(10):
        mock.get(f"https://live.liverc.com/hop{hop}", status_code=302, headers={"Location": f"/hop{hop + 1}"})
    mock.get(CATALOGUE, status_code=302, headers={"Location": "/hop0"})
    with pytest.raises(RedirectRefusedError) as err:
        make_client(clock, respect_robots=False, max_redirects=3).get_text(CATALOGUE)
    assert str(err.value) == "LiveRC redirected the page more than 3 times (https://live.liverc.com/)"


def test_redirect_without_location_is_typed(mock, clock) -> None:
    mock.get(CATALOGUE, status_code=302)
    with pytest.raises(SourceHttpError) as err:
        make_client(clock, respect_robots=False).get_text(CATALOGUE)
    assert str(err.value) == "LiveRC answered HTTP 302 Found without a target (https://live.liverc.com/)"


def test_connection_failure_reason_is_plain(mock, clock) -> None:
    mock.get(CATALOGUE, exc=requests.exceptions.ConnectionError("boom"))
    with pytest.raises(SourceHttpError) as err:
        make_client(clock, min_interval_s=0.0, max_retries=1, respect_robots=False).get_text(CATALOGUE)
    assert (
        str(err.value) == "could not connect to LiveRC; gave up after 2 attempts (https://live.liverc.com/)"
    )


class TickingClock(FakeClock):
    """Every reading moves time on by ``step`` seconds: a response that takes that long per step."""

    def __init__(self, step: float) -> None:
        super().__init__()
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_deadline_overrun_fails_once_and_is_not_retried(mock) -> None:
    mock.get(CATALOGUE, text="<html>slow</html>")
    clock = TickingClock(step=11.0)  # pace, send, watchdog, first chunk: 44 s
    client = make_client(clock, min_interval_s=0.0, respect_robots=False, response_deadline_s=20.0)  # type: ignore[arg-type]
    with pytest.raises(ResponseDeadlineError) as err:
        client.get_text(CATALOGUE)
    assert str(err.value) == (
        "LiveRC sent the page too slowly: not complete after 20 s (https://live.liverc.com/)"
    )
    assert len(mock.request_history) == 1 and client.stats.retries == 0


@pytest.mark.parametrize(
    "slug", ["", "a/b", "a.b", "-lead", "x" * 64, "évry", "a b", "abc\n", "a?b", "..", None]
)
def test_invalid_slugs_refused_before_any_request(mock, slug) -> None:
    source = LiveRCSource(LiveRCConfig())
    with pytest.raises(InvalidIdentifierError):
        source.fetch_track_events(slug)  # type: ignore[arg-type]
    assert mock.request_history == []


def test_slugs_are_lower_cased_and_ids_validated() -> None:
    assert valid_slug("FastandFunToyandHobby") == "fastandfuntoyandhobby"
    assert valid_slug("417raceplace") == "417raceplace"
    built = LiveRCUrls(LiveRCConfig())
    assert built.race("CanberraOffRoad", 6304829) == (
        "https://canberraoffroad.liverc.com/results/?p=view_race_result&id=6304829"
    )
    assert built.events("bayrc") == "https://bayrc.liverc.com/events/"
    for bad in (0, -1, True, "12", 1.5):
        with pytest.raises(InvalidIdentifierError):
            built.event("bayrc", bad)  # type: ignore[arg-type]


def test_path_style_track_template() -> None:
    built = LiveRCUrls(LiveRCConfig(track_url_template="http://127.0.0.1:9/t/{slug}/"))
    assert built.entry_list("Demo", 5) == "http://127.0.0.1:9/t/demo/results/?p=view_entry_list&id=5"


@pytest.mark.parametrize(
    "settings",
    [
        {"track_url_template": "https://liverc.com"},
        {"catalogue_url": "ftp://live.liverc.com/"},
        {"min_interval_s": -1},
        {"timeout_s": 0},
        {"max_response_bytes": 0},
        {"response_deadline_s": 0},
        {"max_redirects": -1},
    ],
)
def test_invalid_configuration_is_typed(settings: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        LiveRCConfig(**settings)  # type: ignore[arg-type]


def test_environment_configuration(monkeypatch) -> None:
    monkeypatch.setenv("MRE_LIVERC_MIN_INTERVAL_S", "0.25")
    monkeypatch.setenv("MRE_LIVERC_TRACK_URL", "http://127.0.0.1:1/t/{slug}")
    monkeypatch.setenv("MRE_LIVERC_MAX_RETRIES", "7")
    monkeypatch.setenv("MRE_LIVERC_RESPECT_ROBOTS", "off")
    monkeypatch.setenv("MRE_LIVERC_RESPONSE_DEADLINE_S", "7.5")
    config = LiveRCConfig.from_env()
    assert (config.min_interval_s, config.max_retries, config.respect_robots) == (0.25, 7, False)
    assert config.response_deadline_s == 7.5
    monkeypatch.delenv("MRE_LIVERC_RESPONSE_DEADLINE_S")
    assert LiveRCConfig.from_env().response_deadline_s == 20.0
    monkeypatch.setenv("MRE_LIVERC_TIMEOUT_S", "soon")
    with pytest.raises(ConnectorError):
        LiveRCConfig.from_env()


def test_unknown_charset_and_garbled_retry_after_do_not_escape(mock, clock) -> None:
    mock.get(
        CATALOGUE,
        [
            {"status_code": 503, "headers": {"Retry-After": "soon, maybe"}},
            {"content": "é".encode(), "headers": {"Content-Type": "text/html; charset=no-such-charset"}},
        ],
    )
    assert make_client(clock, min_interval_s=0.0, respect_robots=False).get_text(CATALOGUE) == "é"
    assert clock.sleeps == [1.0]  # unparsable Retry-After: plain backoff


def test_post_sends_json_and_a_303_turns_it_into_a_get(clock: FakeClock, mock: requests_mock.Mocker) -> None:
    """Everlaps' verb: POST with a JSON body; a same-origin 303 is followed as a GET, a 307 repeats the POST."""
    base = "https://live.liverc.com"
    mock.post(f"{base}/api/a", status_code=303, headers={"Location": "/api/b"})
    mock.get(f"{base}/api/b", text='{"ok": 1}')
    mock.post(f"{base}/api/c", status_code=307, headers={"Location": "/api/d"})
    mock.post(f"{base}/api/d", text='{"ok": 2}')
    client = make_client(clock)
    assert client.post_json_text(f"{base}/api/a", {"q": 1}) == '{"ok": 1}'
    assert client.post_json_text(f"{base}/api/c", {}) == '{"ok": 2}'
    sent = [(r.method, r.path, r.body) for r in mock.request_history if not r.path.endswith("robots.txt")]
    assert sent == [
        ("POST", "/api/a", b'{"q": 1}'),
        ("GET", "/api/b", None),
        ("POST", "/api/c", b"{}"),
        ("POST", "/api/d", b"{}"),
    ]
    assert mock.request_history[-1].headers["Accept"] == "application/json"
