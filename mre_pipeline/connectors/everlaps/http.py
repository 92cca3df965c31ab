"""POST the Everlaps endpoints politely: every call is ``POST {}`` asking for JSON, through the shared polite
client (``connectors/http.py``), so the kill switch, robots.txt, per-host turns with the minimum interval,
retries with backoff and Retry-After, the response deadline, the size cap and the off-host redirect refusal
all hold as for LiveRC."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from mre_pipeline.connectors.base import FetchStats
from mre_pipeline.connectors.errors import ConfigurationError
from mre_pipeline.connectors.everlaps.config import EverlapsConfig
from mre_pipeline.connectors.everlaps.payloads.common import PayloadFormatError
from mre_pipeline.connectors.everlaps.urls import EverlapsUrls
from mre_pipeline.connectors.http import PoliteHttpClient
from mre_pipeline.connectors.pacing import HostPacer


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
            config,
            clock=clock,
            sleep=sleep,
            jitter=jitter,
            wall_clock=wall_clock,
            stats=stats,
            pacer=pacer,
        )

    @property
    def stats(self) -> FetchStats:
        return self.client.stats

    def post_json(self, url: str) -> Any:
        if not url.startswith(self.api_prefix):
            raise ConfigurationError(
                f"refusing to call {url}: it is outside the Everlaps API at {self.api_prefix}"
            )
        return decode_json(self.client.post_json_text(url, {}), url)
