"""The event card (``/api/frontend/event/{event}``) and results tree (``/api/res/{event}``) -> EventDetail.

The tree holds one node per class (``races[]``), each with nested ``children``: rounds ("Qualify 1"), their
series ("Serie 3"), finals. Heats are the leaves whose path is ``class/session/round/serie`` (four numbers,
``7303/1/1/2``); other leaves are overviews (``7303/1/0`` "Series", the qualifying draw) and are skipped, as
are heats whose ``results`` count is 0 (not run yet). A heat becomes a race:

- ``race_id``: tree node ids repeat (every round has a "Serie" 1, 2, 3), so the id packs the heat's path:
  ``class * 10**6 + session * 10**4 + round * 100 + serie`` (7303/1/1/2 -> 7303010102). Every path segment
  after the class must be below 100; the class id is an Everlaps-wide id, so race ids are unique per source.
- ``section``: the heat's parent node ("Qualify 1", "Consolacion", "Semi finals", "Finals").
- ``session_label``: class, section and heat name ("1:8 Nitro Buggy Qualify 1, Serie 3").
- ``race_number``: the heat's order in the tree (1-based), which is the order the site lists them.
- ``locator``: the path, so ``fetch_race`` can fetch the node.

Dates: the card's ``fromdate``/``todate`` are UTC instants; ``start_date``/``end_date`` are their UTC dates
(the local date in Spain and Portugal except for an event starting within an hour or two of midnight) and
the instants are kept as published in ``starts_at_utc``/``ends_at_utc``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mre_pipeline.connectors.errors import InvalidIdentifierError, NoSuchEventError
from mre_pipeline.connectors.everlaps.payloads.common import (
    Bad,
    as_object,
    context,
    get_instant,
    get_int,
    get_list,
    get_text,
    guard,
    require_int,
    shown,
)
from mre_pipeline.connectors.everlaps.payloads.venue import SOURCE, venue_record
from mre_pipeline.connectors.everlaps.urls import valid_node_path
from mre_pipeline.connectors.records import EventDetail, RaceSummary, TrackRecord

HEAT_DEPTH = 4  # class/session/round/serie
SEGMENT_LIMIT = 100
MAX_CLASS_ID = (2**63 - 1) // 10**6
MAX_TREE_DEPTH = 8  # the capture nests 4 deep; deeper is not a results tree


@dataclass(frozen=True)
class EventCard:
    """What the card contributes to the event."""

    title: str | None
    venue: TrackRecord
    starts_at: datetime | None
    ends_at: datetime | None
    entries: int | None


def race_id_for_path(path: str) -> int:
    """Pack a heat path into a race id: ``7303/1/1/2`` -> 7303010102 (see the module docstring)."""
    segments = [int(s) for s in path.split("/")]
    if len(segments) != HEAT_DEPTH:
        raise Bad(f"heat path {path!r} does not have the four parts class/session/round/serie")
    klass, *rest = segments
    if not 0 < klass <= MAX_CLASS_ID or any(s >= SEGMENT_LIMIT for s in rest):
        raise Bad(f"heat path {path!r} has a part too large to make a race id")
    return klass * 10**6 + rest[0] * 10**4 + rest[1] * 100 + rest[2]


def path_for_race_id(race_id: int) -> str:
    """The inverse of :func:`race_id_for_path`."""
    klass, rest = divmod(race_id, 10**6)
    session, rest = divmod(rest, 10**4)
    round_, serie = divmod(rest, 100)
    return f"{klass}/{session}/{round_}/{serie}"


def parse_card(card: Any, event_id: int, tree_names: tuple[str | None, str | None, str | None]) -> EventCard:
    """The card; ``tree_names`` (event name, track, club from the tree) fill what the card leaves blank."""
    card = as_object(card, "the event card")
    published_id = get_int(card, "eventId", "the event id", minimum=1, optional=True)
    if published_id is not None and published_id != event_id:
        raise Bad(f"it describes event {published_id}, not event {event_id}")
    tree_title, tree_track, tree_club = tree_names
    title = get_text(card, "title", "the event title", optional=True) or tree_title
    location = get_text(card, "location", "the venue name", optional=True) or tree_track
    organiser = get_text(card, "organizer", "the organiser", optional=True) or tree_club
    map_link = get_text(card, "mapLink", "the map link", optional=True)
    starts_at = get_instant(card, "fromdate", "the start date")
    ends_at = get_instant(card, "todate", "the end date")
    if starts_at and ends_at and ends_at < starts_at:
        raise Bad(f"the event ends ({ends_at.isoformat()}) before it starts ({starts_at.isoformat()})")
    return EventCard(
        title=title,
        venue=venue_record(event_id, location, organiser, map_link),
        starts_at=starts_at,
        ends_at=ends_at or starts_at,
        entries=_entries(card),
    )


def _entries(card: dict[str, Any]) -> int | None:
    """Registrations across the classes (``categories[].inscriptions``); None when the card lists none."""
    if card.get("categories") is None:
        return None
    total = 0
    for index, category in enumerate(get_list(card, "categories", "the class list"), start=1):
        with context(f"class {index} of the card"):
            category = as_object(category, "the class")
            total += len(get_list(category, "inscriptions", "the registrations", optional=True))
    return total


@dataclass(frozen=True)
class ResultsTree:
    name: str | None
    track: str | None
    club: str | None
    races: tuple[RaceSummary, ...]
    pending: int = 0  # heats listed without results (not run yet)


def parse_tree(tree: Any, event_id: int) -> ResultsTree:
    tree = as_object(tree, "the results tree")
    published_id = get_int(tree, "id", "the event id", minimum=1, optional=True)
    if published_id is not None and published_id != event_id:
        raise Bad(f"it is the results tree of event {published_id}, not of event {event_id}")
    heats: list[RaceSummary] = []
    pending = 0
    for index, klass in enumerate(get_list(tree, "races", "the class list"), start=1):
        with context(f"class {index}"):
            run, not_run = _class_heats(as_object(klass, "the class"), first_number=len(heats) + 1)
            heats.extend(run)
            pending += not_run
    repeated = sorted(path for path, n in Counter(h.locator for h in heats).items() if n > 1)
    if repeated:
        raise Bad(f"heat path {repeated[0]} appears more than once")
    return ResultsTree(
        name=get_text(tree, "name", "the event name", optional=True),
        track=get_text(tree, "track", "the venue name", optional=True),
        club=get_text(tree, "club", "the organiser", optional=True),
        races=tuple(heats),
        pending=pending,
    )


def _class_heats(klass: dict[str, Any], first_number: int) -> tuple[list[RaceSummary], int]:
    """The class's heats with results, and how many it lists without (not run yet)."""
    class_id = require_int(klass, "id", "the class id", minimum=1, maximum=MAX_CLASS_ID)
    name = get_text(klass, "name", "the class name")
    suffix = get_text(klass, "suffix", "the class suffix", optional=True)
    class_name = f"{name} {suffix}" if suffix else name
    assert class_name is not None
    heats: list[RaceSummary] = []
    pending = 0
    for leaf, parent in _leaves(klass, depth=1):
        path = _path(leaf)
        if path.count("/") + 1 != HEAT_DEPTH:
            continue  # an overview such as the qualifying draw ("Series", 7303/1/0)
        with context(f"heat {path}"):
            heat_name = get_text(leaf, "name", "the heat name")
            if path.split("/")[0] != str(class_id):
                raise Bad(f"its path does not start with the class id {class_id}")
            if get_int(leaf, "results", "the result count", minimum=0, optional=True) == 0:
                pending += 1  # listed but not run yet
                continue
            section = parent or heat_name
            assert heat_name is not None and section is not None
            label = f"{class_name} {section}, {heat_name}" if parent else f"{class_name} {heat_name}"
            heats.append(
                RaceSummary(
                    race_id=race_id_for_path(path),
                    section=section,
                    race_number=first_number + len(heats),
                    class_name=class_name,
                    session_label=label,
                    locator=path,
                )
            )
    return heats, pending


def _leaves(node: dict[str, Any], depth: int) -> list[tuple[dict[str, Any], str | None]]:
    """Every leaf under ``node`` in tree order, with the name of its parent (None directly under the class)."""
    if depth > MAX_TREE_DEPTH:
        raise Bad(f"the tree is nested deeper than {MAX_TREE_DEPTH} levels")
    found: list[tuple[dict[str, Any], str | None]] = []
    name = get_text(node, "name", "the node name") if depth > 1 else None
    for index, child in enumerate(get_list(node, "children", "the sub-sections", optional=True), start=1):
        with context(f"{name or 'the class'}, entry {index}"):
            child = as_object(child, "the tree node")
            if get_list(child, "children", "the sub-sections", optional=True):
                found.extend(_leaves(child, depth=depth + 1))
            else:
                found.append((child, name))
    return found


def _path(node: dict[str, Any]) -> str:
    raw = node.get("path")
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise Bad(f"a node path is missing or not text (got {shown(raw)})")
    try:
        return valid_node_path(str(raw))
    except InvalidIdentifierError:
        raise Bad(f"the node path {shown(raw)} is not numbers separated by slashes") from None


def parse_event(
    card: Any, tree: Any, event_id: int, *, card_url: str | None = None, tree_url: str | None = None
) -> EventDetail:
    """The event with its heats as races; failures name the endpoint they came from."""
    if card is None or card == {} or card == []:
        where = f" at {card_url}" if card_url else ""
        raise NoSuchEventError(f"Everlaps has no event {event_id} (its event card{where} is empty)", card_url)
    with guard("results tree", tree_url):
        results = parse_tree(tree, event_id)
    with guard("event card", card_url):
        info = parse_card(card, event_id, (results.name, results.track, results.club))
        if not info.title:
            raise Bad("the event has no title")
    return EventDetail(
        source=SOURCE,
        track_slug=info.venue.slug,
        event_id=event_id,
        name=info.title,
        track_name=info.venue.name,
        start_date=info.starts_at.date() if info.starts_at else None,
        end_date=info.ends_at.date() if info.ends_at else None,
        races=results.races,
        has_entry_list_link=False,
        entries=info.entries,
        venue=info.venue,
        starts_at_utc=info.starts_at,
        ends_at_utc=info.ends_at,
        races_pending=results.pending,
    )
