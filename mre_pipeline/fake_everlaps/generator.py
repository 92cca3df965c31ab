"""A deterministic Everlaps-shaped event of any size, with the exact records the connector must return.

``generate_event(seed, classes=..., drivers_per_class=..., ...)`` builds, from ``random.Random(seed)``, the
payloads of every endpoint the connector calls (event card, results tree, one node per heat) and, from the
same generated values, the expected :class:`EventDetail` and one :class:`RaceResult` per heat. The shape
follows the capture of event 3702: per class a "Qualify" section with a "Series" draw overview (a leaf that
is not a heat) and rounds of series, a consolation, semi-finals, and a final directly under "Finals" without
a ``results`` count; qualifying heats do not count the first crossing (``countfirstlap`` false, staggered
start, some drivers triggering at t = 0), the others do. Drivers have accented names (some with stray
spaces), non-starters publish ``laps`` -1 without crossings or 0 with one crossing, some retire early, and
some laps are crash laps. A pending heat (``results`` 0) can be listed but has no payload, as on the site.
"""

from __future__ import annotations

import random
import statistics
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from mre_pipeline.connectors.records import (
    DriverResult,
    EventDetail,
    EventRef,
    LapRecord,
    RaceResult,
    RaceSummary,
    TrackRecord,
)
from mre_pipeline.fake_everlaps.server import FakeEverlapsSite

FIRST_NAMES = (
    "José", "María", "Íñigo", "Sofía", "Raúl", "João", "Ángel", "Nuño", "Inês", "Lucía", "Adrián", "Begoña",
    "Martí", "Joaquín", "Zoë", "André", "Pilar", "Óscar", "Núria", "Gonçalo", "Miguel Ángel", "Ramón",
)  # fmt: skip
SURNAMES = (
    "Núñez", "Pérez García", "Gonçalves", "Muñoz Ibáñez", "Fernández", "Conceição", "Sánchez  Jiménez (Ge)",
    "Álvarez", "Peña", "Rodríguez", "Magalhães", "Castaño", "Úbeda", "Ortíz", "Iglesias", "Leitão",
)  # fmt: skip
CLASS_NAMES = (
    "1:8 Nitro Buggy",
    "1:8 Electric Buggy",
    "1:10 Touring Nitro",
    "1:8 Nitro GT",
    "1:10 Buggy 2WD",
)
VENUES = (
    ("Circuito Municipal de Águilas", "Club RC Águilas"),
    ("Pista Ciudad de Cáceres", "Club Automodelismo Cáceres"),
    ("Circuito da Lousã", "Clube de Automodelismo da Lousã"),
    ("Circuit Sant Vicenç", "Club Radio Control Sant Vicenç"),
)
SECONDS_PER_MINUTE = 60_000


@dataclass(frozen=True)
class Driver:
    driver_id: int
    first: str  # as published, possibly with stray spaces
    surname: str
    car_number: int

    @property
    def name(self) -> str:
        return " ".join(f"{self.first} {self.surname}".split())


@dataclass(frozen=True)
class HeatPlan:
    path: str
    section: str  # tree parent name
    leaf_name: str
    title: str  # desc.title
    counts_lead_in: bool
    minutes: int
    drivers: tuple[Driver, ...]


@dataclass
class GeneratedEvent:
    """Payloads by endpoint path, and the records the connector must return for them."""

    event_id: int
    payloads: dict[str, Any]
    detail: EventDetail
    results: dict[int, RaceResult]  # by race id
    pending_paths: tuple[str, ...] = field(default_factory=tuple)  # listed with results 0, never served

    @property
    def ref(self) -> EventRef:
        """What ingestion asks the connector for: the event id is enough."""
        return EventRef("everlaps", self.event_id)

    def site(self) -> FakeEverlapsSite:
        site = FakeEverlapsSite()
        for path, payload in self.payloads.items():
            site.put(path, payload)
        return site

    @property
    def driver_results(self) -> int:
        return sum(len(r.drivers) for r in self.results.values())


def race_id(path: str) -> int:
    klass, session, round_, serie = (int(p) for p in path.split("/"))
    return klass * 10**6 + session * 10**4 + round_ * 100 + serie


def venue_slug(latitude: float, longitude: float) -> str:
    lat, lng = round(latitude * 1000), round(longitude * 1000)
    return f"everlaps-{'n' if lat >= 0 else 's'}{abs(lat):05d}-{'e' if lng >= 0 else 'w'}{abs(lng):06d}"


def generate_event(
    seed: int,
    *,
    event_id: int | None = None,
    classes: int = 2,
    drivers_per_class: int = 14,
    qualifying_rounds: int = 3,
    series_size: int = 8,
    consolation_series: int = 1,
    semi_series: int = 2,
    heat_minutes: tuple[int, int, int, int] = (5, 8, 10, 15),  # qualifying, consolation, semi, final
    non_starter_rate: float = 0.08,
    with_coordinates: bool = True,
    pending_heat: bool = True,
) -> GeneratedEvent:
    """One event; every argument scales it (``classes=6, drivers_per_class=60`` makes thousands of laps)."""
    rng = random.Random(seed)
    event_id = event_id or 900_000 + seed
    next_driver = iter(range(5_000_000 + seed * 10_000, 5_000_000 + seed * 10_000 + 10_000))
    payloads: dict[str, Any] = {}
    summaries: list[RaceSummary] = []
    results: dict[int, RaceResult] = {}
    tree_classes: list[dict[str, Any]] = []
    categories: list[dict[str, Any]] = []
    pending: list[str] = []
    for k in range(1, classes + 1):
        class_id = event_id * 100 + k
        name = CLASS_NAMES[(k - 1) % len(CLASS_NAMES)]
        suffix = "Júnior" if k % 2 == 0 else None
        class_name = f"{name} {suffix}" if suffix else name
        drivers = [_driver(rng, next(next_driver), number) for number in range(1, drivers_per_class + 1)]
        plans, tree_node = _class_tree(
            rng, class_id, name, suffix, drivers, qualifying_rounds, series_size, consolation_series,
            semi_series, heat_minutes, pending_heat,
        )  # fmt: skip
        tree_classes.append(tree_node)
        if pending_heat:
            pending.append(f"{class_id}/5/1/2")
        categories.append(_category(rng, class_id, name, suffix, drivers))
        for plan in plans:
            payload, expected = _heat(rng, plan, non_starter_rate, len(summaries) + 1)
            rid = race_id(plan.path)
            payloads[f"/api/res/{event_id}/{plan.path}"] = payload
            results[rid] = expected
            summaries.append(_summary(rid, plan, class_name, race_number=len(summaries) + 1))
    card, detail = _card(rng, event_id, categories, tuple(summaries), with_coordinates)
    detail = replace(detail, races_pending=len(pending))
    payloads[f"/api/frontend/event/{event_id}"] = card
    payloads[f"/api/res/{event_id}"] = {
        "id": event_id,
        "name": card["title"],
        "date": card["todate"].replace(".000Z", "+00:00"),
        "track": card["location"],
        "club": card["organizer"],
        "races": tree_classes,
    }
    return GeneratedEvent(event_id, payloads, detail, results, tuple(pending))


def _summary(rid: int, plan: HeatPlan, class_name: str, race_number: int) -> RaceSummary:
    return RaceSummary(
        race_id=rid,
        section=plan.section,
        race_number=race_number,
        class_name=class_name,
        session_label=f"{class_name} {plan.section}, {plan.leaf_name}",
        locator=plan.path,
    )


def _driver(rng: random.Random, driver_id: int, car_number: int) -> Driver:
    first = rng.choice(FIRST_NAMES)
    surname = rng.choice(SURNAMES)
    if rng.random() < 0.15:
        first = f" {first}  "  # stray whitespace, normalised in the records
    return Driver(driver_id, first, surname, car_number)


def _letters(count: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(count)]


def _class_tree(
    rng: random.Random,
    class_id: int,
    name: str,
    suffix: str | None,
    drivers: list[Driver],
    qualifying_rounds: int,
    series_size: int,
    consolation_series: int,
    semi_series: int,
    minutes: tuple[int, int, int, int],
    pending_heat: bool,
) -> tuple[list[HeatPlan], dict[str, Any]]:
    """The class node of the results tree and the heats under it, in tree order."""
    c = class_id
    plans: list[HeatPlan] = []
    series = max(1, -(-len(drivers) // series_size))
    rounds: list[dict[str, Any]] = []
    for r in range(1, qualifying_rounds + 1):
        order = drivers[:]
        rng.shuffle(order)
        leaves = []
        for j in range(1, series + 1):
            shown = series - j + 1  # the site lists "Serie 3" first, as in the capture
            group = tuple(order[j - 1 :: series])
            path = f"{c}/1/{r}/{j}"
            leaves.append({"id": j, "name": f"Serie {shown}", "results": len(group), "path": path})
            plans.append(
                HeatPlan(
                    path,
                    f"Qualify {r}",
                    f"Serie {shown}",
                    f"Qualify {r}, Serie {shown}",
                    False,
                    minutes[0],
                    group,
                )
            )
        rounds.append({"id": r, "name": f"Qualify {r}", "children": leaves, "path": f"{c}/1/{r}"})
    children: list[dict[str, Any]] = [
        {
            "id": 1,
            "name": "Qualify",
            "separatebyserie": False,
            "children": [{"id": 0, "name": "Series", "path": f"{c}/1/0"}, *rounds],
            "path": f"{c}/1",
        }
    ]
    if consolation_series:
        leaves = []
        for j, letter in enumerate(_letters(consolation_series), start=1):
            group = tuple(rng.sample(drivers, min(series_size, len(drivers))))
            path = f"{c}/2/1/{j}"
            leaves.append({"id": j, "name": f"Serie {letter}", "results": len(group), "path": path})
            plans.append(
                HeatPlan(
                    path,
                    "Consolación",
                    f"Serie {letter}",
                    f"Consolación 1, Serie {letter}",
                    True,
                    minutes[1],
                    group,
                )
            )
        children.append(
            {"id": 2, "name": "Consolación", "separatebyserie": True, "children": leaves, "path": f"{c}/2/1"}
        )
    finals: list[dict[str, Any]] = []
    if semi_series:
        leaves = []
        for j, letter in enumerate(_letters(semi_series), start=1):
            group = tuple(rng.sample(drivers, min(series_size, len(drivers))))
            path = f"{c}/4/1/{j}"
            leaves.append({"id": j, "name": f"Serie {letter}", "results": len(group), "path": path})
            plans.append(
                HeatPlan(
                    path,
                    "Semi finals",
                    f"Serie {letter}",
                    f"Semi final 1, Serie {letter}",
                    True,
                    minutes[2],
                    group,
                )
            )
        finals.append(
            {"id": 4, "name": "Semi finals", "separatebyserie": True, "children": leaves, "path": f"{c}/4/1"}
        )
    final_group = tuple(rng.sample(drivers, min(max(series_size, 10), len(drivers))))
    plans.append(HeatPlan(f"{c}/5/1/1", "Finals", "Final", "Final 1, Serie A", True, minutes[3], final_group))
    finals.append({"id": 5, "name": "Final", "separatebyserie": True, "path": f"{c}/5/1/1"})
    if pending_heat:
        finals.append({"id": 6, "name": "Final B", "results": 0, "path": f"{c}/5/1/2"})
    children.append(
        {"id": 3, "name": "Finals", "separatebyserie": False, "children": finals, "path": f"{c}/3"}
    )
    node = {
        "id": c,
        "path": c,
        "name": name,
        "desc": f"{name} (generated)",
        "suffix": suffix,
        "children": children,
    }
    return plans, node


@dataclass
class _Run:
    """One driver's generated heat: crossings in ms and the published figures."""

    driver: Driver
    laps: int  # as published: -1 did not start, 0 no lap
    crossings: list[int]  # t of each crossing, crossing 0 first
    time: int

    @property
    def lap_times(self) -> list[int]:
        return self.crossings[1:]


def _run(rng: random.Random, driver: Driver, plan: HeatPlan, non_starter_rate: float) -> _Run:
    roll = rng.random()
    if roll < non_starter_rate:
        return _Run(driver, -1, [], 0)
    pace = rng.uniform(38_000, 55_000)
    lead_in = (
        int(pace * rng.uniform(0.9, 1.3)) if plan.counts_lead_in else rng.choice([0, rng.randint(1, 45_000)])
    )
    if roll < non_starter_rate * 1.5:  # crossed the line once, never completed a lap
        late = lead_in + rng.randint(60_000, 600_000) if plan.counts_lead_in else lead_in
        return _Run(driver, 0, [late], late if plan.counts_lead_in else 0)
    duration = plan.minutes * SECONDS_PER_MINUTE
    laps: list[int] = []
    while sum(laps) < duration:
        lap = int(pace * rng.uniform(0.97, 1.12))
        if rng.random() < 0.04:
            lap += rng.randint(5_000, 90_000)  # a crash or a refuel
        laps.append(lap)
    if rng.random() < 0.1:
        laps = laps[: rng.randint(1, len(laps))]  # retired
    total = sum(laps) + (lead_in if plan.counts_lead_in else 0)
    return _Run(driver, len(laps), [lead_in, *laps], total)


def _ranked(runs: list[_Run]) -> list[_Run]:
    """Most laps first, then least time; no-lap drivers next, non-starters last (the site's order)."""
    return sorted(runs, key=lambda r: (r.laps < 0, -r.laps, r.time))


def _positions(runs: list[_Run], counts_lead_in: bool) -> dict[tuple[int, int], int]:
    """(driver id, crossing) -> position among the drivers who made that crossing, by elapsed time."""
    elapsed: dict[int, list[int]] = {}
    for run in runs:
        clock, marks = 0, []
        for index, t in enumerate(run.crossings):
            clock = t if index == 0 and not counts_lead_in else clock + t
            marks.append(clock)
        elapsed[run.driver.driver_id] = marks
    positions: dict[tuple[int, int], int] = {}
    deepest = max((len(m) for m in elapsed.values()), default=0)
    for crossing in range(deepest):
        there = sorted((marks[crossing], d) for d, marks in elapsed.items() if len(marks) > crossing)
        for place, (_, driver_id) in enumerate(there, start=1):
            positions[(driver_id, crossing)] = place
    return positions


def _heat(
    rng: random.Random, plan: HeatPlan, non_starter_rate: float, race_number: int
) -> tuple[dict[str, Any], RaceResult]:
    runs = _ranked([_run(rng, d, plan, non_starter_rate) for d in plan.drivers])
    grid = list(range(1, len(runs) + 1))
    rng.shuffle(grid)
    positions = _positions(runs, plan.counts_lead_in)
    rows, expected = [], []
    for index, (run, slot) in enumerate(zip(runs, grid, strict=True)):
        row, result = _driver_row(run, slot, index + 1, positions, plan.counts_lead_in)
        rows.append(row)
        expected.append(result)
    payload = {
        "desc": {"title": plan.title, "consecutivelaps": 0, "countfirstlap": plan.counts_lead_in},
        "drivers": rows,
        "maxDriverTime": max((r.time for r in runs), default=0),
        "heatDuration": plan.minutes * SECONDS_PER_MINUTE,
        "maxLaps": max((r.laps for r in runs), default=0),
    }
    result = RaceResult(
        race_id=race_id(plan.path),
        class_header=plan.title,
        round_label=plan.title.rsplit(", ", 1)[0],
        length_label=f"{plan.minutes}:00 Timed",
        race_number=race_number,
        drivers=tuple(expected),
        lead_in_counted=plan.counts_lead_in,
    )
    return payload, result


def _mean_of_best(laps: list[int], n: int) -> int | None:
    return round(sum(sorted(laps)[:n]) / n) if len(laps) >= n else None


def _driver_row(
    run: _Run, grid: int, position: int, positions: dict[tuple[int, int], int], counts_lead_in: bool
) -> tuple[dict[str, Any], DriverResult]:
    d = run.driver
    laps = run.lap_times
    details = []
    for index, t in enumerate(run.crossings):
        # x: elapsed ms; with a staggered start the clock restarts at the driver's first crossing.
        x = sum(run.crossings[: index + 1]) if counts_lead_in or index == 0 else sum(laps[:index])
        details.append({"x": x, "y": positions[(d.driver_id, index)], "t": t})
    row: dict[str, Any] = {
        "driverid": d.driver_id,
        "name": d.first,
        "surname": d.surname,
        "nick": d.first.strip().split()[0],
        "gravatar": f"{d.driver_id:032x}",
        "country": "es" if d.driver_id % 3 else "  ",
        "carnumber": d.car_number,
        "laps": run.laps,
        "time": run.time,
        "grid": grid,
        "startcorrection": 0,
        "discarded": False,
        "lapsdetail": details,
    }
    stats: dict[str, Any] = {}
    if laps:
        fastest = min(laps)
        stats = {"rawtimesum": run.time, "fastest": fastest, "fastinlap": laps.index(fastest) + 1}
        if len(laps) >= 3:
            mean = sum(laps) / len(laps)
            stats |= {
                "avg": round(mean),
                "t3": _mean_of_best(laps, 3),
                "reg": f"{max(0.0, 100 * (1 - statistics.stdev(laps) / mean)):.2f}",
                "f3": "99.00",
            }
        for n in (5, 10):
            if len(laps) >= n:
                stats[f"t{n}"] = _mean_of_best(laps, n)
    row |= stats
    expected = DriverResult(
        driver_id=d.driver_id,
        driver_name=d.name,
        position=position,
        laps_completed=max(run.laps, 0),
        total_time_s=run.time / 1000 if run.time else None,
        car_number=str(d.car_number),
        grid_position=grid,
        fastest_lap_s=stats["fastest"] / 1000 if "fastest" in stats else None,
        fastest_lap_number=stats.get("fastinlap"),
        avg_lap_s=stats["avg"] / 1000 if "avg" in stats else None,
        avg_top3_s=stats["t3"] / 1000 if "t3" in stats else None,
        avg_top5_s=stats["t5"] / 1000 if "t5" in stats else None,
        avg_top10_s=stats["t10"] / 1000 if "t10" in stats else None,
        consistency_pct=float(stats["reg"]) if "reg" in stats else None,
        laps=tuple(
            LapRecord(lap_number=n, lap_time_s=t / 1000, position=positions[(d.driver_id, n)])
            for n, t in enumerate(laps, start=1)
        ),
        lead_in_time_s=run.crossings[0] / 1000 if counts_lead_in and run.crossings else None,
    )
    return row, expected


def _category(
    rng: random.Random, class_id: int, name: str, suffix: str | None, drivers: list[Driver]
) -> dict[str, Any]:
    """The card's class entry; one or two registrants never raced (the card lists 25 for 22 in 3702)."""
    registered = [{"name": d.first, "surname": d.surname, "confirmed": True, "iso2": "es"} for d in drivers]
    registered += [
        {"name": "Inscrito", "surname": f"Ausente {i}", "confirmed": True} for i in range(rng.randint(0, 2))
    ]
    return {"desc": name, "name": name, "id": class_id, "suffix": suffix, "inscriptions": registered}


def _card(
    rng: random.Random,
    event_id: int,
    categories: list[dict[str, Any]],
    races: tuple[RaceSummary, ...],
    with_coordinates: bool,
) -> tuple[dict[str, Any], EventDetail]:
    location, organiser = rng.choice(VENUES)
    latitude = round(rng.uniform(36.0, 43.5), 7)
    longitude = round(rng.uniform(-9.4, 3.3), 7)
    start = datetime(2026, 1, 3, 7, 30, tzinfo=UTC) + timedelta(days=rng.randint(0, 300))
    end = start + timedelta(days=1, hours=8, minutes=30)
    title = f"{rng.choice(['1ª Prueba', 'Gran Premio', 'Campeonato'])}  Regional de Extremadura {event_id} 🏁"
    map_link = f"https://www.google.com/maps/dir//{latitude},{longitude}/@{latitude},{longitude},15z"
    card = {
        "title": title,
        "eventId": event_id,
        "fromdate": start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "todate": end.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "location": location,
        "mapLink": map_link if with_coordinates else None,
        "organizer": organiser,
        "organizerLink": "https://example.invalid/club",
        "signupPrice": "20",
        "descriptionHtml": "<p>Generated event.</p>",
        "categories": categories,
        "inscriptionsOpen": False,
        "transponders": [],
        "resultsAvailable": True,
    }
    if with_coordinates:
        slug = venue_slug(latitude, longitude)
    else:
        folded = unicodedata.normalize("NFKD", location).encode("ascii", "ignore").decode().lower()
        slug = "everlaps-venue-" + "-".join("".join(c if c.isalnum() else " " for c in folded).split())
    venue = TrackRecord(
        source="everlaps",
        slug=slug,
        name=location,
        activity="idle",
        organiser=organiser,
        latitude=latitude if with_coordinates else None,
        longitude=longitude if with_coordinates else None,
    )
    detail = EventDetail(
        source="everlaps",
        track_slug=slug,
        event_id=event_id,
        name=" ".join(title.split()),
        track_name=location,
        start_date=start.date(),
        end_date=end.date(),
        races=races,
        entries=sum(len(c["inscriptions"]) for c in categories),
        venue=venue,
        starts_at_utc=start,
        ends_at_utc=end,
    )
    return card, detail
