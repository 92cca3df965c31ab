"""The Everlaps connector as a Dagster resource (as ``liverc/resource.py``: no logic, config in,
:class:`EverlapsSource` out). Unset fields fall back to MRE_EVERLAPS_URL and the politeness variables of
``connectors/politeness.py``.
"""

from __future__ import annotations

from pydantic import Field

from mre_pipeline.connectors.everlaps.config import EverlapsConfig
from mre_pipeline.connectors.everlaps.http import EverlapsHttpFetcher
from mre_pipeline.connectors.everlaps.source import EverlapsSource
from mre_pipeline.connectors.pacing import HostPacer
from mre_pipeline.connectors.resources import PoliteSourceResource


class EverlapsResource(PoliteSourceResource):
    """Everlaps over HTTP. Each ``get_source()`` is a fresh connector with its own counters."""

    base_url: str | None = Field(default=None, description="Default: MRE_EVERLAPS_URL.")

    def config(self) -> EverlapsConfig:
        """Environment defaults, overridden by every field that is set."""
        return self.with_overrides(EverlapsConfig.from_env(), base_url=self.base_url)

    def get_source(self, pacer: HostPacer | None = None) -> EverlapsSource:
        """``pacer``: the per-host turn-taking to use (the warehouse's shared ledger in the pipeline)."""
        config = self.config()
        return EverlapsSource(config, fetcher=EverlapsHttpFetcher(config, pacer=pacer))
