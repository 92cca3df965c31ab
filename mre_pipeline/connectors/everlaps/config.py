"""Everlaps connector settings, read from the environment once and then passed around as a frozen value.

Environment variables (all optional):

- ``MRE_EVERLAPS_URL``: the site (default ``https://everlaps.com``). Every Everlaps URL is built from it, so
  a loopback stand-in such as ``http://127.0.0.1:8001`` (a path prefix is allowed) can play the site.
- ``MRE_EVERLAPS_MIN_INTERVAL_S``: minimum seconds between two requests to the host (default 1).
- ``MRE_EVERLAPS_TIMEOUT_S``: connect/read timeout per request (default 30).
- ``MRE_EVERLAPS_MAX_RETRIES``: extra attempts after a connection error, timeout, 429 or 5xx (default 4).
- ``MRE_EVERLAPS_USER_AGENT``: replaces the default, honest User-Agent; ``MRE_EVERLAPS_CONTACT`` only
  changes the contact it names.
- ``MRE_EVERLAPS_MAX_RESPONSE_BYTES``: a body larger than this is refused (default 10 MiB; the whole captured
  event 3702 is 0.75 MB, its largest node about 35 KB).
- ``MRE_EVERLAPS_RESPECT_ROBOTS``: honour robots.txt (cached), default on.
- ``MRE_SCRAPE_ENABLED``: the kill switch shared with LiveRC, default on; ``0``/``false``/``no``/``off``
  stops every request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlsplit

from mre_pipeline.connectors.errors import ConfigurationError
from mre_pipeline.connectors.liverc.config import DEFAULT_CONTACT, default_user_agent
from mre_pipeline.settings import env_flag, env_float, env_int

DEFAULT_URL = "https://everlaps.com"
DEFAULT_MIN_INTERVAL_S = 1.0
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RETRIES = 4
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
DEFAULT_RESPONSE_DEADLINE_S = 20.0
DEFAULT_MAX_REDIRECTS = 5


def _site_url(value: str) -> str:
    """``scheme://host[:port][/prefix]`` without a trailing slash; anything else is a configuration error."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"MRE_EVERLAPS_URL must be an http(s) URL, got {value!r}")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"MRE_EVERLAPS_URL must not carry a query or fragment, got {value!r}")
    return value.strip().rstrip("/")


@dataclass(frozen=True)
class EverlapsConfig:
    """Where Everlaps is and how politely to fetch it. Invalid values raise ConfigurationError."""

    site_name: ClassVar[str] = "Everlaps"  # how messages name the source
    base_url: str = DEFAULT_URL
    scrape_enabled: bool = True
    min_interval_s: float = DEFAULT_MIN_INTERVAL_S
    timeout_s: float = DEFAULT_TIMEOUT_S
    response_deadline_s: float = DEFAULT_RESPONSE_DEADLINE_S
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    respect_robots: bool = True
    robots_ttl_s: float = 24 * 3600.0
    user_agent: str = field(default_factory=default_user_agent)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", _site_url(self.base_url))
        if self.min_interval_s < 0 or self.max_retries < 0 or self.backoff_base_s < 0:
            raise ConfigurationError("Everlaps interval, retries and backoff must not be negative")
        if self.timeout_s <= 0 or self.max_response_bytes <= 0:
            raise ConfigurationError("Everlaps timeout and response cap must be positive")
        if not self.user_agent.strip():
            raise ConfigurationError("the Everlaps User-Agent must not be empty")

    @classmethod
    def from_env(cls) -> EverlapsConfig:
        """The settings the MRE_* environment asks for, defaults elsewhere."""
        try:
            contact = os.environ.get("MRE_EVERLAPS_CONTACT") or DEFAULT_CONTACT
            return cls(
                base_url=os.environ.get("MRE_EVERLAPS_URL") or DEFAULT_URL,
                scrape_enabled=env_flag("MRE_SCRAPE_ENABLED", True),
                min_interval_s=env_float("MRE_EVERLAPS_MIN_INTERVAL_S", DEFAULT_MIN_INTERVAL_S),
                timeout_s=env_float("MRE_EVERLAPS_TIMEOUT_S", DEFAULT_TIMEOUT_S),
                response_deadline_s=env_float(
                    "MRE_EVERLAPS_RESPONSE_DEADLINE_S", DEFAULT_RESPONSE_DEADLINE_S
                ),
                max_retries=env_int("MRE_EVERLAPS_MAX_RETRIES", DEFAULT_MAX_RETRIES),
                max_response_bytes=env_int("MRE_EVERLAPS_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES),
                respect_robots=env_flag("MRE_EVERLAPS_RESPECT_ROBOTS", True),
                user_agent=os.environ.get("MRE_EVERLAPS_USER_AGENT") or default_user_agent(contact),
            )
        except ConfigurationError:
            raise
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
