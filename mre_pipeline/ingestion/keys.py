"""Identifiers shared by the queue, Dagster partitions and the connector: slugs and event partition keys."""

from __future__ import annotations

import re

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
EVENT_ID_PATTERN = re.compile(r"^[0-9]{1,18}$")


class InvalidKeyError(ValueError):
    """A slug, event id or partition key that cannot be used."""


def normalise_slug(raw: str | None) -> str:
    """Canonical (lower-case) track slug, or InvalidKeyError saying what is wrong in user terms."""
    slug = (raw or "").strip().lower()
    if not slug:
        raise InvalidKeyError("track_slug is empty")
    if not SLUG_PATTERN.match(slug):
        raise InvalidKeyError(
            f"track_slug {raw!r} is not a LiveRC track slug (letters, digits and '-' only, as in "
            "'canberraoffroad')"
        )
    return slug


def parse_event_id(raw: str | int | None) -> int:
    text = str(raw if raw is not None else "").strip()
    if not EVENT_ID_PATTERN.match(text) or int(text) <= 0:  # ASCII only: str.isdigit() accepts "٣"
        raise InvalidKeyError(f"source_event_id {raw!r} is not a numeric LiveRC event id (e.g. 486677)")
    return int(text)


def event_id_or_none(raw: str | int | None) -> int | None:
    try:
        return parse_event_id(raw)
    except InvalidKeyError:
        return None


def event_partition_key(slug: str, event_id: int) -> str:
    """``{slug}-{event_id}``: the track travels with the event, as the design notes ask."""
    return f"{slug}-{event_id}"


def split_event_partition_key(key: str) -> tuple[str, int]:
    slug, sep, event = key.rpartition("-")
    if not sep:
        raise InvalidKeyError(f"event partition key {key!r} is not '<track slug>-<event id>'")
    return normalise_slug(slug), parse_event_id(event)
