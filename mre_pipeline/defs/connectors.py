"""Which Dagster resource serves which timing source: the one place a source name meets its connector.

The ``event_results`` asset takes every source's resource and hands them here with the partition's source;
a source without a resource here cannot be ingested (``ingestion/sources.py`` says which sources may be
asked for).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from mre_pipeline.connectors.base import EventSource
from mre_pipeline.connectors.pacing import HostPacer


class EventSourceResource(Protocol):
    """A Dagster resource that builds a fresh connector for one run."""

    def get_source(self, pacer: HostPacer | None = None) -> EventSource: ...


class NoConnectorError(LookupError):
    """The partition names a source this code location has no connector for."""


def event_source(
    source: str, resources: Mapping[str, EventSourceResource], pacer: HostPacer | None = None
) -> EventSource:
    """The connector for ``source`` from ``resources`` (source name -> resource), taking its per-host turns
    from ``pacer``."""
    resource = resources.get(source)
    if resource is None:
        raise NoConnectorError(f"this pipeline has no connector for {source!r} events")
    connector = resource.get_source(pacer)
    if connector.source != source:
        raise NoConnectorError(f"the {source!r} resource builds a {connector.source!r} connector")
    return connector
