"""LiveRC connector settings, read from the environment once and then passed around as a frozen value.

Environment variables (all optional):

- ``MRE_LIVERC_CATALOGUE_URL``: the track catalogue (default ``https://live.liverc.com/``).
- ``MRE_LIVERC_TRACK_URL``: a track's site, with ``{slug}`` (default ``https://{slug}.liverc.com``); a
  path-style form such as ``http://127.0.0.1:8000/t/{slug}`` lets one loopback server play every track.
- ``MRE_LIVERC_MIN_INTERVAL_S``: minimum seconds between two requests to one host (default 1).
- ``MRE_LIVERC_TIMEOUT_S``: connect/read timeout per request (default 30); never more than the deadline.
- ``MRE_LIVERC_RESPONSE_DEADLINE_S``: the whole response (connect, headers and the entire body) must
  arrive within this many seconds (default 20), or the fetch fails without a retry.
- ``MRE_LIVERC_MAX_RETRIES``: extra attempts after a connection error, timeout, 429 or 5xx (default 4).
- ``MRE_LIVERC_USER_AGENT``: replaces the default, honest User-Agent; ``MRE_LIVERC_CONTACT`` only changes
  the contact it names.
- ``MRE_LIVERC_MAX_RESPONSE_BYTES``: a body larger than this is refused (default 10 MiB).
- ``MRE_SCRAPE_ENABLED``: kill switch, default on; ``0``/``false``/``no``/``off`` stops every request.
- ``MRE_LIVERC_RESPECT_ROBOTS``: honour robots.txt (cached per host), default on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlsplit

from mre_pipeline import __version__
from mre_pipeline.connectors.errors import ConfigurationError
from mre_pipeline.settings import env_flag, env_float, env_int

DEFAULT_CATALOGUE_URL = "https://live.liverc.com/"
DEFAULT_TRACK_URL = "https://{slug}.liverc.com"
DEFAULT_CONTACT = "data@myraceengineer.app"
DEFAULT_MIN_INTERVAL_S = 1.0
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RETRIES = 4
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
# The largest captured page (the 615 KB catalogue) arrives in well under a second; 20 s leaves room for a
# slow LiveRC while bounding how long one response can hold the single LiveRC slot.
DEFAULT_RESPONSE_DEADLINE_S = 20.0
DEFAULT_MAX_REDIRECTS = 5


def default_user_agent(contact: str = DEFAULT_CONTACT) -> str:
    """Honest: names the project, what it does, and who to contact."""
    return (
        f"mre-pipeline/{__version__} (My Race Engineer results ingestion; on-demand, rate-limited; "
        f"contact: {contact})"
    )


def _check_http_url(value: str, name: str) -> None:
    parts = urlsplit(value.replace("{slug}", "slug"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{name} must be an http(s) URL, got {value!r}")


@dataclass(frozen=True)
class LiveRCConfig:
    """Where LiveRC is and how politely to fetch it. Invalid values raise ConfigurationError."""

    site_name: ClassVar[str] = "LiveRC"  # how messages name the source
    catalogue_url: str = DEFAULT_CATALOGUE_URL
    track_url_template: str = DEFAULT_TRACK_URL
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
        _check_http_url(self.catalogue_url, "MRE_LIVERC_CATALOGUE_URL")
        _check_http_url(self.track_url_template, "MRE_LIVERC_TRACK_URL")
        if self.track_url_template.count("{slug}") != 1:
            raise ConfigurationError(
                f"MRE_LIVERC_TRACK_URL must contain '{{slug}}' once, got {self.track_url_template!r}"
            )
        if self.min_interval_s < 0 or self.max_retries < 0 or self.backoff_base_s < 0:
            raise ConfigurationError("LiveRC interval, retries and backoff must not be negative")
        if self.timeout_s <= 0 or self.max_response_bytes <= 0 or self.response_deadline_s <= 0:
            raise ConfigurationError("LiveRC timeout, response deadline and response cap must be positive")
        if self.max_redirects < 0:
            raise ConfigurationError("the number of LiveRC redirects to follow must not be negative")
        if not self.user_agent.strip():
            raise ConfigurationError("the LiveRC User-Agent must not be empty")

    @classmethod
    def from_env(cls) -> LiveRCConfig:
        """The settings the MRE_* environment asks for, defaults elsewhere."""
        try:
            contact = os.environ.get("MRE_LIVERC_CONTACT") or DEFAULT_CONTACT
            return cls(
                catalogue_url=os.environ.get("MRE_LIVERC_CATALOGUE_URL") or DEFAULT_CATALOGUE_URL,
                track_url_template=os.environ.get("MRE_LIVERC_TRACK_URL") or DEFAULT_TRACK_URL,
                scrape_enabled=env_flag("MRE_SCRAPE_ENABLED", True),
                min_interval_s=env_float("MRE_LIVERC_MIN_INTERVAL_S", DEFAULT_MIN_INTERVAL_S),
                timeout_s=env_float("MRE_LIVERC_TIMEOUT_S", DEFAULT_TIMEOUT_S),
                response_deadline_s=env_float("MRE_LIVERC_RESPONSE_DEADLINE_S", DEFAULT_RESPONSE_DEADLINE_S),
                max_retries=env_int("MRE_LIVERC_MAX_RETRIES", DEFAULT_MAX_RETRIES),
                max_response_bytes=env_int("MRE_LIVERC_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES),
                respect_robots=env_flag("MRE_LIVERC_RESPECT_ROBOTS", True),
                user_agent=os.environ.get("MRE_LIVERC_USER_AGENT") or default_user_agent(contact),
            )
        except ConfigurationError:
            raise
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
