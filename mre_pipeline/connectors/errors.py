"""Typed connector errors. Nothing else (no KeyError, IndexError, AttributeError) leaves a connector."""

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
        super().__init__(f"robots.txt disallows {url}")
        self.url = url


class SourceHttpError(ConnectorError):
    """The source answered with an error status, or could not be reached after retries."""

    def __init__(self, url: str, status: int | None, message: str | None = None):
        detail = message or (f"HTTP {status}" if status is not None else "no response")
        super().__init__(f"{detail} for {url}")
        self.url = url
        self.status = status


class ResponseTooLargeError(SourceHttpError):
    """The body exceeded the configured size cap."""


class PageFormatError(ConnectorError):
    """A page did not have the shape the parser expects."""

    def __init__(self, page_type: str, url: str | None, missing: str):
        where = f" at {url}" if url else ""
        super().__init__(f"{page_type} page{where} is malformed: {missing}")
        self.page_type = page_type
        self.url = url
        self.missing = missing


class NoSuchEventError(ConnectorError):
    """The source answered, and its answer says the event does not exist (Everlaps: an empty event card).

    An HTTP 404 or 410 for an event is the other way a source says so (a :class:`SourceHttpError`); ingestion
    treats both alike.
    """

    def __init__(self, message: str, url: str | None = None):
        super().__init__(message)
        self.url = url
