"""A polite HTTP client for LiveRC: per-host minimum interval, retries with backoff, robots.txt, kill switch.

Time is injected (``clock``/``sleep``/``jitter``) so tests exercise every wait without sleeping. Retries
(tenacity) cover connection errors, timeouts, 429 (honouring Retry-After) and 5xx; any other 4xx fails at
once. Every wait is counted in :class:`FetchStats` so runs can report politeness versus work.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from mre_pipeline.connectors.base import FetchStats
from mre_pipeline.connectors.errors import (
    ConnectorError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    ScrapingDisabledError,
    SourceHttpError,
)
from mre_pipeline.connectors.liverc.config import LiveRCConfig


def is_retryable_status(status: int) -> bool:
    """429 and every 5xx are worth another try; other 4xx are final."""
    return status == 429 or 500 <= status < 600


class _Retryable(SourceHttpError):
    """A failure worth another try; carries Retry-After when the server sent one."""

    def __init__(self, url: str, status: int | None, message: str, retry_after: float | None = None):
        super().__init__(url, status, message)
        self.retry_after = retry_after


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


def _same_host(final_url: str | None, requested: str) -> bool:
    if not final_url:
        return True
    final, asked = urlsplit(final_url), urlsplit(requested)
    return (final.hostname or "").lower() == (asked.hostname or "").lower() and final.port == asked.port


class PoliteHttpClient:
    """GET pages politely. Thread-safe; one instance per run shares its per-host pacing."""

    def __init__(
        self,
        config: LiveRCConfig,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        wall_clock: Callable[[], float] = time.time,
        stats: FetchStats | None = None,
    ):
        self.config = config
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": config.user_agent, "Accept": "text/html,*/*;q=0.5"})
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.wall_clock = wall_clock
        self.stats = stats or FetchStats()
        self._last_request: dict[str, float] = {}
        self._robots: dict[str, tuple[float, RobotFileParser | None]] = {}
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}

    # -- politeness ---------------------------------------------------------------------------------
    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self.stats.wait_seconds += seconds
            self.sleep(seconds)

    def _pace(self, host: str) -> None:
        """Sleep until ``min_interval_s`` has passed since the last request to ``host``.

        Each caller reserves its slot under the lock and sleeps outside it, so threads fetching from other
        hosts never wait behind this one, and two threads on one host still keep the interval.
        """
        with self._lock:
            now = self.clock()
            last = self._last_request.get(host)
            slot = now if last is None else max(now, last + self.config.min_interval_s)
            self._last_request[host] = slot
        self._wait(slot - now)

    def _mark_done(self, host: str) -> None:
        """Count the interval from the end of a response, so the host sees the full gap between requests."""
        with self._lock:
            self._last_request[host] = max(self._last_request.get(host, 0.0), self.clock())

    def _check_enabled(self, url: str) -> None:
        if not self.config.scrape_enabled:
            raise ScrapingDisabledError(f"scraping is disabled (MRE_SCRAPE_ENABLED=0); not fetching {url}")

    # -- robots.txt ---------------------------------------------------------------------------------
    def _robots_for(self, url: str) -> RobotFileParser | None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        cached = self._robots.get(origin)
        if cached is not None and self.clock() - cached[0] < self.config.robots_ttl_s:
            return cached[1]
        robots_url = origin + "/robots.txt"
        parser: RobotFileParser | None = RobotFileParser(robots_url)
        try:
            body = self._get(robots_url, allow_statuses=(404, 410, 401, 403))
        except SourceHttpError:
            raise
        if body is None:
            parser = None  # no robots.txt: everything allowed
        elif isinstance(body, int):  # 401/403: the site forbids crawling
            parser.disallow_all = True
        else:
            parser.parse(body.splitlines())
        self._robots[origin] = (self.clock(), parser)
        return parser

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
        self._check_robots(url)
        result = self._get(url, allow_statuses=(404, 410) if not_found_ok else ())
        return None if isinstance(result, int) else result

    def _get(self, url: str, allow_statuses: tuple[int, ...] = ()) -> str | int | None:
        """Fetch with retries. Returns the text, the status for ``allow_statuses`` 4xx, or raises."""
        self._check_enabled(url)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            backoff = min(
                self.config.backoff_base_s * 2 ** (state.attempt_number - 1), self.config.backoff_max_s
            )
            backoff = backoff * (0.5 + self.jitter())  # "equal jitter": never zero, never synchronised
            if isinstance(exc, _Retryable) and exc.retry_after is not None:
                return max(min(exc.retry_after, 10 * self.config.backoff_max_s), backoff)
            return backoff

        def before_sleep(state: RetryCallState) -> None:
            with self._lock:
                self.stats.retries += 1

        retrying = Retrying(
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=wait,
            sleep=self._wait,
            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, allow_statuses)
        except _Retryable as exc:
            raise SourceHttpError(
                url, exc.status, f"{exc.args[0]} (gave up after {self.config.max_retries + 1} attempts)"
            ) from None

    def _host_lock(self, host: str) -> threading.Lock:
        with self._lock:
            return self._host_locks.setdefault(host, threading.Lock())

    def _attempt(self, url: str, allow_statuses: tuple[int, ...]) -> str | int | None:
        """One request; one at a time per host, so the interval holds between threads too."""
        host = (urlsplit(url).hostname or "").lower()
        with self._host_lock(host):
            return self._attempt_locked(url, host, allow_statuses)

    def _attempt_locked(self, url: str, host: str, allow_statuses: tuple[int, ...]) -> str | int | None:
        self._pace(host)
        started = self.clock()
        with self._lock:
            self.stats.requests += 1
        try:
            response = self.session.get(url, timeout=self.config.timeout_s, stream=True, allow_redirects=True)
        except requests.Timeout as exc:
            self._mark_done(host)
            raise _Retryable(url, None, f"timed out after {self.config.timeout_s:g} s") from exc
        except requests.ConnectionError as exc:
            self._mark_done(host)
            raise _Retryable(url, None, f"connection failed ({type(exc).__name__})") from exc
        except requests.RequestException as exc:
            raise SourceHttpError(url, None, f"request failed ({type(exc).__name__}: {exc})") from exc
        try:
            status = response.status_code
            if not _same_host(response.url, url):  # a redirect must not steer us to another host
                raise SourceHttpError(url, status, f"redirected off-host to {response.url}")
            if is_retryable_status(status):
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"), self.wall_clock())
                raise _Retryable(url, status, f"HTTP {status}", retry_after)
            if status in allow_statuses:
                return None if status in (404, 410) else status
            if status >= 400:
                raise SourceHttpError(url, status, f"HTTP {status}")
            body = self._read_capped(response, url)
        finally:
            response.close()
            self.stats.fetch_seconds += self.clock() - started
            self._mark_done(host)
        encoding = (
            response.encoding if response.encoding and response.encoding.lower() != "iso-8859-1" else "utf-8"
        )
        try:
            return body.decode(encoding, errors="replace")
        except LookupError:  # a charset name Python does not know: LiveRC pages are UTF-8
            return body.decode("utf-8", errors="replace")

    def _read_capped(self, response: requests.Response, url: str) -> bytes:
        cap = self.config.max_response_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise ResponseTooLargeError(
                url, response.status_code, f"response of {declared} bytes exceeds {cap}"
            )
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > cap:
                    raise ResponseTooLargeError(url, response.status_code, f"response exceeds {cap} bytes")
                chunks.append(chunk)
        except (requests.RequestException, OSError) as exc:
            if isinstance(exc, ConnectorError):
                raise
            raise _Retryable(
                url, response.status_code, f"connection broke while reading ({type(exc).__name__})"
            ) from exc
        self.stats.bytes_received += size
        return b"".join(chunks)
