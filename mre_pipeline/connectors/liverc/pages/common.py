"""What every page parser shares: the lxml document, class selectors, the breadcrumb, and the guard that
turns every failure into a typed PageFormatError.

lxml is used directly (no BeautifulSoup): it parses the 615 KB catalogue in a few milliseconds, where a
full soup takes hundreds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from urllib.parse import parse_qs, urlsplit

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from mre_pipeline.connectors.errors import (
    ConnectorError,
    ImplausibleRecordError,
    MaintenancePageError,
    PageFormatError,
    TruncatedPageError,
    UnrecognisedPageError,
)
from mre_pipeline.connectors.liverc.values import clean

P = ParamSpec("P")
R = TypeVar("R")


class Missing(Exception):
    """Raised inside a parser for "this required part is not there"; the guard types it."""


class Implausible(Exception):
    """Raised inside a parser for "this cannot be right"; the guard types it with the race and driver."""

    def __init__(
        self,
        problem: str,
        race_id: int | None = None,
        driver_id: int | None = None,
        driver_name: str | None = None,
    ):
        super().__init__(problem)
        self.problem = problem
        self.race_id = race_id
        self.driver_id = driver_id
        self.driver_name = driver_name


# Text that marks each page type; a page with none of it is not that page at all.
_STRUCTURE = {
    "catalogue": re.compile(r"track_list"),
    "events": re.compile(r"""id\s*=\s*["']?events\b"""),
    "event": re.compile(r"entry_list_data|page-header"),
    "race": re.compile(r"race_result|racerLaps"),
    "entry-list": re.compile(r"tab-pane|page-header"),
}
_MAINTENANCE = re.compile(
    r"maintenance|temporarily unavailable|be back (?:soon|shortly)|scheduled downtime", re.IGNORECASE
)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_END = re.compile(r"</html\s*>", re.IGNORECASE)
_HTML_START = re.compile(r"<!doctype\s+html|<html", re.IGNORECASE)
_END_WINDOW = 4096  # the closing tag sits in the last few hundred bytes of every LiveRC page


def page_is_complete(text: str) -> bool:
    """The page reaches its closing ``</html>`` (LiveRC always sends it; a cut-off download does not)."""
    return _END.search(text, max(0, len(text) - _END_WINDOW)) is not None


def page_title(text: str) -> str | None:
    match = _TITLE.search(text, 0, 20_000)
    return clean(match.group(1))[:120] or None if match else None


def looks_like_html(text: str) -> bool:
    return _HTML_START.search(text, 0, 2048) is not None


def refusal(page_type: str, url: str | None, html: str | bytes, detail: str) -> PageFormatError:
    """The typed error for a page that could not be parsed: maintenance, cut short, not this page type at
    all, or malformed (in that order)."""
    text = as_text(html)
    if not text.strip():
        return UnrecognisedPageError(page_type, url, "content (the answer is empty)", None)
    structured = _STRUCTURE[page_type].search(text) is not None
    if not structured and _MAINTENANCE.search(text, 0, 50_000):
        return MaintenancePageError(page_type, url, detail)
    if looks_like_html(text) and not page_is_complete(text):
        return TruncatedPageError(page_type, url, detail)
    if not structured:
        return UnrecognisedPageError(page_type, url, detail, page_title(text))
    return PageFormatError(page_type, url, detail)


def guarded(page_type: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn every failure of a parser into a typed PageFormatError for ``page_type``, and refuse a page
    that does not reach its end even when what was read of it parsed.

    Parsers take the page as their first argument and ``url`` as a keyword so the error can name it.
    """

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            url = kwargs.get("url")
            html = args[0] if args else ""
            try:
                result = fn(*args, **kwargs)
            except ConnectorError:
                raise
            except Implausible as exc:
                text = as_text(html)
                if looks_like_html(text) and not page_is_complete(text):  # the cut is the cause
                    raise TruncatedPageError(page_type, url, exc.problem) from None
                raise ImplausibleRecordError(
                    page_type,
                    url,
                    exc.problem,
                    race_id=exc.race_id,
                    driver_id=exc.driver_id,
                    driver_name=exc.driver_name,
                ) from None
            except Missing as exc:
                raise refusal(page_type, url, html, str(exc)) from None
            except RecursionError:
                raise refusal(page_type, url, html, "markup nested too deeply to read") from None
            except (
                ValueError,
                TypeError,
                KeyError,
                IndexError,
                AttributeError,
                OverflowError,
                UnicodeError,
            ) as exc:
                raise refusal(page_type, url, html, f"content it cannot read ({exc})") from None
            except etree.LxmlError:
                raise refusal(page_type, url, html, "markup that cannot be read") from None
            if not page_is_complete(as_text(html)):
                raise TruncatedPageError(page_type, url, "the closing </html> tag")
            return result

        return inner

    return wrap


def as_text(html: str | bytes) -> str:
    """Pages are UTF-8; undecodable bytes become U+FFFD rather than an error."""
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    return text.replace("\x00", "") if "\x00" in text else text


def document(html: str | bytes) -> HtmlElement:
    """The ``<html>`` root of a page (lxml recovers from broken markup the way browsers do).

    libxml2 stops building the tree past 256 levels of nesting and drops the rest of the page without an
    exception; that is refused here, or a page could silently lose its last rows.
    """
    text = as_text(html)
    if not text.strip():
        raise Missing("page content (the page is empty)")
    parser = lxml.html.HTMLParser()
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except ValueError:  # e.g. an XML encoding declaration in a str: parse the bytes instead
        parser = lxml.html.HTMLParser()
        try:
            root = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
        except (etree.ParserError, ValueError) as exc:
            raise Missing(f"parsable HTML ({exc})") from None
    except etree.ParserError as exc:
        raise Missing(f"parsable HTML ({exc})") from None
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
        raise Missing("markup nested too deeply to be read to the end")
    return root


def has_class(name: str) -> str:
    """XPath predicate body: the element's class list contains ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def xpath(expression: str) -> etree.XPath:
    return etree.XPath(expression)


def first(nodes: list) -> HtmlElement | None:
    return nodes[0] if nodes else None


def require(node: HtmlElement | None, what: str) -> HtmlElement:
    if node is None:
        raise Missing(f"missing {what}")
    return node


def child_cells(row: HtmlElement, tag: str = "td") -> list[HtmlElement]:
    return [c for c in row if c.tag == tag]


_HEADINGS = {tag: xpath(f"//{tag}[{has_class('page-header')}]") for tag in ("h1", "h3", "h5")}


def heading(root: HtmlElement, tag: str) -> str | None:
    """Breadcrumb heading text (``h1``/``h3``/``h5`` ``.page-header``) without its icon."""
    node = first(_HEADINGS[tag](root))
    return clean(node.text_content()) or None if node is not None else None


def query_id(href: str | None, page: str) -> int | None:
    """The ``id`` of a ``/results/?p=<page>&id=<n>`` link, in any parameter order or encoding."""
    if not href:
        return None
    query = parse_qs(urlsplit(href.strip()).query)
    if query.get("p", [None])[0] != page:
        return None
    raw = query.get("id", [""])[0].strip()
    return int(raw) if raw.isdecimal() and raw.isascii() and len(raw) < 19 else None


_STATS_ROWS = xpath(f"//div[{has_class('col-lg-4')}]//table//tr")


def stats_card(root: HtmlElement) -> dict[str, str]:
    """The right-hand "Event Stats" card as label -> text (``<br />`` becomes a space)."""
    stats: dict[str, str] = {}
    for row in _STATS_ROWS(root):
        th, td = row.find("th"), row.find("td")
        if th is not None and td is not None:
            stats[clean(th.text_content()).lower()] = clean(" ".join(td.itertext()))
    return stats


def refuse_problems(problems: list[str]) -> None:
    """Raise the first problem a plausibility rule found (the page is refused as a whole)."""
    if problems:
        raise Implausible(problems[0])
