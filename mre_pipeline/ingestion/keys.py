"""Identifiers shared by the queue, Dagster partitions and the connectors: sources, slugs, event references.

Partition keys name their source: a LiveRC track is ``liverc-canberraoffroad``, a LiveRC event
``liverc-canberraoffroad-486677`` (the track travels with the event, as the design notes ask), an event of a
source without a track catalogue ``everlaps-3702``. :class:`EventRef` lives in ``connectors/records.py`` (the
connectors take it too) and is re-exported here.
"""

from __future__ import annotations

import re

from mre_pipeline.connectors.records import EventRef
from mre_pipeline.ingestion.sources import SOURCES, SourceRules, rules_for

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
EVENT_ID_PATTERN = re.compile(r"^[0-9]{1,18}$")
# What a rejection echoes of the user's input: enough to recognise it, never the whole of a huge value.
ECHO_LIMIT = 40


class InvalidKeyError(ValueError):
    """A source, slug, event id or partition key that cannot be used."""


def shown(raw: object) -> str:
    """The user's value quoted for a message, cut to ECHO_LIMIT characters."""
    text = str(raw)
    if len(text) > ECHO_LIMIT:
        text = text[:ECHO_LIMIT] + "…"
    return repr(text)


def normalise_source(raw: str | None) -> SourceRules:
    name = (raw or "").strip().lower()
    rules = rules_for(name)
    if rules is None:
        raise InvalidKeyError(f"source {shown(raw)} is unknown; use one of {', '.join(sorted(SOURCES))}")
    return rules


def normalise_slug(raw: str | None) -> str:
    """Canonical (lower-case) track slug, or InvalidKeyError saying what is wrong in user terms."""
    slug = (raw or "").strip().lower()
    if not slug:
        raise InvalidKeyError("track_slug is empty")
    if not SLUG_PATTERN.fullmatch(slug):
        raise InvalidKeyError(
            f"track_slug {shown(raw)} is not a LiveRC track slug (letters, digits and '-' only, as in "
            "'canberraoffroad')"
        )
    return slug


def parse_event_id(raw: str | int | None, example: str = "486677") -> int:
    """A positive numeric event id; only ASCII digits, optionally surrounded by spaces (no tabs, no newlines)."""
    text = str(raw if raw is not None else "").strip(" ")
    if not EVENT_ID_PATTERN.fullmatch(text) or int(text) <= 0:  # ASCII only: str.isdigit() accepts "٣"
        raise InvalidKeyError(f"source_event_id {shown(raw)} is not a numeric event id (e.g. {example})")
    return int(text)


def event_id_or_none(raw: str | int | None) -> int | None:
    try:
        return parse_event_id(raw)
    except InvalidKeyError:
        return None


def track_partition_key(source: str, slug: str) -> str:
    return f"{source}-{slug}"


def split_track_partition_key(key: str) -> tuple[str, str]:
    """``liverc-canberraoffroad`` -> ("liverc", "canberraoffroad")."""
    source, sep, slug = key.partition("-")
    if not sep:
        raise InvalidKeyError(f"track partition key {shown(key)} is not '<source>-<track slug>'")
    return normalise_source(source).name, normalise_slug(slug)


def split_event_partition_key(key: str) -> EventRef:
    """The inverse of :attr:`EventRef.partition_key`."""
    source, sep, rest = key.partition("-")
    if not sep:
        raise InvalidKeyError(f"event partition key {shown(key)} does not start with a source")
    rules = normalise_source(source)
    if not rules.has_catalogue:
        return EventRef(rules.name, parse_event_id(rest))
    slug, sep, event = rest.rpartition("-")
    if not sep:
        raise InvalidKeyError(
            f"event partition key {shown(key)} is not '{rules.name}-<track slug>-<event id>'"
        )
    return EventRef(rules.name, parse_event_id(event), normalise_slug(slug))
