"""LiveRC connector settings, read from the environment once and then passed around as a frozen value.

Environment variables (all optional):

- ``MRE_LIVERC_CATALOGUE_URL``: the track catalogue (default ``https://live.liverc.com/``).
- ``MRE_LIVERC_TRACK_URL``: a track's site, with ``{slug}`` (default ``https://{slug}.liverc.com``); a
  path-style form such as ``http://127.0.0.1:8000/t/{slug}`` lets one loopback server play every track.
- The politeness knobs ``MRE_LIVERC_MIN_INTERVAL_S``, ``_TIMEOUT_S``, ``_RESPONSE_DEADLINE_S``, ``_MAX_RETRIES``,
  ``_MAX_RESPONSE_BYTES``, ``_RESPECT_ROBOTS``, ``_USER_AGENT``/``_CONTACT`` and the shared kill switch
  ``MRE_SCRAPE_ENABLED``: see ``connectors/politeness.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from mre_pipeline.connectors.errors import ConfigurationError
from mre_pipeline.connectors.politeness import Politeness, politeness_from_env

DEFAULT_CATALOGUE_URL = "https://live.liverc.com/"
DEFAULT_TRACK_URL = "https://{slug}.liverc.com"


def _check_http_url(value: str, name: str) -> None:
    parts = urlsplit(value.replace("{slug}", "slug"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{name} must be an http(s) URL, got {value!r}")


@dataclass(frozen=True)
class LiveRCConfig(Politeness):
    """Where LiveRC is and how politely to fetch it. Invalid values raise ConfigurationError."""

    site_name: ClassVar[str] = "LiveRC"  # how messages name the source
    catalogue_url: str = DEFAULT_CATALOGUE_URL
    track_url_template: str = DEFAULT_TRACK_URL

    def __post_init__(self) -> None:
        _check_http_url(self.catalogue_url, "MRE_LIVERC_CATALOGUE_URL")
        _check_http_url(self.track_url_template, "MRE_LIVERC_TRACK_URL")
        if self.track_url_template.count("{slug}") != 1:
            raise ConfigurationError(
                f"MRE_LIVERC_TRACK_URL must contain '{{slug}}' once, got {self.track_url_template!r}"
            )
        super().__post_init__()

    @classmethod
    def from_env(cls) -> LiveRCConfig:
        """The settings the MRE_* environment asks for, defaults elsewhere."""
        return cls(
            catalogue_url=os.environ.get("MRE_LIVERC_CATALOGUE_URL") or DEFAULT_CATALOGUE_URL,
            track_url_template=os.environ.get("MRE_LIVERC_TRACK_URL") or DEFAULT_TRACK_URL,
            **politeness_from_env("LIVERC"),
        )
