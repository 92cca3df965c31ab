"""The LiveRC connector: polite HTTP (``http``), URL building from config only (``urls``), page parsers
(``pages``), and :class:`LiveRCSource`, the event source, track catalogue and event discovery built from
them (``connectors/base.py``). The Dagster resources live in ``resource`` (not imported here, so this package
stays Dagster-free).
"""

from mre_pipeline.connectors.http import PoliteHttpClient
from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.snapshot import SnapshotFetcher
from mre_pipeline.connectors.liverc.source import LiveRCSource

__all__ = ["LiveRCConfig", "LiveRCSource", "PoliteHttpClient", "SnapshotFetcher"]
