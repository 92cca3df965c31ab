"""POST the Everlaps endpoints politely, reusing LiveRC's polite client unchanged.

Everlaps answers ``POST`` with ``Content-Type: application/json`` and body ``{}``. :class:`PoliteHttpClient`
(``connectors/liverc/http.py``) only GETs, but it takes its ``requests.Session`` from the caller; so
:class:`JsonPostSession` turns each GET of a URL under the configured ``/api/`` prefix into that POST and
leaves every other request (robots.txt) alone. Everything else is the polite client's, through its public
``get_text``: the kill switch, robots.txt, one request at a time with the minimum interval, retries with
backoff and Retry-After on timeouts/429/5xx, the size cap, the off-host redirect refusal, FetchStats, and
whatever hardening that client gains later. No line of ``liverc/http.py`` is edited; when the lead
generalises the client into ``connectors/http.py`` with a method parameter, this adapter goes away.

Its one coupling: the client must send requests through ``Session.request`` (``get`` does). A client that
bypassed it would GET the API, which the site (and the fake) refuse, so the tests would say so at once.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

import requests

from mre_pipeline.connectors.base import FetchStats
from mre_pipeline.connectors.errors import ConfigurationError, SourceHttpError
from mre_pipeline.connectors.everlaps.config import EverlapsConfig
from mre_pipeline.connectors.everlaps.payloads.common import PayloadFormatError
from mre_pipeline.connectors.everlaps.urls import EverlapsUrls
from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.http import PoliteHttpClient
from mre_pipeline.connectors.pacing import HostPacer

EMPTY_BODY: dict[str, Any] = {}


class JsonPostSession(requests.Session):
    """A session that sends requests for ``api_prefix`` URLs as ``POST {}`` asking for JSON."""

    def __init__(self, api_prefix: str):
        super().__init__()
        self.api_prefix = api_prefix

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        verb = method.decode() if isinstance(method, bytes) else method
        target = url.decode() if isinstance(url, bytes) else str(url)
        if verb.upper() == "GET" and target.startswith(self.api_prefix):
            headers = dict(kwargs.pop("headers", None) or {})
            headers["Accept"] = "application/json"
            kwargs.pop("data", None)
            kwargs["json"] = EMPTY_BODY
            return super().request("POST", url, *args, headers=headers, **kwargs)
        return super().request(method, url, *args, **kwargs)


def polite_settings(config: EverlapsConfig) -> LiveRCConfig:
    """The polite client's settings for Everlaps: same knobs, Everlaps values (the LiveRC URLs are unused)."""
    return LiveRCConfig(
        catalogue_url=config.base_url + "/",
        scrape_enabled=config.scrape_enabled,
        min_interval_s=config.min_interval_s,
        timeout_s=config.timeout_s,
        max_retries=config.max_retries,
        backoff_base_s=config.backoff_base_s,
        backoff_max_s=config.backoff_max_s,
        max_response_bytes=config.max_response_bytes,
        respect_robots=config.respect_robots,
        robots_ttl_s=config.robots_ttl_s,
        user_agent=config.user_agent,
    )


def decode_json(text: str, url: str) -> Any:
    """The decoded body; anything that is not strict JSON (NaN included) is a typed error."""

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    try:
        return json.loads(text, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        where = "it is empty" if not text.strip() else f"it breaks at line {exc.lineno}, column {exc.colno}"
        raise PayloadFormatError("response", url, f"the body is not valid JSON ({where})") from None
    except (ValueError, RecursionError) as exc:
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise PayloadFormatError("response", url, f"the body is not valid JSON ({reason})") from None


def _url_once(exc: SourceHttpError, url: str) -> SourceHttpError:
    """The same error naming its URL once: the polite client's "gave up after N attempts" message repeats
    it ("HTTP 500 for URL (gave up after 3 attempts) for URL"). A no-op once that message is fixed there."""
    message = str(exc)
    if message.count(url) <= 1:
        return exc
    return type(exc)(url, exc.status, message.replace(f" for {url}", ""))


class EverlapsHttpFetcher:
    """``post_json(url)``: one polite POST, the decoded JSON back. Thread-safe, one pacing per instance."""

    def __init__(
        self,
        config: EverlapsConfig,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        wall_clock: Callable[[], float] = time.time,
        stats: FetchStats | None = None,
        pacer: HostPacer | None = None,
    ):
        self.api_prefix = EverlapsUrls(config).api_prefix
        self.client = PoliteHttpClient(
            polite_settings(config),
            session=JsonPostSession(self.api_prefix),
            clock=clock,
            sleep=sleep,
            jitter=jitter,
            wall_clock=wall_clock,
            stats=stats,
            pacer=pacer,
            site_name="Everlaps",
        )

    @property
    def stats(self) -> FetchStats:
        return self.client.stats

    def post_json(self, url: str) -> Any:
        if not url.startswith(self.api_prefix):
            raise ConfigurationError(
                f"refusing to call {url}: it is outside the Everlaps API at {self.api_prefix}"
            )
        try:
            text = self.client.get_text(url)
        except SourceHttpError as exc:
            raise _url_once(exc, url) from None
        if text is None:  # only with not_found_ok, which is never asked for
            raise SourceHttpError(url, 404)
        return decode_json(text, url)
