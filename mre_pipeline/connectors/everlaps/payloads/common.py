"""What every Everlaps payload parser shares: typed accessors that refuse wrong shapes with a sentence a
person can act on, and the guard that turns any failure into a typed :class:`PayloadFormatError`.

The parsers never index a payload blindly: every read goes through an accessor that checks presence, type
(``true`` is not a number, ``1.5`` is not a whole number) and range, and raises :class:`Bad`. The guard then
names the endpoint URL once; :func:`context` prefixes the heat, driver or lap the problem is in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from mre_pipeline.connectors.errors import ConnectorError, PageFormatError

# Sanity bound on any published time: no heat, lap or total lasts a million seconds (11.6 days). It also
# keeps every value inside the warehouse's numeric columns.
MAX_MS = 10**9
MAX_ID = 2**63 - 1  # Postgres bigint
_SHOWN = 40  # characters of an offending value quoted in a message


class PayloadFormatError(PageFormatError):
    """An Everlaps response did not have the shape or values the parser expects.

    A :class:`PageFormatError` (so callers that handle LiveRC's page errors handle these too) whose message is
    one sentence: what was fetched, its URL once, and the problem with the heat/driver/lap it concerns.
    """

    def __init__(self, what: str, url: str | None, problem: str):
        where = f" at {url}" if url else ""
        ConnectorError.__init__(self, f"the Everlaps {what}{where} cannot be used: {problem}")
        self.page_type = what
        self.url = url
        self.missing = problem


class Bad(Exception):
    """A payload problem phrased for a person; :func:`guard` adds which response it was in."""


@contextmanager
def guard(what: str, url: str | None) -> Iterator[None]:
    """Turn :class:`Bad` (and, as a safety net, anything unexpected) into a :class:`PayloadFormatError`."""
    try:
        yield
    except ConnectorError:
        raise
    except Bad as exc:
        raise PayloadFormatError(what, url, str(exc)) from None
    except (
        KeyError,
        IndexError,
        TypeError,
        ValueError,
        AttributeError,
        RecursionError,
        OverflowError,
    ) as exc:
        raise PayloadFormatError(
            what, url, f"it holds content the parser does not understand ({exc})"
        ) from None


@contextmanager
def context(prefix: str) -> Iterator[None]:
    """Say where inside the payload a problem is: ``driver 12 (Ana Núñez): lap 3: ...``."""
    try:
        yield
    except Bad as exc:
        raise Bad(f"{prefix}: {exc}") from None


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def clean(text: str) -> str:
    """Collapse every run of whitespace; accents and emoji stay as published."""
    return " ".join(text.split())


def as_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Bad(f"{what} is not a JSON object (got {shown(value)})")
    return value


def as_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise Bad(f"{what} is not a list (got {shown(value)})")
    return value


def get_object(obj: dict[str, Any], key: str, what: str) -> dict[str, Any]:
    """``obj[key]``, which must be a JSON object."""
    value = obj.get(key)
    if value is None:
        raise Bad(f"{what} ({key!r}) is missing")
    return as_object(value, f"{what} ({key!r})")


def get_list(obj: dict[str, Any], key: str, what: str, *, optional: bool = False) -> list[Any]:
    """``obj[key]`` as a list; a missing or null key is an empty list when ``optional``."""
    value = obj.get(key)
    if value is None:
        if optional:
            return []
        raise Bad(f"{what} ({key!r}) is missing")
    return as_list(value, f"{what} ({key!r})")


def get_int(
    obj: dict[str, Any],
    key: str,
    what: str,
    *,
    minimum: int | None = None,
    maximum: int = MAX_ID,
    optional: bool = False,
) -> int | None:
    """A whole number in ``[minimum, maximum]``; None when missing or null and ``optional``."""
    value = obj.get(key)
    if value is None:
        if optional:
            return None
        raise Bad(f"{what} ({key!r}) is missing")
    if isinstance(value, bool) or not isinstance(value, int):
        raise Bad(f"{what} ({key!r}) is not a whole number (got {shown(value)})")
    if minimum is not None and value < minimum:
        raise Bad(f"{what} ({key!r}) is {value}, below the smallest possible {minimum}")
    if value > maximum:
        raise Bad(f"{what} ({key!r}) is {shown(value)}, above the largest possible {maximum}")
    return value


def require_int(
    obj: dict[str, Any], key: str, what: str, *, minimum: int | None = None, maximum: int = MAX_ID
) -> int:
    value = get_int(obj, key, what, minimum=minimum, maximum=maximum)
    assert value is not None  # get_int raises when a required key is missing
    return value


def get_bool(obj: dict[str, Any], key: str, what: str, *, optional: bool = False) -> bool | None:
    value = obj.get(key)
    if value is None:
        if optional:
            return None
        raise Bad(f"{what} ({key!r}) is missing")
    if not isinstance(value, bool):
        raise Bad(f"{what} ({key!r}) is not true or false (got {shown(value)})")
    return value


def get_text(obj: dict[str, Any], key: str, what: str, *, optional: bool = False) -> str | None:
    """Whitespace-normalised text; a missing, null or blank value is None when ``optional``."""
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise Bad(f"{what} ({key!r}) is not text (got {shown(value)})")
    text = clean(value) if value is not None else ""
    if not text:
        if optional:
            return None
        raise Bad(f"{what} ({key!r}) is missing or blank")
    return text


def get_ms(
    obj: dict[str, Any], key: str, what: str, *, positive: bool = False, optional: bool = False
) -> float | None:
    """A published time in whole milliseconds, as seconds (37234 -> 37.234, exactly as printed)."""
    minimum = 1 if positive else 0
    value = get_int(obj, key, what, minimum=minimum, maximum=MAX_MS, optional=optional)
    return None if value is None else seconds(value)


def seconds(ms: int) -> float:
    """Milliseconds to seconds; ``str()`` of the result prints the decimal exactly (37.234)."""
    return ms / 1000


def get_percent(obj: dict[str, Any], key: str, what: str) -> float | None:
    """A published percentage (Everlaps prints ``"81.72"``; a number is accepted too), in ``[0, 100]``."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text or not text.replace(".", "", 1).isdecimal() or not text.isascii():
            raise Bad(f"{what} ({key!r}) is not a percentage (got {shown(value)})")
        number = float(text)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = value  # compared before any conversion: a huge int must not overflow a float
    else:
        raise Bad(f"{what} ({key!r}) is not a percentage (got {shown(value)})")
    if not 0 <= number <= 100:
        raise Bad(f"{what} ({key!r}) is {shown(value)}, outside 0 to 100")
    return float(number)


def get_instant(obj: dict[str, Any], key: str, what: str) -> datetime | None:
    """An ISO instant (``2026-03-22T08:00:00.000Z``) as an aware UTC datetime; None when missing or null."""
    text = get_text(obj, key, what, optional=True)
    if text is None:
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise Bad(f"{what} ({key!r}) is not a date and time (got {shown(text)})") from None
    if instant.tzinfo is None:
        raise Bad(f"{what} ({key!r}) has no time zone (got {shown(text)})")
    return instant.astimezone(UTC)
