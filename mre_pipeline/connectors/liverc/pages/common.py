"""What every page parser shares: the soup, the breadcrumb, and the guard that types every failure."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup, Tag

from mre_pipeline.connectors.errors import ConnectorError, PageFormatError
from mre_pipeline.connectors.liverc.values import clean

P = ParamSpec("P")
R = TypeVar("R")


class Missing(Exception):
    """Raised inside a parser for "this required part is not there"; the guard types it."""


def guarded(page_type: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn every unexpected exception of a parser into a PageFormatError for ``page_type``.

    Parsers take ``url`` as a keyword so the error can name it.
    """

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            url = kwargs.get("url")
            try:
                return fn(*args, **kwargs)
            except ConnectorError:
                raise
            except Missing as exc:
                raise PageFormatError(page_type, url, str(exc)) from None
            except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
                raise PageFormatError(
                    page_type, url, f"unexpected content ({type(exc).__name__}: {exc})"
                ) from None

        return inner

    return wrap


def soup_of(html: str | bytes) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def require(node: Tag | None, what: str) -> Tag:
    if node is None:
        raise Missing(f"missing {what}")
    return node


def heading(soup: BeautifulSoup, tag: str) -> str | None:
    """Breadcrumb heading text (``h1``/``h3``/``h5`` ``.page-header``) without its icon."""
    node = soup.select_one(f"{tag}.page-header")
    return clean(node.get_text()) or None if node is not None else None


def query_id(href: str | None, page: str) -> int | None:
    """The ``id`` of a ``/results/?p=<page>&id=<n>`` link, in any parameter order or encoding."""
    if not href:
        return None
    query = parse_qs(urlsplit(href).query)
    if query.get("p", [None])[0] != page:
        return None
    raw = query.get("id", [""])[0]
    return int(raw) if raw.isdigit() else None
