"""Fuzz every LiveRC parser, and ``validate_event`` behind it, with >= 10,000 mutated pages (seeded).

Sources: every page of two generated sites (``fake_liverc/sitegen.py``, raw and formatter-rewritten, with
the exact records each page must give), plus the captured pages of ``../shared/liverc`` when present (their
reference record is the parse of the unmutated page, which ``test_captured_pages`` holds to the ground
truth). ``MRE_FUZZ_CASES`` sets the number of cases (default 10,000).

Each case is one mutated page, the parser of its type (or, for "foreign" cases, of another type), and,
when the record is a race or an event, ``validate_event`` with the event or races it belongs to. The
outcome is either a typed error (``ConnectorError`` or ``EventValidationError``) or a record, and a record
must be *correct*. What correct means depends on the class of the mutation:

- **neutral** (whitespace between tags, comments, upper-case tags, extra attributes, CRLF line ends, the
  other serialisation of a generated page): the content is untouched, so the record must equal the
  reference exactly, and a typed error is a failure too.
- **refuse** (truncation, deep nesting, deleted or duplicated driver rows, lap-data blocks or laps, lap
  positions outside the field, a fastest lap of 0, odd numbers or swapped numbers in values the page
  states twice, event ids of 0, an end date before the start, more drivers than entries, a sort date
  that is not the shown date, deleted or duplicated entry-list rows): the damage is detectable from the
  page itself, so the outcome must be a typed error, or exactly the reference record (the mutation hit
  nothing that matters). Truncation must be a ``TruncatedPageError``, a maintenance page a
  ``MaintenancePageError``, a foreign page (a proxy error, JSON, an empty answer) an
  ``UnrecognisedPageError``.
- **minus** (a whole row deleted from the catalogue, the events listing or the event page, which carry no
  count to check against): the record must equal the reference without that row (or a typed error).
- **damaged** (one to three random byte-level edits: lost, duplicated or swapped slices, stray
  characters, renamed classes, garbled numbers, dropped tags, a fragment): such damage can turn a value
  the page states only once (a car number, a pace, an event name) into another well-formed value, which
  no parser can tell from a genuine page. The record must therefore agree with the reference on every
  value the page states twice: for races the drivers (ids, names, positions), their laps (number and
  time), Laps/Time and the published statistics; and every record must obey the plausibility rules
  (``connectors/plausibility.py``: ids positive, dates in order, positions within the field, ...).
- **foreign** (a page of another type, damaged or not): a typed error or an empty record; another page
  type must never yield data.

"Silently wrong" is a record that fails its class's rule. Required: 0 untyped exceptions and 0 silently
wrong records. A summary line (cases, typed errors by class, correct records) is printed.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import pytest

from mre_pipeline.connectors.errors import (
    ConnectorError,
    MaintenancePageError,
    TruncatedPageError,
    UnrecognisedPageError,
)
from mre_pipeline.connectors.liverc.pages.catalogue import parse_catalogue
from mre_pipeline.connectors.liverc.pages.entry_list import parse_entry_list
from mre_pipeline.connectors.liverc.pages.event import parse_event
from mre_pipeline.connectors.liverc.pages.events import parse_events
from mre_pipeline.connectors.liverc.pages.race import parse_race
from mre_pipeline.connectors.plausibility import event_detail_problems, event_summary_problems
from mre_pipeline.connectors.records import EntryList, EventDetail, RaceResult
from mre_pipeline.fake_liverc.server import CATALOGUE, MAINTENANCE_PAGE
from mre_pipeline.ingestion.validation import EventValidationError, validate_event
from mre_pipeline_tests.connectors.conftest import captured_available, captured_root

CASES = int(os.environ.get("MRE_FUZZ_CASES", "10000"))
SEED = 20261201
TYPED = (ConnectorError, EventValidationError)
KINDS = ("catalogue", "events", "event", "race", "entry-list")


# -- pages and their references ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    """One unmutated page: how to parse it, the record it must give, and what validation needs."""

    kind: str
    origin: str  # "generated/raw", "generated/pretty", "captured"
    text: str
    parse: Callable[[str], Any]
    reference: Any
    event: EventDetail | None = None  # race pages: the event listing only this race
    races: tuple[RaceResult, ...] | None = None  # event pages: every race listed, when all are known
    weight: float = 1.0


def _parser(kind: str, slug: str = "fuzz", object_id: int = 1) -> Callable[[str], Any]:
    url = f"fuzz://{kind}/{object_id}"
    return {
        "catalogue": lambda html: parse_catalogue(html, url=url),
        "events": lambda html: parse_events(html, slug, url=url),
        "event": lambda html: parse_event(html, slug, object_id, url=url),
        "race": lambda html: parse_race(html, object_id, url=url),
        "entry-list": lambda html: parse_entry_list(html, object_id, url=url),
    }[kind]


def _kind_of(slug: str | None, path: str) -> str:
    if slug is CATALOGUE:
        return "catalogue"
    if path == "/events/":
        return "events"
    return "event" if "view_event" in path else "race" if "view_race_result" in path else "entry-list"


def _generated_pages(seed: int) -> list[Page]:
    from mre_pipeline.fake_liverc.generator import generate_site

    site = generate_site(seed=seed, tracks=2, events_per_track=2)
    owner = {r.race_id: (slug, d) for (slug, _), d in site.event_details.items() for r in d.races}
    pages = []
    for style in ("raw", "pretty"):
        for (slug, path), html in site.pages(style).items():
            kind = _kind_of(slug, path)
            object_id = int(path.rpartition("=")[2]) if "id=" in path else 1
            event = races = None
            if kind == "race":
                detail = owner[object_id][1]
                event = replace(detail, races=tuple(r for r in detail.races if r.race_id == object_id))
            if kind == "event":
                detail = site.event_details[(slug, object_id)]
                races = tuple(site.races[(slug, r.race_id)] for r in detail.races)
            pages.append(
                Page(
                    kind,
                    f"generated/{style}",
                    html,
                    _parser(kind, slug or "fuzz", object_id),
                    site.expected(slug, path),
                    event,
                    races,
                )
            )
    return pages


def _captured_pages() -> list[Page]:
    root = captured_root()
    read = lambda relative: (root / relative).read_text(encoding="utf-8")  # noqa: E731
    slug = "canberraoffroad"
    two = read(f"{slug}/event-486677-two-races.html")
    event = _parser("event", slug, 486677)(two)
    races = {rid: _parser("race", slug, rid)(read(f"{slug}/race-{rid}.html")) for rid in (6304829, 6304822)}
    pages = [
        Page(
            "catalogue",
            "captured",
            read("live.liverc.com/index.html"),
            _parser("catalogue"),
            None,
            weight=0.15,
        ),
        Page("events", "captured", read(f"{slug}/events.html"), _parser("events", slug), None),
        Page("event", "captured", read(f"{slug}/event-486677.html"), _parser("event", slug, 486677), None),
        Page("event", "captured", two, _parser("event", slug, 486677), event, races=tuple(races.values())),
        Page("entry-list", "captured", read("silverstate/entry-list.html"), _parser("entry-list"), None),
    ]
    for rid, race in races.items():
        own = replace(event, races=tuple(r for r in event.races if r.race_id == rid))
        pages.append(
            Page(
                "race",
                "captured",
                read(f"{slug}/race-{rid}.html"),
                _parser("race", slug, rid),
                race,
                own,
                weight=2,
            )
        )
    return [p if p.reference is not None else replace(p, reference=p.parse(p.text)) for p in pages]


@cache
def all_pages() -> tuple[Page, ...]:
    pages = _generated_pages(11) + _generated_pages(29)
    if captured_available():
        pages += _captured_pages()
    return tuple(pages)


# -- cases ---------------------------------------------------------------------------------------------------
NEUTRAL, REFUSE, MINUS, DAMAGED, FOREIGN = "neutral", "refuse", "minus", "damaged", "foreign"


@dataclass(frozen=True)
class Case:
    mutation: str
    expect: str
    page: Page
    text: str
    parse: Callable[[str], Any]
    expected: Any = None  # MINUS: the exact record
    error: type[Exception] | None = None  # the one acceptable error class, when there is one
    notes: dict[str, Any] = field(default_factory=dict)


Mutator = Callable[[Page, random.Random], "Case | None"]
ROW = re.compile(r"<tr\b[^>]*>.*?</tr\s*>", re.S | re.I)
TAG_GAP = re.compile(r">(\s*)<(?!/?(?:script|pre|textarea)\b)", re.I)
TABLE_OPEN = {
    "race": re.compile(r"<table[^>]*\brace_result\b[^>]*>"),
    "events": re.compile(r"<table[^>]*id=[\"']?events\b[^>]*>"),
    "catalogue": re.compile(r"<table[^>]*\btrack_list\b[^>]*>"),
    "event": re.compile(r"Race Results"),
}
JS_VALUE = r"""(['"]?){key}\1\s*:\s*(['"])([^'"]*)\2"""
BLOCK = re.compile(r"racerLaps\s*\[\s*(\d+)\s*\]\s*=\s*\{")
LAP_START = re.compile(r"""\{\s*['"]?lapNum['"]?\s*:\s*['"](\d+)['"]""")


def case(page: Page, mutation: str, expect: str, text: str, **extra: Any) -> Case:
    return Case(mutation, expect, page, text, page.parse, **extra)


def body_rows(text: str, kind: str) -> list[re.Match[str]]:
    """The rows of the page's main table body (race results, events, tracks, Race Results)."""
    opening = TABLE_OPEN[kind].search(text)
    if opening is None:
        return []
    start = text.find("<tbody", opening.end())
    end = text.find("</tbody>", start)
    return list(ROW.finditer(text, start, end)) if start >= 0 and end > start else []


def js_values(text: str, key: str) -> list[re.Match[str]]:
    return list(re.finditer(JS_VALUE.format(key=key), text))


def set_value(text: str, match: re.Match[str], value: str) -> str:
    return text[: match.start(3)] + value + text[match.end(3) :]


def block_span(text: str, match: re.Match[str]) -> tuple[int, int]:
    from mre_pipeline.connectors.liverc.racer_laps import _block_end

    end = _block_end(text, match.end() - 1)
    while end < len(text) and text[end] in " \t;":
        end += 1
    return match.start(), end


# neutral ---------------------------------------------------------------------------------------------------
def m_whitespace(page: Page, rng: random.Random) -> Case:
    spots = list(TAG_GAP.finditer(page.text))
    chosen = {m.start() for m in rng.sample(spots, min(len(spots), rng.randint(1, 200)))}
    text = TAG_GAP.sub(lambda m: ">\n\t  <" if m.start() in chosen else m.group(), page.text)
    return case(page, "whitespace", NEUTRAL, text)


def m_comments(page: Page, rng: random.Random) -> Case:
    spots = list(TAG_GAP.finditer(page.text))
    chosen = {m.start() for m in rng.sample(spots, min(len(spots), rng.randint(1, 50)))}
    text = TAG_GAP.sub(
        lambda m: f"><!-- fuzz {m.start()} --><" if m.start() in chosen else m.group(), page.text
    )
    return case(page, "comments", NEUTRAL, text)


def m_upper_tags(page: Page, rng: random.Random) -> Case:
    tag = rng.choice(["td", "tr", "tbody", "table", "span", "div", "a", "th", "thead"])
    text = re.sub(rf"<(/?){tag}\b", lambda m: f"<{m.group(1)}{tag.upper()}", page.text)
    return case(page, "upper-case tags", NEUTRAL, text)


def m_attributes(page: Page, rng: random.Random) -> Case:
    tag = rng.choice(["td", "tr", "th", "tbody"])
    text = page.text.replace(f"<{tag}>", f'<{tag} data-fuzz="{rng.randint(1, 99)}">')
    return case(page, "extra attributes", NEUTRAL, text)


def m_crlf(page: Page, rng: random.Random) -> Case:
    return case(page, "CRLF line ends", NEUTRAL, page.text.replace("\n", "\r\n"))


# refuse: any page ------------------------------------------------------------------------------------------
def m_truncate(page: Page, rng: random.Random) -> Case:
    end = page.text.lower().rfind("</html")
    cut = rng.randrange(2048, end)
    return case(page, "truncated", REFUSE, page.text[:cut], error=TruncatedPageError)


def m_truncate_in_results(page: Page, rng: random.Random) -> Case | None:
    rows = body_rows(page.text, page.kind) if page.kind in TABLE_OPEN else []
    if not rows:
        return None
    row = rng.choice(rows)
    cut = rng.randrange(row.start(), row.end())
    return case(page, "truncated in the results", REFUSE, page.text[:cut], error=TruncatedPageError)


def m_deep_nesting(page: Page, rng: random.Random) -> Case:
    """Unclosed elements, 300 to 3000 deep, between two tags (outside scripts, where they are markup)."""
    at = rng.choice(list(TAG_GAP.finditer(page.text))).start() + 1
    text = page.text[:at] + "<div>" * rng.randint(300, 3000) + page.text[at:]
    return case(page, "deep nesting", REFUSE, text)


def m_maintenance(page: Page, rng: random.Random) -> Case:
    text = rng.choice(
        [
            MAINTENANCE_PAGE,
            "<html><head><title>Down for Maintenance</title></head><body><p>LiveRC is temporarily unavailable."
            "</p></body></html>",
        ]
    )
    return case(page, "maintenance page", REFUSE, text, error=MaintenancePageError)


def m_foreign_answer(page: Page, rng: random.Random) -> Case:
    text = rng.choice(
        [
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
            "<hr><center>nginx</center></body></html>",
            '{"error": "not found"}',
            "",
            "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser"
            "</body></html>",
        ]
    )
    return case(page, "foreign answer", REFUSE, text, error=UnrecognisedPageError)


# refuse: race pages ----------------------------------------------------------------------------------------
def m_race_delete_row(page: Page, rng: random.Random) -> Case | None:
    rows = body_rows(page.text, "race")
    if len(rows) < 2:
        return None
    row = rng.choice(rows)
    return case(page, "driver row deleted", REFUSE, page.text[: row.start()] + page.text[row.end() :])


def m_race_duplicate_row(page: Page, rng: random.Random) -> Case | None:
    rows = body_rows(page.text, "race")
    row, at = rng.choice(rows), rng.choice(rows)
    return case(
        page, "driver row duplicated", REFUSE, page.text[: at.end()] + row.group() + page.text[at.end() :]
    )


def m_race_delete_block(page: Page, rng: random.Random) -> Case | None:
    blocks = list(BLOCK.finditer(page.text))
    if not blocks:
        return None
    start, end = block_span(page.text, rng.choice(blocks))
    return case(page, "lap-data block deleted", REFUSE, page.text[:start] + page.text[end:])


def m_race_duplicate_block(page: Page, rng: random.Random) -> Case | None:
    blocks = list(BLOCK.finditer(page.text))
    if not blocks:
        return None
    start, end = block_span(page.text, rng.choice(blocks))
    return case(
        page,
        "lap-data block duplicated",
        REFUSE,
        page.text[:end] + "\n" + page.text[start:end] + page.text[end:],
    )


def _timed_laps(text: str) -> list[tuple[int, int]]:
    from mre_pipeline.connectors.liverc.racer_laps import _block_end

    spans = []
    for match in LAP_START.finditer(text):
        if match.group(1) != "0":
            end = _block_end(text, match.start())
            while end < len(text) and text[end] in " \t\r\n,":
                end += 1
            spans.append((match.start(), end))
    return spans


def m_race_delete_lap(page: Page, rng: random.Random) -> Case | None:
    laps = _timed_laps(page.text)
    if not laps:
        return None
    start, end = rng.choice(laps)
    return case(page, "lap deleted", REFUSE, page.text[:start] + page.text[end:])


def m_race_duplicate_lap(page: Page, rng: random.Random) -> Case | None:
    laps = _timed_laps(page.text)
    if not laps:
        return None
    start, end = rng.choice(laps)
    return case(page, "lap duplicated", REFUSE, page.text[:end] + page.text[start:end] + page.text[end:])


def m_race_lap_position(page: Page, rng: random.Random) -> Case | None:
    spots = js_values(page.text, "pos")
    if not spots:
        return None
    field_size = len(body_rows(page.text, "race"))
    value = str(rng.choice([field_size + 1, field_size + 7, 152738, 0]))
    return case(
        page, "lap position outside the field", REFUSE, set_value(page.text, rng.choice(spots), value)
    )


def m_race_fastest_zero(page: Page, rng: random.Random) -> Case | None:
    spots = [m for m in js_values(page.text, "fastLap") if m.group(3)]
    if not spots:
        return None
    spot = rng.choice(spots)
    zero = rng.choice(["0", "0.0", "0.000"])
    text = set_value(page.text, spot, zero)
    if rng.random() < 0.5:  # the table's Fastest Lap cell too
        text = re.sub(r"(<td>\s*)(\d+\.\d+)(<sup>)", lambda m: m.group(1) + "0.000" + m.group(3), text)
    return case(page, "fastest lap of 0", REFUSE, text)


ODD = ["-1", "0", "1e9", "99999999", "152738", "", "abc", "0.0", "-0.5", "NaN", "12.3.4", "1,5"]
CHECKED_JS = [
    "time",
    "fastLap",
    "avgLap",
    "avgTop5",
    "avgTop10",
    "top3Consecutive",
    "stdDeviation",
    "consistency",
]


def m_race_odd_number(page: Page, rng: random.Random) -> Case | None:
    """An odd value in a number the page states twice (lap data value, Pos, Laps/Time, driver id)."""
    text = page.text
    choice = rng.randrange(4)
    if choice == 0:
        spots = [m for m in js_values(text, rng.choice(CHECKED_JS)) if m.group(3) not in ("", "0")]
        if not spots:
            return None
        return case(page, "odd number", REFUSE, set_value(text, rng.choice(spots), rng.choice(ODD)))
    rows = body_rows(text, "race")
    row = rng.choice(rows)
    cells = list(re.finditer(r"<td>(.*?)</td>", row.group(), re.S))
    if choice == 1:  # the Pos cell
        target = cells[0]
    elif choice == 2:  # the Laps/Time cell
        target = cells[3]
    else:
        ids = list(re.finditer(r'data-driver-id="(\d+)"', row.group()))
        if not ids:
            return None
        target = ids[0]
    start = row.start() + target.start(1)
    return case(
        page, "odd number", REFUSE, text[:start] + rng.choice(ODD) + text[row.start() + target.end(1) :]
    )


def m_race_swap(page: Page, rng: random.Random) -> Case | None:
    """Two drivers' values of one checked kind exchanged (lap times, Pos, Laps/Time, driver ids)."""
    text = page.text
    kind = rng.randrange(4)
    if kind == 0:
        blocks = list(BLOCK.finditer(text))
        if len(blocks) < 2:
            return None
        first, second = sorted(rng.sample(range(len(blocks)), 2))
        a_spots = js_values(text[blocks[first].end() : blocks[first + 1].start()], "time")
        b_end = blocks[second + 1].start() if second + 1 < len(blocks) else len(text)
        b_spots = js_values(text[blocks[second].end() : b_end], "time")
        a_spots = [m for m in a_spots if m.group(3) != "0"]
        b_spots = [m for m in b_spots if m.group(3) != "0"]
        if not a_spots or not b_spots:
            return None
        a, b = rng.choice(a_spots), rng.choice(b_spots)
        a0, b0 = blocks[first].end(), blocks[second].end()
        spans = [(a0 + a.start(3), a0 + a.end(3), b.group(3)), (b0 + b.start(3), b0 + b.end(3), a.group(3))]
    else:
        rows = body_rows(text, "race")
        if len(rows) < 2:
            return None
        r1, r2 = sorted(rng.sample(rows, 2), key=lambda m: m.start())
        pattern = r'data-driver-id="(\d+)"' if kind == 3 else r"<td>(.*?)</td>"
        c1 = list(re.finditer(pattern, r1.group(), re.S))
        c2 = list(re.finditer(pattern, r2.group(), re.S))
        index = 0 if kind in (1, 3) else 3
        if len(c1) <= index or len(c2) <= index:
            return None
        x, y = c1[index], c2[index]
        spans = [
            (r1.start() + x.start(1), r1.start() + x.end(1), y.group(1)),
            (r2.start() + y.start(1), r2.start() + y.end(1), x.group(1)),
        ]
    for start, end, value in sorted(spans, reverse=True):
        text = text[:start] + value + text[end:]
    return case(page, "numbers swapped", REFUSE, text)


# refuse and minus: listings --------------------------------------------------------------------------------
def m_events_bad_row(page: Page, rng: random.Random) -> Case | None:
    """Event id 0, an end before the start, more drivers than entries, a sort date that is not shown."""
    rows = body_rows(page.text, "events")
    if not rows:
        return None
    row = rng.choice(rows)
    html = row.group()
    how = rng.randrange(4)
    if how == 0:
        html = re.sub(r"id=\d+", "id=0", html, count=1)
    elif how == 1:
        html = re.sub(r"(</span>\s*)([A-Z][a-z]{2} \d+, \d{4})", r"\1\2 to <br />Jan 1, 2001", html, count=1)
        html = re.sub(r"to\s*<br />([A-Z][a-z]{2} \d+, \d{4})\s*to <br />", "to <br />", html)
    elif how == 2:
        counts = list(re.finditer(r"<td>\s*(\d+)\s*</td>", html))
        if len(counts) < 2 or int(counts[-1].group(1)) >= int(counts[-2].group(1)):
            return None
        entries, drivers = counts[-2], counts[-1]
        html = (
            html[: entries.start(1)]
            + drivers.group(1)
            + html[entries.end(1) : drivers.start(1)]
            + entries.group(1)
            + html[drivers.end(1) :]
        )
    else:
        html = re.sub(
            r"(\d{4})-(\d\d)-(\d\d)",
            lambda m: f"{int(m.group(1)) - 1}-{m.group(2)}-{m.group(3)}",
            html,
            count=1,
        )
    return case(
        page,
        "events row that cannot be right",
        REFUSE,
        page.text[: row.start()] + html + page.text[row.end() :],
    )


def m_duplicate_listing_row(page: Page, rng: random.Random) -> Case | None:
    rows = body_rows(page.text, page.kind)
    if not rows:
        return None
    row = rng.choice([r for r in rows if "href" in r.group()] or rows)
    mutation = f"{page.kind} row duplicated"
    return case(page, mutation, REFUSE, page.text[: row.end()] + row.group() + page.text[row.end() :])


def m_delete_listing_row(page: Page, rng: random.Random) -> Case | None:
    rows = [
        r
        for r in body_rows(page.text, page.kind)
        if re.search(r"view_race_result|view%5Frace|view_event|view%5Fevent|liverc\.com", r.group())
    ]
    if not rows:
        return None
    row = rng.choice(rows)
    text = page.text[: row.start()] + page.text[row.end() :]
    reference = page.reference
    if page.kind == "event":
        kept = [r for r in reference.races if f"id={r.race_id}" not in row.group()]
        expected = replace(reference, races=tuple(kept))
    elif page.kind == "events":
        expected = [e for e in reference if f"id={e.event_id}" not in row.group()]
    else:
        expected = [t for t in reference if f"//{t.slug}.liverc.com" not in row.group().lower()]
    if (expected == [] or expected == reference) and page.kind != "event":
        return None
    return case(page, f"{page.kind} row deleted", MINUS, text, expected=expected)


def m_event_bad_page(page: Page, rng: random.Random) -> Case | None:
    """A race listed twice, or the event's dates reversed."""
    if rng.random() < 0.5:
        rows = [r for r in body_rows(page.text, "event") if "race" in r.group() and "href" in r.group()]
        if not rows:
            return None
        row = rng.choice(rows)
        text = page.text[: row.end()] + row.group() + page.text[row.end() :]
        return case(page, "race listed twice", REFUSE, text)
    text = re.sub(
        r"(</span>\s*)([A-Z][a-z]{2}\s+\d+,\s+\d{4})(\s*to\s*[A-Z][a-z]{2}\s+\d+,\s+\d{4})?(\s*</h5>)",
        lambda m: m.group(1) + m.group(2) + " to Jan 1, 2001" + m.group(4),
        page.text,
        count=1,
    )
    return case(page, "event ends before it starts", REFUSE, text)


def m_entry_rows(page: Page, rng: random.Random) -> Case | None:
    rows = [m for m in ROW.finditer(page.text) if re.search(r"<span class=\"hidden\">", m.group())]
    if not rows:
        return None
    row = rng.choice(rows)
    if rng.random() < 0.5:
        return case(page, "entry row deleted", REFUSE, page.text[: row.start()] + page.text[row.end() :])
    return case(
        page, "entry row duplicated", REFUSE, page.text[: row.end()] + row.group() + page.text[row.end() :]
    )


# damaged and foreign ---------------------------------------------------------------------------------------
JUNK = [
    "'",
    '"',
    "{",
    "}",
    "[",
    "]",
    "<",
    ">",
    "&",
    "\\",
    "\x00",
    "é",
    "佐",
    ";",
    ",",
    "/",
    ":",
    "\n",
    "<td>",
    "</tr>",
]
NUMBERS = re.compile(r"\d+")
RENAMED = [
    "race_result", "driver_name", "car_num", "hidden", "track_list", "events", "tab-pane", "class_header",
    "racerLaps", "lapNum", "laps", "data-driver-id", "entry_list_data", "page-header", "class_sub_header",
]  # fmt: skip


def damage(text: str, rng: random.Random) -> str:
    """One to three random byte-level edits."""
    for _ in range(rng.randint(1, 3)):
        n = len(text)
        if n < 2:
            return text
        kind = rng.randrange(10)
        i, j = sorted(rng.sample(range(n), 2))
        if kind == 0:  # truncated download
            text = text[: rng.randrange(n)]
        elif kind == 1:  # a lost slice
            text = text[:i] + text[min(j, i + rng.randint(1, 4000)) :]
        elif kind == 2:  # a duplicated slice
            text = text[:j] + text[i : min(j, i + 3000)] + text[j:]
        elif kind == 3:  # stray characters
            for _ in range(rng.randint(1, 40)):
                k = rng.randrange(len(text))
                text = text[:k] + rng.choice(JUNK) + text[k + 1 :]
        elif kind == 4:  # swapped slices
            text = text[i:j] + text[:i] + text[j:]
        elif kind == 5:  # a renamed class or key
            word = rng.choice(RENAMED)
            text = text.replace(word, rng.choice(["", word.upper(), word + "x", "x"]), rng.randint(1, 50))
        elif kind == 6:  # a garbled number
            spots = list(NUMBERS.finditer(text, i, min(n, i + 20000)))
            if spots:
                match = rng.choice(spots)
                replacement = rng.choice(
                    ["", "abc", "99999999999999999999999", "-1", "1e9", "0", "١٢", "NaN"]
                )
                text = text[: match.start()] + replacement + text[match.end() :]
        elif kind == 7:  # tags dropped
            tag = rng.choice(
                ["</td>", "<td>", "</tr>", "<tr>", "</table>", "</script>", "<tbody>", "</a>", "<sup>"]
            )
            text = text.replace(tag, "", rng.randint(1, 100))
        elif kind == 8:  # nesting and a very long line
            text = text[:i] + "<div>" * rng.randint(10, 3000) + "x" * rng.randint(0, 100000) + text[i:]
        else:  # only a fragment of the page
            text = text[i:j]
    return text


def m_damaged(page: Page, rng: random.Random) -> Case:
    return case(page, "random damage", DAMAGED, damage(page.text, rng))


def m_foreign(page: Page, rng: random.Random) -> Case:
    other = rng.choice([k for k in KINDS if k != page.kind])
    text = damage(page.text, rng) if rng.random() < 0.5 else page.text
    return Case(f"{page.kind} page to the {other} parser", FOREIGN, page, text, _parser(other))


NEUTRAL_MUTATIONS: list[Mutator] = [m_whitespace, m_comments, m_upper_tags, m_attributes, m_crlf]
MUTATIONS: list[tuple[float, tuple[str, ...], Mutator]] = [
    *[(0.03, KINDS, m) for m in NEUTRAL_MUTATIONS],
    (0.05, KINDS, m_truncate),
    (0.04, ("race", "events", "catalogue", "event"), m_truncate_in_results),
    (0.03, KINDS, m_deep_nesting),
    (0.01, KINDS, m_maintenance),
    (0.01, KINDS, m_foreign_answer),
    (0.03, ("race",), m_race_delete_row),
    (0.02, ("race",), m_race_duplicate_row),
    (0.03, ("race",), m_race_delete_block),
    (0.01, ("race",), m_race_duplicate_block),
    (0.03, ("race",), m_race_delete_lap),
    (0.01, ("race",), m_race_duplicate_lap),
    (0.03, ("race",), m_race_lap_position),
    (0.02, ("race",), m_race_fastest_zero),
    (0.04, ("race",), m_race_odd_number),
    (0.04, ("race",), m_race_swap),
    (0.04, ("events",), m_events_bad_row),
    (0.02, ("events", "catalogue"), m_duplicate_listing_row),
    (0.04, ("events", "catalogue", "event"), m_delete_listing_row),
    (0.03, ("event",), m_event_bad_page),
    (0.03, ("entry-list",), m_entry_rows),
    (0.30, KINDS, m_damaged),
    (0.05, KINDS, m_foreign),
]


def cases(count: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    pages = all_pages()
    weights = [m[0] for m in MUTATIONS]
    made: list[Case] = []
    while len(made) < count:
        _, kinds, mutator = rng.choices(MUTATIONS, weights)[0]
        fitting = [p for p in pages if p.kind in kinds]
        page = rng.choices(fitting, [p.weight for p in fitting])[0]
        if page.reference is None:
            continue  # a generated event without an entry list
        made_case = mutator(page, rng)
        if made_case is None or (made_case.expect in (REFUSE, MINUS) and made_case.text == page.text):
            continue  # the mutation found nothing to change on this page
        made.append(made_case)
    return made


# -- judging -------------------------------------------------------------------------------------------------
def _validate(item: Case, record: Any) -> None:
    """What ingestion does next with a race or event record."""
    if item.expect == FOREIGN:
        return
    if isinstance(record, RaceResult) and item.page.event is not None:
        validate_event(item.page.event, [record])
    if isinstance(record, EventDetail) and item.page.races is not None:
        validate_event(record, list(item.page.races))


def _checked_race_values(race: RaceResult) -> list[tuple]:
    """What a race page states twice (table and lap data): what random damage must not change silently."""
    return [
        (
            d.driver_id,
            d.driver_name,
            d.position,
            d.laps_completed,
            d.total_time_s,
            tuple((lap.lap_number, lap.lap_time_s) for lap in d.laps),
            d.fastest_lap_s,
            d.avg_lap_s,
            d.avg_top5_s,
            d.avg_top10_s,
            d.avg_top15_s,
            d.top3_consecutive_s,
            None if d.std_deviation_s is None else round(d.std_deviation_s, 2),
            None if d.consistency_pct is None else round(d.consistency_pct, 2),
        )  # fmt: skip
        for d in race.drivers
    ]


def _obeys_rules(record: Any) -> bool:
    if isinstance(record, EventDetail):
        return not event_detail_problems(record)
    if isinstance(record, list):
        return all(not event_summary_problems(r) for r in record if hasattr(r, "event_id"))
    return True


def _is_empty(record: Any) -> bool:
    if isinstance(record, list):
        return not record
    if isinstance(record, EntryList):
        return not record.entries
    if isinstance(record, EventDetail):
        return not record.races
    return False


def wrong(item: Case, record: Any) -> str | None:
    """Why the record is silently wrong for its mutation class, or None when it is correct."""
    reference = item.page.reference
    if item.expect in (NEUTRAL, REFUSE):
        return None if record == reference else "differs from the unmutated page's record"
    if item.expect == MINUS:
        return None if record == item.expected else "is not the unmutated record without the deleted row"
    if item.expect == FOREIGN:
        return None if _is_empty(record) else "another page type yielded data"
    if isinstance(record, RaceResult):
        if _checked_race_values(record) != _checked_race_values(reference):
            return "changes a value the page states twice"
        return None
    return None if _obeys_rules(record) else "breaks a plausibility rule"


@dataclass
class Tally:
    outcomes: Counter = field(default_factory=Counter)
    by_mutation: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")

    def summary(self, elapsed: float) -> str:
        errors = {k: v for k, v in sorted(self.outcomes.items()) if k != "correct record"}
        return (
            f"fuzz: {sum(self.outcomes.values())} cases in {elapsed:.1f} s; correct records "
            f"{self.outcomes['correct record']}; typed errors {sum(errors.values())} {errors}; "
            f"silently wrong {len(self.failures)}; slowest case {self.slowest[0] * 1000:.0f} ms ({self.slowest[1]})"
        )


def run(items: list[Case]) -> Tally:
    tally = Tally()
    for item in items:
        started = time.perf_counter()
        label = f"{item.mutation} on {item.page.kind} ({item.page.origin})"
        try:
            record = item.parse(item.text)
            _validate(item, record)
        except TYPED as exc:
            outcome = type(exc).__name__
            if item.expect == NEUTRAL:
                tally.failures.append(f"{label}: refused a content-neutral change: {exc}")
            elif item.error is not None and not isinstance(exc, item.error):
                tally.failures.append(f"{label}: expected {item.error.__name__}, got {outcome}: {exc}")
        else:
            outcome = "correct record"
            reason = wrong(item, record)
            if reason:
                tally.failures.append(f"{label}: the record {reason}")
        tally.outcomes[outcome] += 1
        tally.by_mutation[(item.mutation, outcome == "correct record")] += 1
        tally.slowest = max(tally.slowest, (time.perf_counter() - started, label))
    return tally


# -- tests ---------------------------------------------------------------------------------------------------
def test_every_unmutated_page_gives_its_reference_and_validates() -> None:
    for page in all_pages():
        if page.reference is None:
            continue
        record = page.parse(page.text)
        assert record == page.reference, f"{page.kind} ({page.origin})"
        item = case(page, "none", NEUTRAL, page.text)
        _validate(item, record)


def test_fuzz_parsers_and_validation() -> None:
    started = time.perf_counter()
    items = cases(CASES, SEED)
    tally = run(items)
    elapsed = time.perf_counter() - started
    line = tally.summary(elapsed)
    print("\n" + line)
    for (mutation, correct), n in sorted(tally.by_mutation.items()):
        print(f"  {mutation:40s} {'correct record' if correct else 'typed error':15s} {n}")
    assert sum(tally.outcomes.values()) == CASES
    kinds = Counter(f.partition(":")[0] for f in tally.failures)
    assert not tally.failures, f"{len(tally.failures)} silently wrong {dict(kinds)}:\n" + "\n".join(
        tally.failures[:20]
    )
    assert tally.outcomes["correct record"] > CASES // 10 and len(tally.outcomes) > 3  # both paths exercised


def test_fuzz_is_deterministic() -> None:
    first = [(c.mutation, c.text) for c in cases(60, seed=3)]
    assert first == [(c.mutation, c.text) for c in cases(60, seed=3)]


def test_captured_pages_present_or_skipped_cleanly() -> None:
    """The captured pages join the fuzz when ../shared/liverc exists; without it only generated pages run."""
    assert captured_available() == (captured_root() / "ground_truth.json").exists()
    assert any(p.origin == "captured" for p in all_pages()) == captured_available()


@pytest.mark.parametrize("mutator", NEUTRAL_MUTATIONS, ids=lambda m: m.__name__)
def test_neutral_mutations_change_the_text(mutator: Mutator) -> None:
    page = next(p for p in all_pages() if p.kind == "race")
    assert mutator(page, random.Random(1)).text != page.text  # type: ignore[union-attr]
