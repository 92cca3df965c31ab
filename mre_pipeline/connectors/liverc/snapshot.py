"""Serve saved pages in place of HTTP, for tests and replays: a URL -> file mapping under one directory.

A :class:`SnapshotFetcher` has the same ``get_text`` / ``stats`` surface as the polite HTTP client, so
``LiveRCSource(config, client=SnapshotFetcher(...))`` runs every parser path without a socket. A URL missing
from the mapping behaves as a 404. URLs are compared with their query parameters sorted, so
``?id=5&p=view_event`` and ``?p=view_event&id=5`` are the same page.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mre_pipeline.connectors.base import FetchStats
from mre_pipeline.connectors.errors import ConnectorError, SourceHttpError


class PageFetcher(Protocol):
    """What :class:`LiveRCSource` needs from a fetcher (HTTP or snapshot)."""

    stats: FetchStats

    def get_text(self, url: str, not_found_ok: bool = False) -> str | None: ...


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, ``/`` for an empty path, query parameters sorted."""
    parts = urlsplit(url.strip())
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


class SnapshotFetcher:
    """Pages from ``directory`` (``mapping`` is URL -> path relative to it), or from in-memory text."""

    def __init__(
        self,
        directory: str | Path | None = None,
        mapping: Mapping[str, str] | None = None,
        texts: Mapping[str, str] | None = None,
    ):
        self.directory = Path(directory) if directory is not None else None
        self.files = {canonical_url(url): path for url, path in (mapping or {}).items()}
        self.texts = {canonical_url(url): text for url, text in (texts or {}).items()}
        self.stats = FetchStats()
        self.requested: list[str] = []

    def get_text(self, url: str, not_found_ok: bool = False) -> str | None:
        key = canonical_url(url)
        self.requested.append(url)
        self.stats.requests += 1
        text = self.texts.get(key)
        if text is None and key in self.files:
            base = self.directory or Path(".")
            try:
                text = (base / self.files[key]).read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise ConnectorError(f"snapshot file for {url} unreadable: {exc.strerror or exc}") from None
        if text is None:
            if not_found_ok:
                return None
            raise SourceHttpError(url, 404, "HTTP 404 (not in the snapshot)")
        self.stats.bytes_received += len(text.encode("utf-8"))
        return text
