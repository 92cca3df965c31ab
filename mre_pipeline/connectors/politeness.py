"""How politely to fetch a site: the settings every source shares, and how each reads them from its
``MRE_<SOURCE>_*`` variables.

A source's config is a frozen dataclass that extends :class:`Politeness` with where the site is; the polite
client (``connectors/http.py``) reads only these fields and ``site_name``.

Per source (``<SOURCE>`` is ``LIVERC``, ``EVERLAPS``, ...), all optional:
``MIN_INTERVAL_S`` (seconds between the end of one response and the next request to a host, default 1),
``TIMEOUT_S`` (connect/read, default 30, never more than the deadline), ``RESPONSE_DEADLINE_S`` (the whole
response, default 20, never retried when exceeded), ``MAX_RETRIES`` (after a connection error, timeout, 429
or 5xx, default 4), ``MAX_RESPONSE_BYTES`` (default 10 MiB), ``RESPECT_ROBOTS`` (default on),
``USER_AGENT`` (replaces the honest default) or ``CONTACT`` (only changes the contact the default names).
``MRE_SCRAPE_ENABLED`` is the one kill switch for every source.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mre_pipeline import __version__
from mre_pipeline.connectors.errors import ConfigurationError
from mre_pipeline.settings import env_flag, env_float, env_int

DEFAULT_CONTACT = "data@myraceengineer.app"
DEFAULT_MIN_INTERVAL_S = 1.0
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RETRIES = 4
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
# The largest captured page (the 615 KB LiveRC catalogue) arrives in well under a second; 20 s leaves room for
# a slow site while bounding how long one response can hold a fetching slot.
DEFAULT_RESPONSE_DEADLINE_S = 20.0
DEFAULT_MAX_REDIRECTS = 5
# The fields a Dagster resource may override (see connectors/resources.py).
OVERRIDABLE = (
    "min_interval_s",
    "timeout_s",
    "response_deadline_s",
    "max_retries",
    "respect_robots",
    "scrape_enabled",
    "user_agent",
    "max_response_bytes",
)


def default_user_agent(contact: str = DEFAULT_CONTACT) -> str:
    """Honest: names the project, what it does, and who to contact."""
    return (
        f"mre-pipeline/{__version__} (My Race Engineer results ingestion; on-demand, rate-limited; "
        f"contact: {contact})"
    )


@dataclass(frozen=True)
class Politeness:
    """The polite client's settings; invalid values raise ConfigurationError naming the site."""

    site_name: ClassVar[str] = "the timing source"
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
        site = self.site_name
        if self.min_interval_s < 0 or self.max_retries < 0 or self.backoff_base_s < 0:
            raise ConfigurationError(f"{site} interval, retries and backoff must not be negative")
        if self.timeout_s <= 0 or self.max_response_bytes <= 0 or self.response_deadline_s <= 0:
            raise ConfigurationError(f"{site} timeout, response deadline and response cap must be positive")
        if self.max_redirects < 0:
            raise ConfigurationError(f"the number of {site} redirects to follow must not be negative")
        if not self.user_agent.strip():
            raise ConfigurationError(f"the {site} User-Agent must not be empty")


def politeness_from_env(prefix: str) -> dict[str, Any]:
    """The :class:`Politeness` fields from ``MRE_<prefix>_*`` (defaults where unset)."""
    var = f"MRE_{prefix}_"
    try:
        contact = os.environ.get(var + "CONTACT") or DEFAULT_CONTACT
        return {
            "scrape_enabled": env_flag("MRE_SCRAPE_ENABLED", True),
            "min_interval_s": env_float(var + "MIN_INTERVAL_S", DEFAULT_MIN_INTERVAL_S),
            "timeout_s": env_float(var + "TIMEOUT_S", DEFAULT_TIMEOUT_S),
            "response_deadline_s": env_float(var + "RESPONSE_DEADLINE_S", DEFAULT_RESPONSE_DEADLINE_S),
            "max_retries": env_int(var + "MAX_RETRIES", DEFAULT_MAX_RETRIES),
            "max_response_bytes": env_int(var + "MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES),
            "respect_robots": env_flag(var + "RESPECT_ROBOTS", True),
            "user_agent": os.environ.get(var + "USER_AGENT") or default_user_agent(contact),
        }
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
