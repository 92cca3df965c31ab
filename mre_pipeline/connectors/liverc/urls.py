"""Every LiveRC URL, built from configuration and validated ids; hrefs from pages are never followed."""

from __future__ import annotations

import re

from mre_pipeline.connectors.errors import InvalidIdentifierError
from mre_pipeline.connectors.liverc.config import LiveRCConfig

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def valid_slug(slug: str) -> str:
    """The canonical (lower-case) slug; anything that could change the host or path is refused."""
    if not isinstance(slug, str):
        raise InvalidIdentifierError(f"a track slug must be a string, got {slug!r}")
    canonical = slug.lower()
    if not _SLUG.fullmatch(canonical):
        raise InvalidIdentifierError(f"{slug!r} is not a LiveRC track slug (letters, digits and '-' only)")
    return canonical


def valid_id(value: int, what: str) -> int:
    """A positive int (bools and numeric strings are refused: ids come typed from parsers or callers)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidIdentifierError(f"{what} must be a positive integer, got {value!r}")
    return value


class LiveRCUrls:
    """Build page URLs from configuration only: ids go in, validated; nothing is taken from a page."""

    def __init__(self, config: LiveRCConfig):
        self.config = config

    def catalogue(self) -> str:
        return self.config.catalogue_url

    def track_base(self, slug: str) -> str:
        return self.config.track_url_template.replace("{slug}", valid_slug(slug)).rstrip("/")

    def events(self, slug: str) -> str:
        return f"{self.track_base(slug)}/events/"

    def _results(self, slug: str, page: str, object_id: int, what: str) -> str:
        return f"{self.track_base(slug)}/results/?p={page}&id={valid_id(object_id, what)}"

    def event(self, slug: str, event_id: int) -> str:
        return self._results(slug, "view_event", event_id, "event id")

    def race(self, slug: str, race_id: int) -> str:
        return self._results(slug, "view_race_result", race_id, "race id")

    def entry_list(self, slug: str, event_id: int) -> str:
        return self._results(slug, "view_entry_list", event_id, "event id")
