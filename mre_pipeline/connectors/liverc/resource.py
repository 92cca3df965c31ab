"""The LiveRC connector as a Dagster resource.

The design notes keep Dagster out of connectors; the resource modules (this one, each source's, and the
shared ``connectors/resources.py``) are the accepted exception, because a ``ConfigurableResource`` is how
Dagster configures a connector. No logic: config in (``config.py``; unset fields fall back to
MRE_LIVERC_CATALOGUE_URL, MRE_LIVERC_TRACK_URL and the politeness variables of
``connectors/politeness.py``), a :class:`LiveRCSource` out (an event source with a track catalogue and event
discovery, see ``connectors/base.py``).
"""

from __future__ import annotations

from pydantic import Field

from mre_pipeline.connectors.http import PoliteHttpClient
from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.snapshot import SnapshotFetcher
from mre_pipeline.connectors.liverc.source import LiveRCSource
from mre_pipeline.connectors.pacing import HostPacer
from mre_pipeline.connectors.resources import PoliteSourceResource


class LiveRCResource(PoliteSourceResource):
    """LiveRC over HTTP. Each ``get_source()`` is a fresh connector with its own counters."""

    catalogue_url: str | None = Field(default=None, description="Default: MRE_LIVERC_CATALOGUE_URL.")
    track_url_template: str | None = Field(
        default=None, description="With {slug}. Default: MRE_LIVERC_TRACK_URL."
    )

    def config(self) -> LiveRCConfig:
        """Environment defaults, overridden by every field that is set."""
        return self.with_overrides(
            LiveRCConfig.from_env(),
            catalogue_url=self.catalogue_url,
            track_url_template=self.track_url_template,
        )

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
