"""The polite HTTP client every connector fetches through: per-host pacing, retries with backoff, robots.txt,
the kill switch, a deadline per response, and redirects that never leave the configured host.

Sources differ only in their settings (any object with the :class:`PolitenessSettings` attributes), the
name messages give them (``site_name``) and the verb: LiveRC pages are GETs, Everlaps answers JSON to POSTs
(:meth:`PoliteHttpClient.post_json_text`).

Time is injected (``clock``/``sleep``/``jitter``) so tests exercise every wait without sleeping. Retries
(tenacity) cover connection errors, timeouts, 429 (honouring Retry-After) and 5xx; any other 4xx fails at
once. Every wait is counted in :class:`FetchStats` so runs can report politeness versus work.

**Deadline.** A per-read timeout does not bound a response: a server that sends a byte every few seconds
never trips it. Each response therefore has a deadline (``response_deadline_s``) covering connect, headers
and the whole body: urllib3's ``total`` timeout bounds connect plus headers, and a watchdog timer shuts the
socket's read side down when the body is still arriving at the deadline (``HTTPResponse.shutdown()``
exists for exactly that: it wakes a read blocked in another thread). A fetch over its deadline therefore
fails within the deadline plus a moment, and is never retried.

**Redirects.** ``requests`` is told not to follow redirects: it would contact the other host before we
could refuse it. This client follows a bounded number of same-origin hops itself (same scheme, host and
port), each one paced, retried and checked against robots.txt like any request, and refuses any other
target without contacting it.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import requests
import urllib3
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from mre_pipeline.connectors.base import FetchStats
from mre_pipeline.connectors.errors import (
    ConnectorError,
    RedirectRefusedError,
    ResponseDeadlineError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    ScrapingDisabledError,
    SourceHttpError,
)
from mre_pipeline.connectors.pacing import HostPacer, LocalHostPacer, RobotsAnswer

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# After these, a POST becomes a GET (as browsers do); 307 and 308 repeat the same request.
METHOD_CHANGING_REDIRECTS = frozenset({301, 302, 303})
_CHUNK_BYTES = 64 * 1024
_BODY_READ_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


def is_retryable_status(status: int) -> bool:
    """429 and every 5xx are worth another try; other 4xx are final."""
    return status == 429 or 500 <= status < 600


def status_text(status: int) -> str:
    """``HTTP 503 Service Unavailable`` (the number alone for codes without a standard phrase)."""
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, lower-case host, port with the scheme's default filled in): what "same host" compares."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: never equal to a real origin
        port = -1
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


class _Retryable(SourceHttpError):
    """A failure worth another try; carries Retry-After when the server sent one."""

    def __init__(self, url: str, status: int | None, message: str, retry_after: float | None = None):
        super().__init__(url, status, message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Redirect:
    """A redirect answer: the caller decides whether to follow it."""

    status: int
    location: str | None


def _retry_after_seconds(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(parsedate_to_datetime(value).timestamp() - now, 0.0)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class _Watchdog:
    """Shuts the response's socket down for reading once ``seconds`` have passed (unless cancelled first),
    which wakes a body read that a trickling server keeps alive."""

    def __init__(self, response: requests.Response, seconds: float):
        self.fired = threading.Event()
        self._response = response
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired.set()
        # No socket to shut when the body is mocked or the connection was already released.
        with contextlib.suppress(Exception):
            self._response.raw.shutdown()

    def cancel(self) -> None:
        self._timer.cancel()


class PolitenessSettings(Protocol):
    """What the client needs from a source's configuration (LiveRCConfig and EverlapsConfig have it all)."""

    site_name: str
    scrape_enabled: bool
    min_interval_s: float
    timeout_s: float
    response_deadline_s: float
    max_redirects: int
    max_retries: int
    backoff_base_s: float
    backoff_max_s: float
    max_response_bytes: int
    respect_robots: bool
    robots_ttl_s: float
    user_agent: str


@dataclass(frozen=True)
class _Call:
    """The verb and JSON body of one request (robots.txt and redirects after 301-303 are plain GETs)."""

    method: str = "GET"
    json_body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


GET = _Call()


class PoliteHttpClient:
    """GET pages politely. Thread-safe; one instance per run shares its per-host pacing."""

    def __init__(
        self,
        config: PolitenessSettings,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        wall_clock: Callable[[], float] = time.time,
        stats: FetchStats | None = None,
        pacer: HostPacer | None = None,
    ):
        self.config = config
        self.site_name = config.site_name  # how messages name the source
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": config.user_agent, "Accept": "text/html,*/*;q=0.5"})
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.wall_clock = wall_clock
        self.stats = stats or FetchStats()
        # Who may send to a host next: this process's memory by default, the warehouse's ledger when shared.
        self.pacer: HostPacer = pacer or LocalHostPacer(clock=clock, sleep=sleep)
        self._robots: dict[str, tuple[float, RobotFileParser | None]] = {}
        self._lock = threading.Lock()

    # -- politeness ---------------------------------------------------------------------------------
    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self.stats.wait_seconds += seconds
            self.sleep(seconds)

    def _check_enabled(self, url: str) -> None:
        if not self.config.scrape_enabled:
            raise ScrapingDisabledError(f"scraping is disabled (MRE_SCRAPE_ENABLED=0); not fetching {url}")

    # -- robots.txt ---------------------------------------------------------------------------------
    def _robots_for(self, url: str) -> RobotFileParser | None:
        """The site's rules: from this client's memory, else from the pacer's ledger (shared by every run
        in the pipeline), else fetched once and remembered there for ``robots_ttl_s``."""
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        cached = self._robots.get(site)
        if cached is not None and self.clock() - cached[0] < self.config.robots_ttl_s:
            return cached[1]
        answer = self.pacer.recall_robots(site, self.config.robots_ttl_s)
        if answer is None:
            answer = self._fetch_robots(site)
            self.pacer.remember_robots(site, answer)
        parser = robots_parser(site, answer)
        self._robots[site] = (self.clock(), parser)
        return parser

    def _fetch_robots(self, site: str) -> RobotsAnswer:
        body = self._follow(site + "/robots.txt", allow_statuses=(404, 410, 401, 403), check_robots=False)
        if body is None:
            return RobotsAnswer(404)  # no robots.txt: everything allowed
        if isinstance(body, int):
            return RobotsAnswer(403)  # 401/403: the site forbids crawling
        return RobotsAnswer(200, body)

    def _check_robots(self, url: str) -> None:
        if not self.config.respect_robots:
            return
        parser = self._robots_for(url)
        if parser is not None and not parser.can_fetch(self.config.user_agent, url):
            raise RobotsDisallowedError(url)

    # -- fetching -----------------------------------------------------------------------------------
    def get_text(self, url: str, not_found_ok: bool = False) -> str | None:
        """The body of ``url`` as text; None for 404/410 when ``not_found_ok``."""
        self._check_enabled(url)
        result = self._follow(url, allow_statuses=(404, 410) if not_found_ok else (), check_robots=True)
        return None if isinstance(result, int) else result

    def post_json_text(self, url: str, body: dict[str, Any]) -> str:
        """POST ``body`` as JSON to ``url`` (asking for JSON back) and return the answer's text."""
        self._check_enabled(url)
        call = _Call("POST", body, {"Accept": "application/json"})
        result = self._follow(url, allow_statuses=(), check_robots=True, call=call)
        assert isinstance(result, str)  # no status is allowed, so anything else raised
        return result

    def _follow(
        self, url: str, allow_statuses: tuple[int, ...], check_robots: bool, call: _Call = GET
    ) -> str | int | None:
        """Fetch ``url``, following same-origin redirects; each hop is a full, paced request."""
        current, seen = url, {url}
        for _ in range(self.config.max_redirects + 1):
            if check_robots:
                self._check_robots(current)
            result = self._get(current, allow_statuses, call)
            if not isinstance(result, _Redirect):
                return result
            if result.status in METHOD_CHANGING_REDIRECTS:
                call = GET
            current = self._redirect_target(url, current, result)
            if current in seen:
                raise RedirectRefusedError(
                    url, result.status, f"{self.site_name} redirected the page in a loop"
                )
            seen.add(current)
        raise RedirectRefusedError(
            url, None, f"{self.site_name} redirected the page more than {self.config.max_redirects} times"
        )

    def _redirect_target(self, requested: str, current: str, redirect: _Redirect) -> str:
        """The absolute URL to fetch next, or RedirectRefusedError when it leaves the current origin."""
        if not redirect.location:
            raise SourceHttpError(
                requested,
                redirect.status,
                f"{self.site_name} answered {status_text(redirect.status)} without a target",
            )
        target = urljoin(current, redirect.location.strip())
        if origin(target) != origin(current):
            host = urlsplit(target).netloc or target
            raise RedirectRefusedError(
                requested,
                redirect.status,
                f"{self.site_name} redirected the page to another host, {host}, which is never contacted",
                target=target,
            )
        return target

    def _get(
        self, url: str, allow_statuses: tuple[int, ...] = (), call: _Call = GET
    ) -> str | int | None | _Redirect:
        """One URL with retries: the text, the status for ``allow_statuses``, a redirect, or raises."""
        self._check_enabled(url)
        attempts = self.config.max_retries + 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=self._backoff,
            sleep=self._wait,
            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, allow_statuses, call)
        except _Retryable as exc:
            raise SourceHttpError(
                url, exc.status, f"{exc.detail}; gave up after {attempts} attempts"
            ) from None

    def _backoff(self, state: RetryCallState) -> float:
        """Exponential backoff with "equal jitter" (never zero, never synchronised); Retry-After wins."""
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(self.config.backoff_base_s * 2 ** (state.attempt_number - 1), self.config.backoff_max_s)
        backoff = backoff * (0.5 + self.jitter())
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return max(min(exc.retry_after, 10 * self.config.backoff_max_s), backoff)
        return backoff

    def _count_retry(self, state: RetryCallState) -> None:
        with self._lock:
            self.stats.retries += 1

    def _attempt(
        self, url: str, allow_statuses: tuple[int, ...], call: _Call = GET
    ) -> str | int | None | _Redirect:
        """One request, in the host's turn: one at a time per host (threads and processes), the interval
        counted from the end of the previous response."""
        host = urlsplit(url).netloc.lower()
        with self.pacer.turn(host, self.config.min_interval_s) as waited:
            with self._lock:
                self.stats.wait_seconds += waited
                self.stats.requests += 1
            started = self.clock()
            try:
                response = self._send(url, call)
                try:
                    return self._answer(response, url, allow_statuses, started)
                finally:
                    response.close()
            finally:
                self.stats.fetch_seconds += self.clock() - started

    def _timeout(self) -> urllib3.Timeout:
        """Connect and each read within ``timeout_s``, connect plus headers within the deadline."""
        per_read = min(self.config.timeout_s, self.config.response_deadline_s)
        return urllib3.Timeout(total=self.config.response_deadline_s, connect=per_read, read=per_read)

    def _send(self, url: str, call: _Call = GET) -> requests.Response:
        """Send the request and wait for the headers (the body is read by :meth:`_read_body`)."""
        try:
            return self.session.request(
                call.method,
                url,
                json=call.json_body,
                headers=call.headers or None,
                timeout=self._timeout(),
                stream=True,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            waited = min(self.config.timeout_s, self.config.response_deadline_s)
            raise _Retryable(url, None, f"{self.site_name} did not answer within {waited:g} s") from exc
        except requests.ConnectionError as exc:
            raise _Retryable(url, None, f"could not connect to {self.site_name}") from exc
        except requests.RequestException as exc:
            raise SourceHttpError(
                url, None, f"the request to {self.site_name} could not be sent: {exc}"
            ) from exc

    def _answer(
        self, response: requests.Response, url: str, allow_statuses: tuple[int, ...], started: float
    ) -> str | int | None | _Redirect:
        status = response.status_code
        if status in REDIRECT_STATUSES:
            return _Redirect(status, response.headers.get("Location"))
        if is_retryable_status(status):
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"), self.wall_clock())
            raise _Retryable(url, status, f"{self.site_name} answered {status_text(status)}", retry_after)
        if status in allow_statuses:
            return None if status in (404, 410) else status
        if status >= 300:
            raise SourceHttpError(url, status, f"{self.site_name} answered {status_text(status)}")
        return self._decode(response, self._read_body(response, url, started))

    def _read_body(self, response: requests.Response, url: str, started: float) -> bytes:
        """The whole body, within the size cap and the response deadline."""
        self._refuse_declared_size(response, url)
        deadline = started + self.config.response_deadline_s
        watchdog = _Watchdog(response, deadline - self.clock())
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(_CHUNK_BYTES):
                size += len(chunk)
                if size > self.config.max_response_bytes:
                    raise self._too_large(response, url)
                chunks.append(chunk)
                if self.clock() > deadline:
                    raise self._too_slow(url, response.status_code)
        except ConnectorError:
            raise
        except _BODY_READ_ERRORS as exc:
            if watchdog.fired.is_set():
                raise self._too_slow(url, response.status_code) from None
            raise _Retryable(
                url,
                response.status_code,
                f"the connection to {self.site_name} broke while the page was being sent",
            ) from exc
        finally:
            watchdog.cancel()
        if watchdog.fired.is_set() and self.clock() > deadline:
            raise self._too_slow(url, response.status_code)  # the shutdown ended the body early
        self.stats.bytes_received += size
        return b"".join(chunks)

    def _refuse_declared_size(self, response: requests.Response, url: str) -> None:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.config.max_response_bytes:
            raise self._too_large(response, url)

    def _too_large(self, response: requests.Response, url: str) -> ResponseTooLargeError:
        limit = self.config.max_response_bytes
        return ResponseTooLargeError(
            url, response.status_code, f"the page is larger than the {limit:,}-byte limit, so it was not read"
        )

    def _too_slow(self, url: str, status: int | None) -> ResponseDeadlineError:
        seconds = self.config.response_deadline_s
        return ResponseDeadlineError(
            url, status, f"{self.site_name} sent the page too slowly: not complete after {seconds:g} s"
        )

    @staticmethod
    def _decode(response: requests.Response, body: bytes) -> str:
        """Text in the declared charset; LiveRC pages are UTF-8 (requests' ISO-8859-1 default is wrong)."""
        declared = response.encoding
        encoding = declared if declared and declared.lower() != "iso-8859-1" else "utf-8"
        try:
            return body.decode(encoding, errors="replace")
        except LookupError:  # a charset name Python does not know
            return body.decode("utf-8", errors="replace")


def robots_parser(site: str, answer: RobotsAnswer) -> RobotFileParser | None:
    """The rules of one robots.txt answer; None when there are none (everything allowed)."""
    if answer.status == 404:
        return None
    parser = RobotFileParser(site + "/robots.txt")
    if answer.status == 403:
        parser.disallow_all = True
    else:
        parser.parse(answer.body.splitlines())
    return parser
