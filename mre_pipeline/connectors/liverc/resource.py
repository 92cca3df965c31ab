"""The LiveRC connector as Dagster resources: the one module of ``connectors/`` that imports Dagster.

The design notes keep Dagster out of connectors; this module is the accepted exception, because a
``ConfigurableResource`` is how Dagster configures a connector. It holds no logic: it turns config into a
:class:`~mre_pipeline.connectors.liverc.config.LiveRCConfig` and returns a :class:`LiveRCSource` (an event
source with a track catalogue and event discovery, see ``connectors/base.py``).

Unset fields fall back to the environment (see ``config.py``): MRE_LIVERC_CATALOGUE_URL,
MRE_LIVERC_TRACK_URL, MRE_LIVERC_MIN_INTERVAL_S (default 1), MRE_LIVERC_TIMEOUT_S,
MRE_LIVERC_RESPONSE_DEADLINE_S (default 20), MRE_LIVERC_MAX_RETRIES,
MRE_LIVERC_USER_AGENT, MRE_LIVERC_MAX_RESPONSE_BYTES, MRE_SCRAPE_ENABLED (default on; 0/false/no/off
disables), MRE_LIVERC_RESPECT_ROBOTS (default on).
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from mre_pipeline.connectors.http import PoliteHttpClient
from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.snapshot import SnapshotFetcher
from mre_pipeline.connectors.liverc.source import LiveRCSource
from mre_pipeline.connectors.pacing import HostPacer


class LiveRCResource(dg.ConfigurableResource):
    """LiveRC over HTTP. Each ``get_source()`` is a fresh connector with its own pacing and counters."""

    catalogue_url: str | None = Field(default=None, description="Default: MRE_LIVERC_CATALOGUE_URL.")
    track_url_template: str | None = Field(
        default=None, description="With {slug}. Default: MRE_LIVERC_TRACK_URL."
    )
    min_interval_s: float | None = Field(default=None, description="Seconds between requests to one host.")
    timeout_s: float | None = None
    response_deadline_s: float | None = Field(
        default=None, description="Seconds for a whole response. Default: MRE_LIVERC_RESPONSE_DEADLINE_S."
    )
    max_retries: int | None = None
    respect_robots: bool | None = None
    scrape_enabled: bool | None = Field(default=None, description="Kill switch. Default: MRE_SCRAPE_ENABLED.")
    user_agent: str | None = None
    max_response_bytes: int | None = None

    def config(self) -> LiveRCConfig:
        """Environment defaults, overridden by every field that is set."""
        base = LiveRCConfig.from_env()
        overrides = {
            "catalogue_url": self.catalogue_url,
            "track_url_template": self.track_url_template,
            "min_interval_s": self.min_interval_s,
            "timeout_s": self.timeout_s,
            "response_deadline_s": self.response_deadline_s,
            "max_retries": self.max_retries,
            "respect_robots": self.respect_robots,
            "scrape_enabled": self.scrape_enabled,
            "user_agent": self.user_agent,
            "max_response_bytes": self.max_response_bytes,
        }
        fields = {**base.__dict__, **{k: v for k, v in overrides.items() if v is not None}}
        return LiveRCConfig(**fields)

    def get_source(self, pacer: HostPacer | None = None) -> LiveRCSource:
        """``pacer``: whose turn it is per host; give the warehouse's shared ledger so that runs in other
        processes and on other machines keep the interval too (default: this process only)."""
        config = self.config()
        return LiveRCSource(config, client=PoliteHttpClient(config, pacer=pacer))


class SnapshotLiveRCResource(LiveRCResource):
    """LiveRC from saved pages, no HTTP: ``pages`` maps each URL (as built from the config) to a file
    under ``directory``; any other URL answers 404. A subclass, so it binds wherever LiveRCResource does."""

    directory: str = Field(description="Folder the page paths are relative to.")
    pages: dict[str, str] = Field(default_factory=dict, description="URL -> file path under directory.")

    def get_source(self, pacer: HostPacer | None = None) -> LiveRCSource:
        return LiveRCSource(self.config(), client=SnapshotFetcher(self.directory, self.pages))
