"""Normalise LiveRC's printed values: whitespace, durations, counts, percentages, dates, hidden sort keys."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from lxml.html import HtmlElement

_DURATION = re.compile(r"(?:\d+:){0,2}\d+(?:\.\d+)?", re.ASCII)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?", re.ASCII)
_LAPS_TIME = re.compile(r"^\s*(\d+)\s*/\s*((?:\d+:){0,2}\d+(?:\.\d+)?)")


def clean(text: str | None) -> str:
    """Collapse every run of whitespace (LiveRC has double spaces and re-wrapped text)."""
    return " ".join((text or "").split())


def _is_hidden(node: HtmlElement) -> bool:
    return "hidden" in (node.get("class") or "").split()


def _visible_parts(node: HtmlElement, parts: list[str]) -> None:
    if node.text:
        parts.append(node.text)
    for child in node:
        if isinstance(child.tag, str) and not _is_hidden(child):  # comments have a non-str tag
            _visible_parts(child, parts)
        if child.tail:
            parts.append(child.tail)


def text_without_hidden(cell: HtmlElement) -> str:
    """Visible text of a cell, without the ``.hidden`` sort-key element DataTables puts first."""
    parts: list[str] = []
    _visible_parts(cell, parts)
    return clean("".join(parts))


def text_of(node: HtmlElement | None) -> str:
    """All text of an element, whitespace-normalised ("" for None)."""
    return clean(node.text_content()) if node is not None else ""


def hidden_value(cell: HtmlElement) -> str | None:
    """The machine value of the cell's ``.hidden`` sort key, or None when absent or empty."""
    for node in cell.iter():
        if isinstance(node.tag, str) and node is not cell and _is_hidden(node):
            return clean(node.text_content()) or None
    return None


def duration_seconds(text: str | None) -> float | None:
    """``1:52.036`` -> 112.036, ``56.135`` -> 56.135, ``1:02:03.5`` -> 3723.5; blank -> None."""
    value = clean(text)
    if not value:
        return None
    if not _DURATION.fullmatch(value):
        raise ValueError(f"not a duration: {text!r}")
    seconds = 0.0
    for part in value.split(":"):
        seconds = seconds * 60 + float(part)
    return round(seconds, 3)


def laps_and_time(text: str | None) -> tuple[int, float | None]:
    """``47/30:31.382`` -> (47, 1831.382); ``0`` (non-starter) -> (0, None)."""
    value = clean(text)
    if value.isdigit():
        return int(value), None
    match = _LAPS_TIME.match(value)
    if not match:
        raise ValueError(f"not a laps/time value: {text!r}")
    laps = int(match.group(1))
    total = duration_seconds(match.group(2))
    return laps, (total if laps > 0 else None)


def optional_float(text: str | None) -> float | None:
    """``92.82%`` -> 92.82, ``4,129`` -> 4129.0, blank -> None; anything else is an error."""
    value = clean(text).rstrip("%").replace(",", "")
    if not value:
        return None
    if not _NUMBER.fullmatch(value):
        raise ValueError(f"not a number: {text!r}")
    return float(value)


def optional_int(text: str | None) -> int | None:
    """``6,753,663`` -> 6753663, blank -> None."""
    value = clean(text).replace(",", "")
    if not value:
        return None
    if not value.isdecimal() or not value.isascii():
        raise ValueError(f"not a whole number: {text!r}")
    return int(value)


def count(text: str | None) -> int:
    value = optional_int(text)
    if value is None:
        raise ValueError("empty count")
    return value


def _strptime(text: str, pattern: str, what: str) -> datetime:
    try:
        return datetime.strptime(text, pattern)
    except ValueError:
        raise ValueError(f"not a {what}: {text!r}") from None


def parse_day(text: str) -> date:
    """``Nov 16, 2025`` (LiveRC prints unpadded days)."""
    return _strptime(clean(text), "%b %d, %Y", "date").date()


def parse_day_range(text: str) -> tuple[date, date]:
    """``Nov 16, 2025`` or ``Apr 23, 2025 to Apr 27, 2025``."""
    first, _, last = clean(text).partition(" to ")
    start = parse_day(first)
    return start, parse_day(last) if last else start


def parse_completed(text: str) -> datetime | None:
    """Race "Time Completed": ``Nov 16, 2025 at 5:30pm``; a bare date has no time (None)."""
    value = clean(text)
    if " at " not in value:
        return None
    return _strptime(value.upper(), "%b %d, %Y AT %I:%M%p", "completion time")


def parse_sort_datetime(text: str) -> tuple[date, time | None]:
    """Hidden ``2025-11-16 08:30:00``; ``00:00:00`` means "no time", not midnight."""
    stamp = _strptime(clean(text), "%Y-%m-%d %H:%M:%S", "date and time")
    return stamp.date(), (None if stamp.time() == time(0, 0) else stamp.time())
