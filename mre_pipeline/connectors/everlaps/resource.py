"""The Everlaps connector as a Dagster resource: the one module of this folder that imports Dagster.

As ``liverc/resource.py``: no logic, config in, :class:`EverlapsSource` out. Unset fields fall back to the
environment (see ``config.py``): MRE_EVERLAPS_URL, MRE_EVERLAPS_MIN_INTERVAL_S (default 1),
MRE_EVERLAPS_TIMEOUT_S, MRE_EVERLAPS_MAX_RETRIES, MRE_EVERLAPS_USER_AGENT, MRE_EVERLAPS_MAX_RESPONSE_BYTES,
MRE_EVERLAPS_RESPECT_ROBOTS, MRE_SCRAPE_ENABLED (default on; 0/false/no/off disables).
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from mre_pipeline.connectors.everlaps.config import EverlapsConfig
from mre_pipeline.connectors.everlaps.http import EverlapsHttpFetcher
from mre_pipeline.connectors.everlaps.source import EverlapsSource
from mre_pipeline.connectors.pacing import HostPacer


class EverlapsResource(dg.ConfigurableResource):
    """Everlaps over HTTP. Each ``get_source()`` is a fresh connector with its own pacing and counters."""

    base_url: str | None = Field(default=None, description="Default: MRE_EVERLAPS_URL.")
    min_interval_s: float | None = Field(default=None, description="Seconds between requests to the host.")
    timeout_s: float | None = None
    max_retries: int | None = None
    respect_robots: bool | None = None
    scrape_enabled: bool | None = Field(default=None, description="Kill switch. Default: MRE_SCRAPE_ENABLED.")
    user_agent: str | None = None
    max_response_bytes: int | None = None

    def config(self) -> EverlapsConfig:
        """Environment defaults, overridden by every field that is set."""
        base = EverlapsConfig.from_env()
        overrides = {
            "base_url": self.base_url,
            "min_interval_s": self.min_interval_s,
            "timeout_s": self.timeout_s,
            "max_retries": self.max_retries,
            "respect_robots": self.respect_robots,
            "scrape_enabled": self.scrape_enabled,
            "user_agent": self.user_agent,
            "max_response_bytes": self.max_response_bytes,
        }
        fields = {**base.__dict__, **{k: v for k, v in overrides.items() if v is not None}}
        return EverlapsConfig(**fields)

    def get_source(self, pacer: HostPacer | None = None) -> EverlapsSource:
        """``pacer``: the per-host turn-taking to use (the warehouse's shared ledger in the pipeline)."""
        config = self.config()
        return EverlapsSource(config, fetcher=EverlapsHttpFetcher(config, pacer=pacer))
