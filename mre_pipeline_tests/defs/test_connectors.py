"""The registry from source name to connector: every source the request rules accept has one, and the
connector it builds answers to that name."""

from __future__ import annotations

import pytest

from mre_pipeline.connectors.base import EventDiscovery, EventSource, TrackCatalogue
from mre_pipeline.defs.build import pipeline_definitions
from mre_pipeline.defs.connectors import NoConnectorError, event_source
from mre_pipeline.ingestion.sources import SOURCES


def test_every_ingestible_source_has_a_connector_in_the_code_location() -> None:
    resources = pipeline_definitions().resources
    for name, rules in SOURCES.items():
        if not rules.can_ingest:
            continue
        connector = event_source(name, resources)
        assert connector.source == name and isinstance(connector, EventSource)
        has_catalogue = isinstance(connector, TrackCatalogue) and isinstance(connector, EventDiscovery)
        assert has_catalogue is rules.has_catalogue, name


def test_a_source_without_a_connector_is_refused() -> None:
    resources = pipeline_definitions().resources
    with pytest.raises(NoConnectorError, match="no connector for 'mylaps' events"):
        event_source("mylaps", resources)
    with pytest.raises(NoConnectorError, match="the 'everlaps' resource builds a 'liverc' connector"):
        event_source("everlaps", {"everlaps": resources["liverc"]})
