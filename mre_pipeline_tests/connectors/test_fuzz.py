"""Fuzz every parser with mutated and truncated pages: each outcome is a record or a ConnectorError, fast.

Deterministic (fixed seeds). Mutations imitate what a drifting or broken page does: truncation, lost or
duplicated slices, stray quotes and braces in the inline JS, renamed classes, garbled numbers, NUL bytes.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mre_pipeline.connectors.errors import ConnectorError
from mre_pipeline.connectors.liverc.pages.catalogue import parse_catalogue
from mre_pipeline.connectors.liverc.pages.entry_list import parse_entry_list
from mre_pipeline.connectors.liverc.pages.event import parse_event
from mre_pipeline.connectors.liverc.pages.events import parse_events
from mre_pipeline.connectors.liverc.pages.race import parse_race
from mre_pipeline.connectors.records import EntryList, EventDetail, EventSummary, RaceResult, TrackRecord
from mre_pipeline_tests.connectors.conftest import captured_available, captured_root

PER_CASE_LIMIT_S = 1.0

PARSERS: dict[str, Callable[[str], Any]] = {
    "catalogue": lambda html: parse_catalogue(html, url="fuzz://catalogue"),
    "events": lambda html: parse_events(html, "fuzz", url="fuzz://events"),
    "event": lambda html: parse_event(html, "fuzz", 1, url="fuzz://event"),
    "race": lambda html: parse_race(html, 1, url="fuzz://race"),
    "entry-list": lambda html: parse_entry_list(html, 1, url="fuzz://entry-list"),
}


def _valid(page_type: str, value: Any) -> bool:
    """The parser returned the record shape it promises."""
    if page_type == "catalogue":
        return isinstance(value, list) and all(isinstance(v, TrackRecord) for v in value)
    if page_type == "events":
        return isinstance(value, list) and all(isinstance(v, EventSummary) for v in value)
    kinds = {"event": EventDetail, "race": RaceResult, "entry-list": EntryList}
    return isinstance(value, kinds[page_type])


CAPTURED = {
    "catalogue": "live.liverc.com/index.html",
    "events": "canberraoffroad/events.html",
    "event": "canberraoffroad/event-486677.html",
    "race": "canberraoffroad/race-6304829.html",
    "entry-list": "silverstate/entry-list.html",
}
CAPTURED_EXTRA = {
    "race": "canberraoffroad/race-6304822.html",
    "event": "canberraoffroad/event-486677-two-races.html",
}
# Cases per page type; the catalogue is 30x slower to parse than the others, so it gets fewer.
CAPTURED_CASES = {"catalogue": 80, "events": 220, "event": 220, "race": 300, "entry-list": 180}

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


def mutate(text: str, rng: random.Random) -> str:
    """One to three random mutations."""
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
            word = rng.choice(
                [
                    "race_result",
                    "driver_name",
                    "car_num",
                    "hidden",
                    "track_list",
                    "events",
                    "tab-pane",
                    "class_header",
                    "racerLaps",
                    "lapNum",
                    "laps",
                    "data-driver-id",
                    "entry_list_data",
                    "page-header",
                ]
            )
            text = text.replace(word, rng.choice(["", word.upper(), word + "x", "x"]), rng.randint(1, 50))
        elif kind == 6:  # garbled numbers
            spots = list(NUMBERS.finditer(text, i, min(n, i + 20000)))
            for match in rng.sample(spots, min(len(spots), rng.randint(1, 30))):
                replacement = rng.choice(
                    ["", "abc", "99999999999999999999999", "-1", "1e9", "0", "١٢", "NaN"]
                )
                text = text[: match.start()] + replacement + text[match.end() :]
                break  # offsets move after the first replacement
        elif kind == 7:  # tags dropped
            tag = rng.choice(
                ["</td>", "<td>", "</tr>", "<tr>", "</table>", "</script>", "<tbody>", "</a>", "<sup>"]
            )
            text = text.replace(tag, "", rng.randint(1, 100))
        elif kind == 8:  # deep nesting and a very long line
            text = text[:i] + "<div>" * rng.randint(10, 3000) + "x" * rng.randint(0, 100000) + text[i:]
        else:  # only a fragment of the page
            text = text[i:j]
    return text


def _cases(
    sources: dict[str, list[str]], counts: dict[str, int], seed: int
) -> Iterator[tuple[str, str, str]]:
    """(page type the page came from, parser to feed, mutated text); one in five goes to another parser."""
    rng = random.Random(seed)
    kinds = list(PARSERS)
    for page_type, count in counts.items():
        for _ in range(count):
            text = mutate(rng.choice(sources[page_type]), rng)
            target = page_type if rng.random() > 0.2 else rng.choice(kinds)
            yield page_type, target, text


def _run(cases: Iterator[tuple[str, str, str]]) -> Counter:
    outcomes: Counter = Counter()
    slowest = (0.0, "")
    for source, target, text in cases:
        started = time.perf_counter()
        try:
            result = PARSERS[target](text)
        except ConnectorError:
            outcomes["typed error"] += 1
        else:
            assert _valid(target, result), f"{target} parser returned {type(result).__name__}"
            outcomes["record"] += 1
        elapsed = time.perf_counter() - started
        slowest = max(slowest, (elapsed, f"{source}->{target}"))
        assert elapsed < PER_CASE_LIMIT_S, f"{source} page fed to the {target} parser took {elapsed:.2f} s"
    outcomes["slowest_ms"] = int(slowest[0] * 1000)
    return outcomes


@pytest.mark.liverc_pages
def test_fuzz_captured_pages(captured_dir) -> None:
    sources = {kind: [(captured_dir / path).read_text(encoding="utf-8")] for kind, path in CAPTURED.items()}
    for kind, path in CAPTURED_EXTRA.items():
        sources[kind].append((captured_dir / path).read_text(encoding="utf-8"))
    outcomes = _run(_cases(sources, CAPTURED_CASES, seed=20261124))
    assert outcomes["record"] + outcomes["typed error"] == sum(CAPTURED_CASES.values()) == 1000
    assert outcomes["record"] > 50 and outcomes["typed error"] > 50  # both paths really exercised


def _generated_sources() -> dict[str, list[str]]:
    from mre_pipeline.fake_liverc.generator import generate_site

    site = generate_site(seed=11, tracks=2, events_per_track=2)
    sources: dict[str, list[str]] = {kind: [] for kind in PARSERS}
    for style in ("raw", "pretty"):
        for (slug, path), html in site.pages(style).items():
            if slug is None:
                kind = "catalogue"
            elif path == "/events/":
                kind = "events"
            elif "view_event" in path:
                kind = "event"
            elif "view_race_result" in path:
                kind = "race"
            else:
                kind = "entry-list"
            sources[kind].append(html)
    return sources


def test_fuzz_generated_pages() -> None:
    sources = _generated_sources()
    counts = {kind: 80 for kind in PARSERS}
    outcomes = _run(_cases(sources, counts, seed=7))
    assert outcomes["record"] + outcomes["typed error"] == 400
    assert outcomes["record"] > 20 and outcomes["typed error"] > 20


def test_fuzz_is_deterministic() -> None:
    text = "<html><body>" + "<p>racerLaps[1] = {'a' : '1'};</p>" * 50 + "</body></html>"
    first = [mutate(text, random.Random(3)) for _ in range(5)]
    assert first == [mutate(text, random.Random(3)) for _ in range(5)]


def test_captured_pages_present_or_skipped_cleanly() -> None:
    """The captured half needs ../shared/liverc; without it that test skips with the path in the reason."""
    assert captured_available() == (captured_root() / "ground_truth.json").exists()
