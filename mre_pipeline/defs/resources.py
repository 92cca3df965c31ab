"""The warehouse as a Dagster resource (the LiveRC connector resource lives in connectors/liverc)."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from mre_pipeline.warehouse.engine import get_engine
from mre_pipeline.warehouse.server import resolve_urls


class WarehouseResource(dg.ConfigurableResource):
    """Postgres warehouse. ``url`` defaults to MRE_DATABASE_URL, else the embedded server."""

    url: str | None = None

    def get_engine(self) -> sa.Engine:
        return get_engine(self.url or resolve_urls().warehouse)
