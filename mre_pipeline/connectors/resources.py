"""The politeness fields every source's Dagster resource shares (a module that imports Dagster, like each
source's ``resource.py``; no logic beyond merging set fields over the environment's defaults)."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import dagster as dg
from pydantic import Field

from mre_pipeline.connectors.politeness import OVERRIDABLE, Politeness

C = TypeVar("C", bound=Politeness)


class PoliteSourceResource(dg.ConfigurableResource):
    """Unset fields fall back to the source's ``MRE_<SOURCE>_*`` variables (connectors/politeness.py)."""

    min_interval_s: float | None = Field(default=None, description="Seconds between requests to one host.")
    timeout_s: float | None = None
    response_deadline_s: float | None = Field(default=None, description="Seconds for a whole response.")
    max_retries: int | None = None
    respect_robots: bool | None = None
    scrape_enabled: bool | None = Field(default=None, description="Kill switch. Default: MRE_SCRAPE_ENABLED.")
    user_agent: str | None = None
    max_response_bytes: int | None = None

    def with_overrides(self, config: C, **site: Any) -> C:
        """``config`` (the environment's) with every field set on this resource, and ``site``'s, replacing it."""
        fields = {name: getattr(self, name) for name in OVERRIDABLE} | site
        return dataclasses.replace(config, **{k: v for k, v in fields.items() if v is not None})
