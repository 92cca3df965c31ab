"""The Everlaps connector: JSON endpoints POSTed politely (``http``), URLs from config only (``urls``),
payload parsers (``payloads``), and :class:`EverlapsSource`, which returns the source-neutral records. The
Dagster resource lives in ``resource`` (not imported here, so this package stays Dagster-free).
"""

from mre_pipeline.connectors.everlaps.config import EverlapsConfig
from mre_pipeline.connectors.everlaps.http import EverlapsHttpFetcher
from mre_pipeline.connectors.everlaps.source import EverlapsSource

__all__ = ["EverlapsConfig", "EverlapsHttpFetcher", "EverlapsSource"]
