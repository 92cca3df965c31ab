"""LiveRC connector settings, read from the environment (documented in the README).

MRE_LIVERC_CATALOGUE_URL (default https://live.liverc.com/), MRE_LIVERC_TRACK_URL (https://{slug}.liverc.com),
MRE_SCRAPE_ENABLED (kill switch, default on), MRE_LIVERC_MIN_INTERVAL_S (1), MRE_LIVERC_TIMEOUT_S (30),
MRE_LIVERC_MAX_RETRIES (4), MRE_LIVERC_USER_AGENT, MRE_LIVERC_CONTACT, MRE_LIVERC_MAX_RESPONSE_BYTES (10 MB),
MRE_LIVERC_RESPECT_ROBOTS (on).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from mre_pipeline import __version__
from mre_pipeline.settings import env_flag, env_float, env_int

DEFAULT_CATALOGUE_URL = "https://live.liverc.com/"
DEFAULT_TRACK_URL = "https://{slug}.liverc.com"
DEFAULT_CONTACT = "data@myraceengineer.app"


def default_user_agent(contact: str) -> str:
    """Honest: names the project, what it does, and who to contact."""
    return f"mre-pipeline/{__version__} (My Race Engineer results ingestion; on-demand, rate-limited; contact: {contact})"


@dataclass(frozen=True)
class LiveRCConfig:
    catalogue_url: str = DEFAULT_CATALOGUE_URL
    track_url_template: str = DEFAULT_TRACK_URL
    scrape_enabled: bool = True
    min_interval_s: float = 1.0
    timeout_s: float = 30.0
    max_retries: int = 4
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    max_response_bytes: int = 10 * 1024 * 1024
    respect_robots: bool = True
    robots_ttl_s: float = 24 * 3600.0
    user_agent: str = field(default_factory=lambda: default_user_agent(DEFAULT_CONTACT))

    def __post_init__(self) -> None:
        if "{slug}" not in self.track_url_template:
            raise ValueError(f"MRE_LIVERC_TRACK_URL must contain '{{slug}}', got {self.track_url_template!r}")
        if self.min_interval_s < 0 or self.timeout_s <= 0 or self.max_retries < 0:
            raise ValueError("LiveRC politeness settings must be non-negative (timeout positive)")

    @classmethod
    def from_env(cls) -> LiveRCConfig:
        contact = os.environ.get("MRE_LIVERC_CONTACT") or DEFAULT_CONTACT
        return cls(
            catalogue_url=os.environ.get("MRE_LIVERC_CATALOGUE_URL") or DEFAULT_CATALOGUE_URL,
            track_url_template=os.environ.get("MRE_LIVERC_TRACK_URL") or DEFAULT_TRACK_URL,
            scrape_enabled=env_flag("MRE_SCRAPE_ENABLED", True),
            min_interval_s=env_float("MRE_LIVERC_MIN_INTERVAL_S", 1.0),
            timeout_s=env_float("MRE_LIVERC_TIMEOUT_S", 30.0),
            max_retries=env_int("MRE_LIVERC_MAX_RETRIES", 4),
            max_response_bytes=env_int("MRE_LIVERC_MAX_RESPONSE_BYTES", 10 * 1024 * 1024),
            respect_robots=env_flag("MRE_LIVERC_RESPECT_ROBOTS", True),
            user_agent=os.environ.get("MRE_LIVERC_USER_AGENT") or default_user_agent(contact),
        )
