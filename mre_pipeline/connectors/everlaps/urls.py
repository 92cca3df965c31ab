"""Every Everlaps endpoint URL, built from ``MRE_EVERLAPS_URL`` and validated ids; nothing taken from a payload.

The site answers ``POST`` with body ``{}`` on each of these (see ``http.py``); ``?l=en`` asks for English
section names ("Qualify", "Serie"), which is what the records carry.
"""

from __future__ import annotations

import re

from mre_pipeline.connectors.errors import InvalidIdentifierError
from mre_pipeline.connectors.everlaps.config import EverlapsConfig

# Postgres bigint, where the warehouse keeps source ids.
MAX_ID = 2**63 - 1
# A node path as the results tree prints it: the class id, then up to five small numbers ("7303/1/1/2").
_NODE_PATH = re.compile(r"[1-9][0-9]{0,17}(?:/[0-9]{1,9}){0,5}", re.ASCII)
LANGUAGE = "en"


def valid_id(value: int, what: str) -> int:
    """A positive int that fits a bigint (bools and numeric strings are refused: ids come typed)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise InvalidIdentifierError(f"{what} must be a positive integer, got {value!r}")
    return value


def valid_node_path(path: str) -> str:
    """A results-tree path such as ``7303/1/1/2``: digits and single slashes only, class id first."""
    if not isinstance(path, str) or not _NODE_PATH.fullmatch(path):
        raise InvalidIdentifierError(f"{path!r} is not an Everlaps results path (such as 7303/1/1/2)")
    return path


class EverlapsUrls:
    """Build endpoint URLs from configuration only: ids go in, validated."""

    def __init__(self, config: EverlapsConfig):
        self.base = config.base_url

    @property
    def api_prefix(self) -> str:
        """Every endpoint starts with this; the fetcher refuses to POST anywhere else."""
        return f"{self.base}/api/"

    def event_card(self, event_id: int) -> str:
        """The event card: title, dates, venue, map link, organiser, classes."""
        return f"{self.base}/api/frontend/event/{valid_id(event_id, 'an Everlaps event id')}"

    def results_tree(self, event_id: int) -> str:
        """The results tree: classes, their rounds and series, each node with its path."""
        return f"{self.base}/api/res/{valid_id(event_id, 'an Everlaps event id')}?l={LANGUAGE}"

    def node(self, event_id: int, path: str) -> str:
        """One node of the tree by its path: a class overview, a round, or a heat."""
        event = valid_id(event_id, "an Everlaps event id")
        return f"{self.base}/api/res/{event}/{valid_node_path(path)}?l={LANGUAGE}"

    def driver_detail(self, event_id: int, class_id: int, driver_id: int) -> str:
        """One driver's whole event in one class (every heat with its lap grid); not needed for ingestion."""
        event = valid_id(event_id, "an Everlaps event id")
        klass = valid_id(class_id, "an Everlaps class id")
        driver = valid_id(driver_id, "an Everlaps driver id")
        return f"{self.base}/api/res/{event}/{klass}/d={driver}?l={LANGUAGE}"
