"""Fuzz the payload parsers with mutated JSON (seeded, a few thousand cases): each case ends as the original
records or a typed, explicit error; never an untyped exception, never the parser's safety net.

Mutations come in two families. *Strict* ones can only leave the records unchanged (the parser ignores the
key) or make them impossible (wrong JSON types, negative numbers, a driver listed twice, a crossing lost or
doubled, a lap one millisecond longer, a required key dropped): they must end in the original records or a
typed error. *Value* ones change published data into other plausible data (a name, a grid slot, a swapped
row, an optional figure dropped, the JSON text garbled): they may also end in different records, but still
only in records or typed errors.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from mre_pipeline.connectors.errors import ConnectorError
from mre_pipeline.connectors.everlaps.http import decode_json
from mre_pipeline.connectors.everlaps.payloads.event import parse_event
from mre_pipeline.connectors.everlaps.payloads.heat import parse_heat
from mre_pipeline.fake_everlaps.captured import capture_available, captured_payloads, load_capture
from mre_pipeline.fake_everlaps.generator import generate_event
from mre_pipeline_tests.connectors.everlaps.conftest import assert_plain_sentence

URL = "http://fuzz.invalid/api/res/1?l=en"
PER_CASE_LIMIT_S = 1.0
# Keys the parsers read but do not require (or whose absence changes the tree): dropping or nulling them may
# change the records legitimately. Every other dropped key must be ignored (same records) or refused.
OPTIONAL = {
    "name", "surname", "carnumber", "grid", "fastest", "fastinlap", "avg", "t3", "t5", "t10", "reg", "y",
    "title", "location", "organizer", "mapLink", "fromdate", "todate", "categories", "inscriptions", "results",
    "suffix", "track", "club", "children",
}  # fmt: skip
LENIENT_TYPES = {"carnumber", "reg"}  # a car number may be text, a percentage a number
OTHER_TYPES: tuple[Any, ...] = ("text", 12345, 1.5, True, [], {"k": 1})
JUNK = ['"', "{", "}", "[", "]", ",", ":", "\\", "\x00", "é", "🏁", "-", "9", "e", "n", "null"]


@dataclass(frozen=True)
class Target:
    """One payload to mutate, and how to parse it alongside the untouched others."""

    label: str
    payload: Any
    parse: Callable[[Any], Any]

    def outcome(self, payload: Any) -> Any:
        return self.parse(payload)


def _targets_for(payloads: dict[str, Any], event_id: int, label: str) -> list[Target]:
    card, tree = payloads[f"/api/frontend/event/{event_id}"], payloads[f"/api/res/{event_id}"]
    detail = parse_event(card, tree, event_id)
    targets = [
        Target(f"{label} card", card, lambda p: parse_event(p, tree, event_id, card_url=URL)),
        Target(f"{label} tree", tree, lambda p: parse_event(card, p, event_id, tree_url=URL)),
    ]
    for race in detail.races:
        node = payloads[f"/api/res/{event_id}/{race.locator}"]
        targets.append(
            Target(f"{label} heat {race.locator}", node, lambda p, r=race: parse_heat(p, r, url=URL))
        )
    return targets


def _locations(payload: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in the payload, iteratively."""
    found: list[tuple[Any, Any]] = []
    stack = [payload]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            found.append((node, key))
            if isinstance(value, dict | list):
                stack.append(value)
    return found


def _rows(payload: Any) -> list[dict[str, Any]]:
    rows = payload.get("drivers") if isinstance(payload, dict) else None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _same_type(a: Any, b: Any) -> bool:
    return type(a) is type(b)


def mutate(payload: Any, rng: random.Random) -> tuple[str, bool, Any]:
    """(kind, strict, mutated copy). Text-level mutations return the JSON text instead of a payload."""
    data = json.loads(json.dumps(payload))
    kind = rng.choice(
        ["wrong_type", "negative", "drop_key", "null", "duplicate_driver", "drop_crossing", "extra_crossing",
         "shift_lap", "swap_drivers", "retext", "renumber", "text"]
    )  # fmt: skip
    places = _locations(data)
    rows = _rows(data)
    if kind == "wrong_type":
        node, key = rng.choice([p for p in places if p[0][p[1]] is not None] or places)
        value = node[key]
        node[key] = rng.choice([t for t in OTHER_TYPES if not _same_type(t, value)])
        lenient = (
            key in LENIENT_TYPES
            and isinstance(node[key], str | int | float)
            and not isinstance(node[key], bool)
        )
        return kind, not lenient, data
    if kind == "negative":
        ints = [p for p in places if type(p[0][p[1]]) is int]
        if ints:
            node, key = rng.choice(ints)
            node[key] = -abs(node[key]) - 1
        return kind, True, data
    if kind in ("drop_key", "null"):
        keyed = [p for p in places if isinstance(p[0], dict)]
        node, key = rng.choice(keyed)
        if kind == "drop_key":
            del node[key]
        else:
            node[key] = None
        return kind, key not in OPTIONAL, data
    if kind == "duplicate_driver" and rows:
        data["drivers"].append(json.loads(json.dumps(rng.choice(rows))))
        return kind, True, data
    with_crossings = [r for r in rows if isinstance(r.get("lapsdetail"), list) and r["lapsdetail"]]
    if kind in ("drop_crossing", "extra_crossing", "shift_lap") and with_crossings:
        crossings = rng.choice(with_crossings)["lapsdetail"]
        index = rng.randrange(len(crossings))
        if kind == "drop_crossing":
            del crossings[index]
        elif kind == "extra_crossing":
            crossings.insert(index, dict(crossings[index]))
        else:
            crossings[index] = {**crossings[index], "t": crossings[index]["t"] + 1}
        return kind, True, data
    if kind == "swap_drivers" and len(rows) > 1:
        i, j = rng.sample(range(len(data["drivers"])), 2)
        data["drivers"][i], data["drivers"][j] = data["drivers"][j], data["drivers"][i]
        return kind, False, data
    if kind == "retext":
        texts = [p for p in places if isinstance(p[0][p[1]], str)]
        if texts:
            node, key = rng.choice(texts)
            node[key] = node[key] + rng.choice([" é", "  ", "🏁", "", " Núñez"])
        return kind, False, data
    if kind == "renumber":
        ints = [p for p in places if type(p[0][p[1]]) is int]
        if ints:
            node, key = rng.choice(ints)
            node[key] = node[key] + rng.choice([1, 2, 1000])
        return kind, False, data
    return "text", False, _garble(json.dumps(data, ensure_ascii=False), rng)


def _garble(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 3)):
        if len(text) < 2:
            break
        i, j = sorted(rng.sample(range(len(text)), 2))
        roll = rng.randrange(4)
        if roll == 0:
            text = text[: rng.randrange(len(text))]  # truncated download
        elif roll == 1:
            text = text[:i] + text[min(j, i + rng.randint(1, 200)) :]  # a lost slice
        elif roll == 2:
            for _ in range(rng.randint(1, 10)):
                k = rng.randrange(len(text))
                text = text[:k] + rng.choice(JUNK) + text[k + 1 :]
        else:
            text = text[:i] + "[" * rng.randint(1, 5000) + text[i:]  # deep nesting
    return text


def _run(targets: list[Target], cases: int, seed: int) -> Counter:
    rng = random.Random(seed)
    originals = [t.outcome(t.payload) for t in targets]
    outcomes: Counter = Counter()
    for _ in range(cases):
        index = rng.randrange(len(targets))
        target = targets[index]
        kind, strict, mutated = mutate(target.payload, rng)
        started = time.perf_counter()
        try:
            payload = decode_json(mutated, URL) if kind == "text" else mutated
            result = target.outcome(payload)
        except ConnectorError as exc:
            message = str(exc)
            assert "does not understand" not in message, (
                f"{kind} on {target.label} reached the safety net: {message}"
            )
            assert_plain_sentence(message, URL)
            outcomes["typed error"] += 1
            outcomes[f"{'strict' if strict else 'value'} error"] += 1
        else:
            same = result == originals[index]
            assert same or not strict, f"strict mutation {kind} on {target.label} changed the records"
            outcomes["same records" if same else "changed records"] += 1
        elapsed = time.perf_counter() - started
        assert elapsed < PER_CASE_LIMIT_S, f"{kind} on {target.label} took {elapsed:.2f} s"
        outcomes[kind] += 1
    return outcomes


def _generated_targets() -> Iterator[Target]:
    for seed in (41, 42):
        event = generate_event(seed, classes=1, drivers_per_class=10, non_starter_rate=0.2)
        yield from _targets_for(event.payloads, event.event_id, f"generated {seed}")


def test_fuzz_generated_payloads() -> None:
    outcomes = _run(list(_generated_targets()), cases=1500, seed=20260322)
    assert outcomes["typed error"] + outcomes["same records"] + outcomes["changed records"] == 1500
    assert (
        outcomes["strict error"] > 300 and outcomes["same records"] > 100 and outcomes["changed records"] > 50
    )


@pytest.mark.skipif(not capture_available(), reason="captured Everlaps event not found (../shared/everlaps)")
def test_fuzz_captured_payloads() -> None:
    capture = load_capture()
    targets = _targets_for(captured_payloads(capture), capture["frontend_event"]["eventId"], "captured")
    outcomes = _run(targets, cases=1500, seed=3702)
    assert outcomes["typed error"] + outcomes["same records"] + outcomes["changed records"] == 1500
    assert (
        outcomes["strict error"] > 300 and outcomes["same records"] > 100 and outcomes["changed records"] > 50
    )


def test_mutations_are_deterministic() -> None:
    payload = {"drivers": [{"driverid": 1, "laps": 1, "time": 2, "lapsdetail": [{"t": 1}, {"t": 1}]}]}
    first = [mutate(payload, random.Random(3)) for _ in range(5)]
    assert first == [mutate(payload, random.Random(3)) for _ in range(5)]
