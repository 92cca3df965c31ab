"""The LiveRC connector as a Dagster resource (the one module of connectors/ that imports Dagster).

Config fields default to the MRE_LIVERC_* / MRE_SCRAPE_ENABLED environment (see config.py); each
``get_source()`` call returns a fresh connector with its own request counters for one run step.
"""

from __future__ import annotations

import dagster as dg

from mre_pipeline.connectors.base import RaceDataSource
from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.source import LiveRCSource


class LiveRCResource(dg.ConfigurableResource):
    """LiveRC over HTTP. Unset fields fall back to the environment, then to the polite defaults."""

    catalogue_url: str | None = None
    track_url_template: str | None = None
    min_interval_s: float | None = None
    timeout_s: float | None = None
    max_retries: int | None = None
    respect_robots: bool | None = None
    scrape_enabled: bool | None = None
    user_agent: str | None = None

    def config(self) -> LiveRCConfig:
        base = LiveRCConfig.from_env()
        overrides = {
            "catalogue_url": self.catalogue_url,
            "track_url_template": self.track_url_template,
            "min_interval_s": self.min_interval_s,
            "timeout_s": self.timeout_s,
            "max_retries": self.max_retries,
            "respect_robots": self.respect_robots,
            "scrape_enabled": self.scrape_enabled,
            "user_agent": self.user_agent,
        }
        fields = {**base.__dict__, **{k: v for k, v in overrides.items() if v is not None}}
        return LiveRCConfig(**fields)

    def get_source(self) -> RaceDataSource:
        return LiveRCSource(self.config())
