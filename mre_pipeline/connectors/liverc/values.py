"""Normalise LiveRC's printed values: whitespace, durations, counts, percentages, dates, hidden sort keys."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from bs4 import Tag

_LAPS_TIME = re.compile(r"^\s*(\d+)\s*/\s*((?:\d+:){0,2}\d+(?:\.\d+)?)")


def clean(text: str | None) -> str:
    """Collapse every run of whitespace (LiveRC has double spaces and re-wrapped text)."""
    return " ".join((text or "").split())


def text_without_hidden(cell: Tag) -> str:
    """Visible text of a cell, without the ``.hidden`` sort-key element DataTables puts first."""
    parts = []
    for node in cell.descendants:
        if isinstance(node, str) and not _inside_hidden(node, cell):
            parts.append(node)
    return clean("".join(parts))


def _inside_hidden(node, stop: Tag) -> bool:
    parent = node.parent
    while parent is not None and parent is not stop:
        if "hidden" in (parent.get("class") or []):
            return True
        parent = parent.parent
    return False


def hidden_value(cell: Tag) -> str | None:
    """The machine value of the cell's ``.hidden`` sort key, or None when absent or empty."""
    hidden = cell.find(class_="hidden")
    if hidden is None:
        return None
    return clean(hidden.get_text()) or None


def duration_seconds(text: str | None) -> float | None:
    """``1:52.036`` -> 112.036, ``56.135`` -> 56.135, ``1:02:03.5`` -> 3723.5; blank -> None."""
    value = clean(text)
    if not value:
        return None
    parts = value.split(":")
    if len(parts) > 3:
        raise ValueError(f"not a duration: {text!r}")
    seconds = 0.0
    for part in parts:
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
    value = clean(text).rstrip("%").replace(",", "")
    return float(value) if value else None


def optional_int(text: str | None) -> int | None:
    value = clean(text).replace(",", "")
    return int(value) if value else None


def count(text: str | None) -> int:
    value = optional_int(text)
    if value is None:
        raise ValueError("empty count")
    return value


def parse_day(text: str) -> date:
    """``Nov 16, 2025`` (LiveRC prints unpadded days)."""
    return datetime.strptime(clean(text), "%b %d, %Y").date()


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
    return datetime.strptime(value.upper(), "%b %d, %Y AT %I:%M%p")


def parse_sort_datetime(text: str) -> tuple[date, time | None]:
    """Hidden ``2025-11-16 08:30:00``; ``00:00:00`` means "no time", not midnight."""
    stamp = datetime.strptime(clean(text), "%Y-%m-%d %H:%M:%S")
    return stamp.date(), (None if stamp.time() == time(0, 0) else stamp.time())
