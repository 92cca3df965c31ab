"""Typed connector errors. Nothing else (no KeyError, IndexError, AttributeError) leaves a connector.

Every message is written for the racer who asked for the data: one plain sentence per cause, the URL at
most once (in parentheses at the end), no Python class names.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class for every error a connector raises."""


class ScrapingDisabledError(ConnectorError):
    """The kill switch (MRE_SCRAPE_ENABLED=0) is off: no request was made."""


class ConfigurationError(ConnectorError, ValueError):
    """A connector setting (URL template, interval, ...) is invalid; raised before any request."""


class InvalidIdentifierError(ConnectorError):
    """A slug or id failed validation before any URL was built."""


class RobotsDisallowedError(ConnectorError):
    """robots.txt forbids the URL: no request was made."""

    def __init__(self, url: str):
        super().__init__(f"the site's robots.txt does not allow fetching this page ({url})")
        self.url = url


class SourceHttpError(ConnectorError):
    """The source answered with an error status, or could not be reached after retries.

    ``detail`` is the sentence without the URL, so a caller can rephrase it without repeating the URL.
    """

    def __init__(self, url: str, status: int | None, message: str | None = None):
        detail = message or (f"HTTP {status}" if status is not None else "no response")
        super().__init__(f"{detail} ({url})")
        self.url = url
        self.status = status
        self.detail = detail


class ResponseTooLargeError(SourceHttpError):
    """The body exceeded the configured size cap."""


class ResponseDeadlineError(SourceHttpError):
    """The whole response did not arrive within the per-response deadline (a trickling server).

    Never retried: a server that trickles is not a transient fault, and retries would multiply the time
    the single source slot is held.
    """


class RedirectRefusedError(SourceHttpError):
    """A redirect was not followed: to another host (``target``), or too many hops. No request was sent
    to the redirect target."""

    def __init__(self, url: str, status: int | None, message: str, target: str | None = None):
        super().__init__(url, status, message)
        self.target = target


class PageFormatError(ConnectorError):
    """A page did not have the shape the parser expects."""

    def __init__(self, page_type: str, url: str | None, missing: str, *, message: str | None = None):
        where = f" ({url})" if url else ""
        super().__init__((message or f"the {page_type} page is malformed: {missing}") + where)
        self.page_type = page_type
        self.url = url
        self.missing = missing


class TruncatedPageError(PageFormatError):
    """The page ends before its content does (download cut short, or the server stopped mid-page)."""

    def __init__(self, page_type: str, url: str | None, missing: str):
        super().__init__(
            page_type,
            url,
            missing,
            message=f"the {page_type} page ends before its content is complete, as if it was cut short",
        )


class MaintenancePageError(PageFormatError):
    """The source answered with a maintenance page instead of the requested page."""

    def __init__(self, page_type: str, url: str | None, missing: str, site: str = "LiveRC"):
        super().__init__(
            page_type,
            url,
            missing,
            message=f"{site} showed a maintenance page instead of the {page_type} page",
        )


class UnrecognisedPageError(PageFormatError):
    """The answer has none of the structure of the requested page type (an error page, another site)."""

    def __init__(
        self, page_type: str, url: str | None, missing: str, title: str | None, site: str = "LiveRC"
    ):
        titled = f" (its title is {title!r})" if title else ""
        super().__init__(
            page_type, url, missing, message=f"the answer is not a {site} {page_type} page{titled}"
        )
        self.title = title


class ImplausibleRecordError(PageFormatError):
    """The page parsed, but shows something that cannot be right (a lap position beyond the field, a
    results table and lap data naming different drivers, a fastest lap of 0, ...).

    ``race_id``, ``driver_id`` and ``driver_name`` say where, when the problem belongs to a race or a driver.
    """

    def __init__(
        self,
        page_type: str,
        url: str | None,
        problem: str,
        *,
        race_id: int | None = None,
        driver_id: int | None = None,
        driver_name: str | None = None,
    ):
        super().__init__(
            page_type,
            url,
            problem,
            message=f"the {page_type} page shows something that cannot be right: {problem}",
        )
        self.problem = problem
        self.race_id = race_id
        self.driver_id = driver_id
        self.driver_name = driver_name


class NoSuchEventError(ConnectorError):
    """The source answered, and its answer says the event does not exist (Everlaps: an empty event card).

    An HTTP 404 or 410 for an event is the other way a source says so (a :class:`SourceHttpError`); ingestion
    treats both alike.
    """

    def __init__(self, message: str, url: str | None = None):
        super().__init__(message)
        self.url = url
