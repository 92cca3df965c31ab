"""Everlaps connector settings, read from the environment once and then passed around as a frozen value.

Environment variables (all optional):

- ``MRE_EVERLAPS_URL``: the site (default ``https://everlaps.com``). Every Everlaps URL is built from it, so
  a loopback stand-in such as ``http://127.0.0.1:8001`` (a path prefix is allowed) can play the site.
- The politeness knobs ``MRE_EVERLAPS_MIN_INTERVAL_S``, ``_TIMEOUT_S``, ``_RESPONSE_DEADLINE_S``,
  ``_MAX_RETRIES``, ``_MAX_RESPONSE_BYTES`` (default 10 MiB; the whole captured event 3702 is 0.75 MB, its
  largest node about 35 KB), ``_RESPECT_ROBOTS``, ``_USER_AGENT``/``_CONTACT`` and the kill switch
  ``MRE_SCRAPE_ENABLED`` shared with LiveRC: see ``connectors/politeness.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from mre_pipeline.connectors.errors import ConfigurationError
from mre_pipeline.connectors.politeness import Politeness, politeness_from_env

DEFAULT_URL = "https://everlaps.com"


def _site_url(value: str) -> str:
    """``scheme://host[:port][/prefix]`` without a trailing slash; anything else is a configuration error."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"MRE_EVERLAPS_URL must be an http(s) URL, got {value!r}")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"MRE_EVERLAPS_URL must not carry a query or fragment, got {value!r}")
    return value.strip().rstrip("/")


@dataclass(frozen=True)
class EverlapsConfig(Politeness):
    """Where Everlaps is and how politely to fetch it. Invalid values raise ConfigurationError."""

    site_name: ClassVar[str] = "Everlaps"  # how messages name the source
    base_url: str = DEFAULT_URL

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", _site_url(self.base_url))
        super().__post_init__()

    @classmethod
    def from_env(cls) -> EverlapsConfig:
        """The settings the MRE_* environment asks for, defaults elsewhere."""
        return cls(
            base_url=os.environ.get("MRE_EVERLAPS_URL") or DEFAULT_URL, **politeness_from_env("EVERLAPS")
        )
