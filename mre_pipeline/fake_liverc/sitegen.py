"""A deterministic, seedable generator of a LiveRC-shaped site, with the records its parsers must return.

``generate_site(seed=1, tracks=3, events_per_track=3)`` builds a catalogue, each track's events listing,
every event page, every race result page and the entry lists, and returns a :class:`GeneratedSite` that

- fills a :class:`~mre_pipeline.fake_liverc.server.FakeSite` (``site.fake_site()`` or ``site.fill(fake)``)
  to be served by :class:`~mre_pipeline.fake_liverc.server.FakeLiveRCServer`;
- carries the ground truth: the exact ``TrackRecord`` / ``EventSummary`` / ``EventDetail`` /
  ``RaceResult`` / ``EntryList`` records the parsers must return for each page;
- renders every page in LiveRC's own serialisation (``style="raw"``) or as a formatter-rewritten copy
  (``style="pretty"``), which must parse to the same records.

The pages carry LiveRC's quirks: lap-0 grid rows, non-starters without ``data-driver-id`` and with
``'laps' : [ ]``, retirements, Behind cells, hidden sort keys, fastest laps with ``<sup>``, apostrophes raw in
HTML and ``\\'`` in JS, raw ``&``, CJK and accented names, thousands separators, multi-day events, nested
parentheses and double spaces in heat labels, URL-encoded and re-ordered query strings, not-yet-run races.
Lap times are whole milliseconds, so each driver's laps sum exactly to the printed Laps/Time total.

``generate_race(seed, drivers=30, laps=60)`` makes one race page alone (for benchmarks and fuzzing).
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from mre_pipeline.connectors.records import (
    DriverResult,
    EntryList,
    EntryRecord,
    EventDetail,
    EventSummary,
    LapRecord,
    RaceResult,
    RaceSummary,
    TrackRecord,
)
from mre_pipeline.fake_liverc.markup import (
    PRETTY,
    RAW,
    STYLES,
    E,
    Verbatim,
    el,
    js_object,
    js_statement,
    js_string,
    render,
)
from mre_pipeline.fake_liverc.server import CATALOGUE, FakeSite

SOURCE = "liverc"

# -- name pools (invented; quirks on purpose) ----------------------------------------------------------------
_FIRST = (
    "FELIX", "ARI", "JIMMY", "MATTHEW", "PETER", "BEN", "KEV", "MITCHELL", "DALLAS", "LINDSAY", "RYAN",
    "RILEY", "TANNER", "ALEX", "MARK", "LACHLAN", "GREG", "STEPHEN", "LEE", "SHANE", "JOSÉ", "RENÉE",
    "BJÖRN", "ZOË", "ÅSA", "ÇAĞLA", "NOÉMIE", "MIKE", "CHASE", "DYLAN", "CARLOS", "ILIAS", "JONAH",
)  # fmt: skip
_LAST = (
    "KOEGLER", "BAKLA", "HORNE", "COUPER", "SECKOLD", "PANIC", "LEWIS", "SCOTT", "GARDINER", "FROST",
    "O'CONNOR", "O'LOUGHLIN", "D'ANGELO", "MÜLLER", "NÚÑEZ", "GARCÍA", "SØRENSEN", "WHITE", "BROWN",
    "WALLIN", "BROPHY", "ROSANDER", "SNEDDEN", "BAGGULEY", "SMITH-JONES", "VAN DER BERG", "McLEAN",
)  # fmt: skip
_CJK_NAMES = (("健", "佐藤"), ("美咲", "鈴木"), ("伟", "王"), ("민준", "김"))
_TRACK_NAMES = (
    "Canberra Off Road Model Car Club", "BBRCC Off-Road", "Wombat's Raceway", "Oval & F8 Speedway",
    "On Track Rc Hobbies  Raceway LLC", "東京RCサーキット", "Pista Ñandú Córdoba", "Capital Model Racers",
    "Thornhill Racing Circuit", "R&D Hobbies Raceway", "Müller's Dirt Ring", "Race Place RC",
    "Full Throttle RC Raceway", "台北遙控車場", "Club de Radiocontrol Águila",
)  # fmt: skip
_QUIRKY_TRACKS = (
    "Wombat's Raceway",
    "On Track Rc Hobbies  Raceway LLC",
    "東京RCサーキット",
    "Oval & F8 Speedway",
)
_EVENT_WORDS = (
    "Club Day", "Winter Series Round", "Summer Points Round", "Clay Cup", "Nitro Challenge",
    "O'Brien Memorial", "Oval & F8 Points", "Championship Rd", "Night Race", "Großer Preis",
    "ナイトレース",
)  # fmt: skip
_CLASSES = (
    "1/8 Nitro Buggy", "1/8 Electric Buggy", "1/10 2WD Buggy", "1/10 4WD Buggy", "Stock Truck",
    "40+ Electric Buggy", "Spt. Nitro Truck", "Junior", "Touring & GT", "Novice 2WD",
)  # fmt: skip
_LAYOUTS = ("Offroad", "Clay", "Carpet Oval", "Astro", "Main Track")
_ACTIVITY_TEXTS = ("1 minute ago", "3 minutes ago", "14 minutes ago", "an hour ago", "2 hours ago")
_IDLE_TEXTS = ("9 hours ago", "Yesterday", "3 days ago", "last week", "2 weeks ago", "last month",
               "4 months ago", "10 months ago", "last year")  # fmt: skip


# -- value formatting (as LiveRC prints) ---------------------------------------------------------------------
def lap_text(ms: int) -> str:
    """racerLaps ``time``: decimal seconds, trailing zeros stripped (``38.17``, ``40.9``, ``146.309``)."""
    whole, frac = divmod(ms, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".")


def secs3(ms: int) -> str:
    whole, frac = divmod(ms, 1000)
    return f"{whole}.{frac:03d}"


def clock_text(ms: int) -> str:
    """``30:31.382``, ``56.135``, ``1:02:03.500`` (minutes only once >= 60 s)."""
    whole, frac = divmod(ms, 1000)
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{frac:03d}"
    if minutes:
        return f"{minutes}:{seconds:02d}.{frac:03d}"
    return f"{seconds}.{frac:03d}"


def day_text(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def completed_text(stamp: datetime) -> str:
    hour = stamp.hour % 12 or 12
    return f"{day_text(stamp.date())} at {hour}:{stamp.minute:02d}{'am' if stamp.hour < 12 else 'pm'}"


def thousands(n: int) -> str:
    return f"{n:,}"


def clean(text: str) -> str:
    return " ".join(text.split())


# -- the model -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    driver_id: int
    first: str
    last: str
    transponder: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def sort_name(self) -> str:
        return f"{self.last}, {self.first}"


@dataclass
class RaceEntry:
    person: Person
    car: int  # also the qualifying/grid slot (as on LiveRC mains)
    lap_ms: list[int] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)  # position after each lap
    started: bool = True


@dataclass
class GenRace:
    race_id: int
    section: str  # "Main Events", "Qualifier Round 2"
    round_code: str  # "M1", "Q2"
    race_number: int
    class_name: str
    session_label: str  # as printed, e.g. "1/8 Nitro Buggy  (Heat 1/3)" (double space kept)
    length_ms: int
    completed: datetime
    bare_date: bool  # "Time Completed" prints only the date on this track
    exclude_first_lap: bool  # LiveRC's stats leave lap 1 out on some races
    entries: list[RaceEntry]  # finishing order
    order: list[RaceEntry] = field(default_factory=list)

    @property
    def total_laps(self) -> int:
        return sum(len(e.lap_ms) for e in self.entries)


@dataclass
class GenClass:
    name: str
    class_id: int
    people: list[Person]


@dataclass
class GenEvent:
    event_id: int
    name: str
    start: date
    end: date
    start_time: time | None
    classes: list[GenClass]
    races: list[GenRace]
    race_track: str
    heat_sheet_ids: list[int]
    unrun: list[tuple[int, int, str]]  # (heat sheet id, race id, label) of races not yet run

    @property
    def entries(self) -> int:
        return sum(len(c.people) for c in self.classes)

    @property
    def drivers(self) -> int:
        return len({p.name for c in self.classes for p in c.people})


@dataclass
class GenTrack:
    slug: str  # as it appears in hrefs (mixed case possible)
    name: str
    activity: str
    video: bool
    featured: bool
    current_event: str | None
    last_activity: str
    events: list[GenEvent]
    encoded_links: bool = False  # view%5Frace%5Fresult hrefs
    id_first: bool = False  # ?id=..&p=.. parameter order
    bare_labels: bool = False  # "Race 1: EP-T STOCK A1-Main" (no parentheses)

    @property
    def key(self) -> str:
        return self.slug.lower()


class _Ids:
    """Unique, non-chronological ids from separate pools (as LiveRC's are)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[int] = set()

    def take(self, low: int, high: int) -> int:
        while True:
            value = self.rng.randint(low, high)
            if value not in self.used:
                self.used.add(value)
                return value


# -- racing simulation ---------------------------------------------------------------------------------------
def _simulate(
    rng: random.Random, people: list[Person], target_laps: int, non_starters: int, retirements: int
) -> tuple[list[RaceEntry], int]:
    """Lap times (ms) for a timed race whose winner completes ``target_laps`` laps. Returns entries in
    finishing order and the race length in ms."""
    grid = list(range(1, len(people) + 1))
    rng.shuffle(grid)
    entries = [RaceEntry(p, car) for p, car in zip(people, grid, strict=True)]
    base_field = rng.randint(28_000, 44_000)
    for entry in entries:
        base = base_field + rng.randint(0, 4_000)
        laps = [base + rng.randint(1_500, 4_000)]  # lap 1 from the grid is slow
        for _ in range(target_laps + 1):
            lap = base + rng.randint(-600, 1_800)
            if rng.random() < 0.06:
                lap += rng.randint(2_000, 25_000)  # a crash or a marshal
            laps.append(lap)
        entry.lap_ms = laps
    starters = entries[: len(entries) - non_starters] if non_starters else entries
    for entry in entries[len(starters) :]:
        entry.started = False
        entry.lap_ms = []
    # Winner: least time after target_laps - 1 laps; the race length ends just after that moment.
    length = min(sum(e.lap_ms[: target_laps - 1]) for e in starters) + 1 if target_laps > 1 else 1
    for entry in starters:
        kept, total = [], 0
        for lap in entry.lap_ms:
            if total >= length:
                break
            kept.append(lap)
            total += lap
        entry.lap_ms = kept
    winner = min(starters, key=lambda e: (-len(e.lap_ms), sum(e.lap_ms), e.car))
    others = [e for e in starters if e is not winner]
    for entry in rng.sample(others, min(retirements, len(others))):
        if len(entry.lap_ms) > 1:
            entry.lap_ms = entry.lap_ms[: rng.randint(1, len(entry.lap_ms) - 1)]
    # Position after each lap: rank by the moment each driver completed that lap.
    max_laps = max((len(e.lap_ms) for e in entries), default=0)
    cumulative = {id(e): _cumsum(e.lap_ms) for e in entries}
    for e in entries:
        e.positions = []
    for lap in range(max_laps):
        crossed = sorted((cumulative[id(e)][lap], e.car, id(e)) for e in entries if len(e.lap_ms) > lap)
        rank = {key: i + 1 for i, (_, _, key) in enumerate(crossed)}
        for e in entries:
            if len(e.lap_ms) > lap:
                e.positions.append(rank[id(e)])
    finishers = sorted(starters, key=lambda e: (-len(e.lap_ms), sum(e.lap_ms), e.car))
    non = sorted(entries[len(starters) :], key=lambda e: e.car)
    return finishers + non, length


def _cumsum(values: list[int]) -> list[int]:
    out, total = [], 0
    for v in values:
        total += v
        out.append(total)
    return out


# -- statistics, as published -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stats:
    fast: str = ""
    fast_lap: int | None = None
    avg: str = ""
    top5: str = ""
    top10: str = ""
    top15: str = ""
    top2c: str = ""
    top3c: str = ""
    std: str = ""
    consistency: str = ""


def _avg_text(values: list[int]) -> str:
    return f"{sum(values) / len(values) / 1000:.3f}"


def _stats(lap_ms: list[int], exclude_first: bool) -> Stats:
    if not lap_ms:
        return Stats()
    counted = lap_ms[1:] if exclude_first and len(lap_ms) > 1 else lap_ms
    offset = len(lap_ms) - len(counted)
    fastest = min(counted)
    ordered = sorted(counted)
    mean = sum(counted) / len(counted)
    std = (sum((v - mean) ** 2 for v in counted) / len(counted)) ** 0.5
    consistency = max(0.0, 100.0 - std / mean * 100.0)

    def top(k: int) -> str:
        return _avg_text(ordered[:k]) if len(ordered) >= k else ""

    def consec(k: int) -> str:
        if len(counted) < k:
            return ""
        return secs3(min(sum(counted[i : i + k]) for i in range(len(counted) - k + 1)))

    return Stats(
        fast=secs3(fastest),
        fast_lap=counted.index(fastest) + 1 + offset,
        avg=_avg_text(counted),
        top5=top(5),
        top10=top(10),
        top15=top(15),
        top2c=consec(2),
        top3c=consec(3),
        std=f"{std / 1000:.3f}",
        consistency=f"{consistency:.3f}",
    )


def _pace(cum_ms: int, laps: int, length_ms: int) -> str:
    """LiveRC's projection: laps and time at the end of the race at the average pace so far."""
    projected = length_ms * laps // cum_ms + 1
    return f"{projected}/{clock_text(round(projected * cum_ms / laps))}"


def _behind(entry: RaceEntry, ahead: RaceEntry | None) -> str:
    if ahead is None:
        return ""
    if not entry.lap_ms:
        return f"{len(ahead.lap_ms)} Laps" if ahead.lap_ms else "0.000"
    gap = len(ahead.lap_ms) - len(entry.lap_ms)
    if gap:
        return f"{gap} Lap" + ("s" if gap > 1 else "")
    return secs3(sum(entry.lap_ms) - sum(ahead.lap_ms))


# -- expected records ----------------------------------------------------------------------------------------
def _float(text: str) -> float | None:
    return float(text) if text else None


def expected_race(race: GenRace) -> RaceResult:
    drivers = []
    for position, entry in enumerate(race.entries, start=1):
        stats = _stats(entry.lap_ms, race.exclude_first_lap)
        cum = _cumsum(entry.lap_ms)
        laps = tuple(
            LapRecord(
                lap_number=i + 1,
                lap_time_s=ms / 1000,
                position=entry.positions[i],
                pace=_pace(cum[i], i + 1, race.length_ms),
            )
            for i, ms in enumerate(entry.lap_ms)
        )
        ahead = race.entries[position - 2] if position > 1 else None
        drivers.append(
            DriverResult(
                driver_id=entry.person.driver_id,
                driver_name=clean(entry.person.name),
                position=position,
                laps_completed=len(entry.lap_ms),
                total_time_s=sum(entry.lap_ms) / 1000 if entry.lap_ms else None,
                car_number=str(entry.car),
                qual_position=entry.car,
                grid_position=entry.car if entry.started else None,
                behind_text=_behind(entry, ahead) or None,
                fastest_lap_s=_float(stats.fast),
                fastest_lap_number=stats.fast_lap,
                avg_lap_s=_float(stats.avg),
                avg_top5_s=_float(stats.top5),
                avg_top10_s=_float(stats.top10),
                avg_top15_s=_float(stats.top15),
                top3_consecutive_s=_float(stats.top3c),
                std_deviation_s=_float(stats.std),
                consistency_pct=_float(stats.consistency),
                laps=laps,
            )
        )
    return RaceResult(
        race_id=race.race_id,
        class_header=clean(race.session_label),
        round_label=race.section,
        length_label=_length_label(race.length_ms),
        race_number=race.race_number,
        drivers=tuple(drivers),
    )


def _length_label(length_ms: int) -> str:
    minutes = -(-length_ms // 60_000)
    return f"{minutes}:00 Timed"


def _race_label(race: GenRace, track: GenTrack) -> str:
    if track.bare_labels:
        return f"Race {race.race_number}: {race.session_label}"
    return f"Race {race.race_number}: {race.class_name} ({race.session_label})"


def _expected_summary(race: GenRace, track: GenTrack) -> RaceSummary:
    label = clean(_race_label(race, track))
    match = re.match(r"^Race\s+(\d+)\s*:\s*(.*?)\s*\((.*)\)\s*$", label)
    if match:
        class_name, session = clean(match.group(2)), clean(match.group(3))
    else:
        class_name = session = clean(label.partition(":")[2])
    text = day_text(race.completed.date()) if race.bare_date else completed_text(race.completed)
    return RaceSummary(
        race_id=race.race_id,
        section=race.section,
        race_number=race.race_number,
        class_name=class_name,
        session_label=session,
        completed_at=None if race.bare_date else race.completed,
        completed_text=text,
    )


def _page_races(event: GenEvent) -> list[GenRace]:
    """Event-page order: sections newest first (mains, then the last qualifier round), race number down."""

    def section_rank(race: GenRace) -> tuple[int, int]:
        if race.section == "Main Events":
            return (0, 0)
        return (1, -int(race.section.rsplit(" ", 1)[1]))

    return sorted(event.races, key=lambda r: (section_rank(r), -r.race_number))


def _entry_people(event: GenEvent) -> list[tuple[GenClass, int, Person]]:
    rows = []
    for cls in event.classes:
        for i, person in enumerate(sorted(cls.people, key=lambda p: p.sort_name), start=1):
            rows.append((cls, i, person))
    return rows


# -- the generated site -------------------------------------------------------------------------------------
@dataclass
class GeneratedSite:
    """Pages plus the records the parsers must return for them. Page keys are ``(slug|None, path)``."""

    seed: int
    tracks: list[GenTrack]
    catalogue: list[TrackRecord]
    events: dict[str, list[EventSummary]]  # slug -> listing
    event_details: dict[tuple[str, int], EventDetail]
    races: dict[tuple[str, int], RaceResult]
    entry_lists: dict[tuple[str, int], EntryList | None]  # None: no entry list (404)
    _cache: dict[tuple[str, str | None, str], str] = field(default_factory=dict, repr=False)

    # paths ------------------------------------------------------------------------------------------
    @staticmethod
    def event_path(event_id: int) -> str:
        return f"/results/?p=view_event&id={event_id}"

    @staticmethod
    def race_path(race_id: int) -> str:
        return f"/results/?p=view_race_result&id={race_id}"

    @staticmethod
    def entry_list_path(event_id: int) -> str:
        return f"/results/?p=view_entry_list&id={event_id}"

    def track(self, slug: str) -> GenTrack:
        return next(t for t in self.tracks if t.key == slug.lower())

    def page_keys(self) -> list[tuple[str | None, str]]:
        keys: list[tuple[str | None, str]] = [(CATALOGUE, "/")]
        for track in self.tracks:
            keys.append((track.key, "/events/"))
            for event in track.events:
                keys.append((track.key, self.event_path(event.event_id)))
                if self.entry_lists.get((track.key, event.event_id)) is not None:
                    keys.append((track.key, self.entry_list_path(event.event_id)))
                keys.extend((track.key, self.race_path(r.race_id)) for r in event.races)
        return keys

    def page(self, slug: str | None, path: str, style: str = RAW) -> str:
        """The HTML of one page in ``style`` ("raw" as LiveRC serves it, or "pretty")."""
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}")
        key = (style, slug, path)
        if key not in self._cache:
            self._cache[key] = self._render(slug, path, style)
        return self._cache[key]

    def pages(self, style: str = RAW) -> dict[tuple[str | None, str], str]:
        return {key: self.page(*key, style=style) for key in self.page_keys()}

    def fill(self, site: FakeSite, style: str = RAW) -> FakeSite:
        for (slug, path), html in self.pages(style).items():
            site.put(slug, path, html)
        return site

    def fake_site(self, style: str = RAW) -> FakeSite:
        return self.fill(FakeSite(), style)

    def in_two_stages(
        self, slug: str, event_id: int, day: date, races_first: int | None = None
    ) -> tuple[GeneratedSite, GeneratedSite]:
        """The site with one event moved to ``day`` (a still-running event) and served in two stages.

        The first stage's event page lists its first ``races_first`` races in running order (default: every
        race before the mains) and the rest as not run yet (heat-sheet links, as LiveRC shows a race before
        its results); the second lists every race. Each stage is a whole site with its ground truth: fill a
        ``FakeSite`` with the first, later with the second (``fill`` replaces the event page and adds the new
        race pages), and the event grows between two requests.
        """
        final_tracks = copy.deepcopy(self.tracks)
        track, event = _find_event(final_tracks, slug, event_id)
        _move_event(event, day)
        first_tracks = copy.deepcopy(final_tracks)
        _hold_back(*_find_event(first_tracks, slug, event_id), races_first)
        return _site(self.seed, first_tracks), _site(self.seed, final_tracks)

    def expected(self, slug: str | None, path: str):
        """The record(s) the parser of this page must return."""
        if slug is CATALOGUE:
            return self.catalogue
        if path == "/events/":
            return self.events[slug]
        page, _, ident = path.partition("&id=")
        object_id = int(ident)
        if page.endswith("view_event"):
            return self.event_details[(slug, object_id)]
        if page.endswith("view_race_result"):
            return self.races[(slug, object_id)]
        return self.entry_lists[(slug, object_id)]

    # rendering --------------------------------------------------------------------------------------
    def _render(self, slug: str | None, path: str, style: str) -> str:
        if slug is CATALOGUE:
            return render_catalogue(self.tracks, style)
        track = self.track(slug)
        if path == "/events/":
            return render_events(track, style)
        page, _, ident = path.partition("&id=")
        object_id = int(ident)
        event = next(
            (
                e
                for e in track.events
                if e.event_id == object_id or any(r.race_id == object_id for r in e.races)
            ),
            None,
        )
        if event is None:
            raise KeyError((slug, path))
        if page.endswith("view_event"):
            return render_event(track, event, style)
        if page.endswith("view_entry_list"):
            return render_entry_list(track, event, style)
        race = next(r for r in event.races if r.race_id == object_id)
        return render_race(track, event, race, style)


def _find_event(tracks: list[GenTrack], slug: str, event_id: int) -> tuple[GenTrack, GenEvent]:
    track = next(t for t in tracks if t.key == slug.lower())
    return track, next(e for e in track.events if e.event_id == event_id)


def _move_event(event: GenEvent, day: date) -> None:
    """Hold the event on ``day`` (same length, same times of day)."""
    shift = day - event.start
    event.start, event.end = event.start + shift, event.end + shift
    for race in event.races:
        race.completed += shift


def _hold_back(track: GenTrack, event: GenEvent, races_first: int | None) -> None:
    """Keep the first ``races_first`` races (in running order); list the others as not run yet."""
    ordered = sorted(event.races, key=lambda r: (r.completed, r.race_id))
    if races_first is None:
        races_first = sum(1 for r in ordered if r.section != "Main Events")
    if not 0 < races_first < len(ordered):
        raise ValueError(
            f"event {event.event_id} has {len(ordered)} races: keep between 1 and {len(ordered) - 1}"
        )
    held = {r.race_id for r in ordered[races_first:]}
    sheet = event.heat_sheet_ids[-1] if event.heat_sheet_ids else 9_999_999
    event.unrun = [
        *event.unrun,
        *((sheet, r.race_id, _race_label(r, track)) for r in _page_races(event) if r.race_id in held),
    ]
    event.races = [r for r in event.races if r.race_id not in held]


def generate_site(
    seed: int = 0,
    *,
    tracks: int = 3,
    events_per_track: int = 3,
    classes_per_event: tuple[int, int] = (1, 3),
    drivers_per_class: tuple[int, int] = (3, 14),
    qualifier_rounds: tuple[int, int] = (1, 3),
    heat_laps: tuple[int, int] = (6, 12),
    main_laps: tuple[int, int] = (12, 30),
    extra_catalogue_tracks: int = 6,
    big_first_event: bool = True,
) -> GeneratedSite:
    """A whole site: ``tracks`` tracks with events (plus ``extra_catalogue_tracks`` catalogue-only rows,
    served with an empty events listing), each with ``events_per_track`` events."""
    rng = random.Random(seed)
    ids = _Ids(rng)
    people = _people(rng, ids, 40 + 10 * tracks)
    gen_tracks: list[GenTrack] = []
    names = list(_TRACK_NAMES)
    rng.shuffle(names)
    for i, quirky in enumerate(_QUIRKY_TRACKS):  # always present: raw ' and &, a double space, CJK
        names.remove(quirky)
        names.insert(i, quirky)
    total = tracks + extra_catalogue_tracks
    for t in range(total):
        name = names[t % len(names)] if t < len(names) else f"{names[t % len(names)]} {t}"
        if t == total - 1 and total > 2:
            name = gen_tracks[0].name  # a duplicate display name under another slug
        slug = _slug(name, t)
        has_events = t < tracks
        track = GenTrack(
            slug=slug,
            name=name,
            activity="idle",
            video=False,
            featured=False,
            current_event=None,
            last_activity="",
            events=[],
            encoded_links=has_events and t % 3 == 1,
            id_first=has_events and t % 3 == 2,
            bare_labels=has_events and t % 4 == 3,
        )
        if has_events:
            track.events = [
                _event(
                    rng, ids, people, e, events_per_track,
                    # the first event is a big one: thousands separators in its stats
                    (3, 3) if big else classes_per_event, (12, 16) if big else drivers_per_class,
                    (3, 3) if big else qualifier_rounds, heat_laps, main_laps,
                    in_progress=big, bare_date=(t % 4 == 2),
                )
                for e in range(events_per_track)
                for big in [t == 0 and e == 0 and big_first_event]
            ]  # fmt: skip
        gen_tracks.append(track)
    _catalogue_status(rng, gen_tracks)
    gen_tracks = _catalogue_order(gen_tracks)
    return _site(seed, gen_tracks)


def _slug(name: str, index: int) -> str:
    letters = re.sub(r"[^A-Za-z0-9]", "", name)[:14] or "track"
    slug = f"{letters}{index}"
    return slug if index % 5 == 4 else slug.lower()  # some hrefs carry mixed case (FastandFun...)


def _people(rng: random.Random, ids: _Ids, count: int) -> list[Person]:
    seen: set[str] = set()
    out: list[Person] = []
    while len(out) < count:
        if len(out) % 17 == 5:
            first, last = rng.choice(_CJK_NAMES)
        else:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
        if f"{first} {last}" in seen:
            first = f"{first}-{rng.choice(_FIRST)}"
            if f"{first} {last}" in seen:
                continue
        seen.add(f"{first} {last}")
        transponder = str(rng.randint(1_000_000, 9_999_999))
        if len(out) % 13 == 7:
            transponder += "/2"
        out.append(Person(ids.take(100_000, 999_999), first, last, transponder))
    return out


def _event(
    rng: random.Random,
    ids: _Ids,
    people: list[Person],
    index: int,
    count: int,
    classes_per_event: tuple[int, int],
    drivers_per_class: tuple[int, int],
    qualifier_rounds: tuple[int, int],
    heat_laps: tuple[int, int],
    main_laps: tuple[int, int],
    in_progress: bool,
    bare_date: bool,
) -> GenEvent:
    # Newest first; spaced a few weeks apart.
    start = date(2025, 11, 16) - timedelta(days=index * rng.randint(10, 30) + rng.randint(0, 6))
    days = rng.choice((1, 1, 1, 2, 3)) if index % 3 != 2 else 1
    end = start + timedelta(days=days - 1)
    start_time = rng.choice((None, None, None, time(8, 30), time(9, 0), time(10, 0)))
    name = rng.choice(_EVENT_WORDS)
    name = f"{start.year} {name} {index + 1}" if "Round" in name or "Rd" in name else f"{name} {start.year}"
    zero = count > 2 and index == count - 1  # an event with no entries at all ("T")
    if zero:
        name = "T"
    classes: list[GenClass] = []
    if not zero:
        pool = list(people)
        rng.shuffle(pool)
        for cls_name in rng.sample(_CLASSES, rng.randint(*classes_per_event)):
            size = rng.randint(*drivers_per_class)
            chosen = pool[:size]
            pool = pool[size:] + chosen  # a driver can enter several classes
            classes.append(GenClass(cls_name, ids.take(1_000, 60_000), chosen))
    races: list[GenRace] = []
    rounds = rng.randint(*qualifier_rounds)
    day0 = datetime.combine(start, start_time or time(8, 0))
    clock = day0 + timedelta(minutes=rng.randint(15, 45))
    exclude_first = rng.random() < 0.5

    def next_time(round_index: int, total_rounds: int) -> datetime:
        nonlocal clock
        day = start + timedelta(days=min(days - 1, round_index * days // max(total_rounds, 1)))
        if clock.date() < day:
            clock = datetime.combine(day, time(8, 15))
        clock += timedelta(minutes=rng.randint(9, 23))
        return clock

    for r in range(1, rounds + 1):
        number = 0
        for cls in classes:
            heats = max(1, -(-len(cls.people) // 8))
            for h in range(1, heats + 1):
                number += 1
                group = cls.people[h - 1 :: heats]
                races.append(
                    _race(
                        rng, ids, group, f"Qualifier Round {r}", f"Q{r}", number, cls.name,
                        f"{cls.name}  (Heat {h}/{heats})", rng.randint(*heat_laps),
                        next_time(r - 1, rounds + 1), bare_date, exclude_first,
                    )
                )  # fmt: skip
    mains: list[tuple[GenClass, str, list[Person]]] = []
    for cls in classes:
        field_ = list(cls.people)
        rng.shuffle(field_)
        if len(field_) > 10:
            mains.append((cls, "B-Main", field_[10:]))
        legs = ("A1-Main", "A2-Main", "A3-Main") if len(field_) >= 8 and rng.random() < 0.3 else ("A-Main",)
        mains.extend((cls, leg, field_[:10]) for leg in legs)
    for number, (cls, tier, group) in enumerate(mains, start=1):
        races.append(
            _race(
                rng, ids, group, "Main Events", "M1", number, cls.name, f"{cls.name} {tier}",
                rng.randint(*main_laps), next_time(rounds, rounds + 1), bare_date, exclude_first,
            )
        )  # fmt: skip
    unrun: list[tuple[int, int, str]] = []
    if in_progress and races:
        unrun.append((ids.take(9_000_000, 9_999_999), ids.take(7_000_000, 7_999_999), "Race 99: Final"))
    heat_sheets = [ids.take(9_000_000, 9_999_999) for _ in range(rounds + 1)] if classes else []
    return GenEvent(
        event_id=ids.take(200_000, 499_999),
        name=name,
        start=start,
        end=end,
        start_time=start_time,
        classes=classes,
        races=races,
        race_track=rng.choice(_LAYOUTS),
        heat_sheet_ids=heat_sheets,
        unrun=unrun,
    )


def _race(
    rng: random.Random,
    ids: _Ids,
    group: list[Person],
    section: str,
    round_code: str,
    number: int,
    class_name: str,
    session_label: str,
    laps: int,
    completed: datetime,
    bare_date: bool,
    exclude_first: bool,
) -> GenRace:
    non_starters = rng.choice((0, 0, 0, 1, 1, 2, 3)) if len(group) > 3 else 0
    retirements = rng.choice((0, 1, 1, 2)) if len(group) > 2 else 0
    entries, length = _simulate(rng, group, laps, non_starters, retirements)
    return GenRace(
        race_id=ids.take(6_000_000, 6_999_999),
        section=section,
        round_code=round_code,
        race_number=number,
        class_name=class_name,
        session_label=session_label,
        length_ms=length,
        completed=completed,
        bare_date=bare_date,
        exclude_first_lap=exclude_first,
        entries=entries,
    )


def _catalogue_status(rng: random.Random, tracks: list[GenTrack]) -> None:
    for i, track in enumerate(tracks):
        track.activity = ("racing", "practice", "idle", "idle")[i % 4]
        track.video = rng.random() < 0.3
        track.featured = i % 5 == 2
        if track.events and rng.random() < 0.8:
            track.current_event = track.events[0].name
        elif not track.events and rng.random() < 0.5:
            track.current_event = rng.choice(_EVENT_WORDS)
        texts = _ACTIVITY_TEXTS if track.activity != "idle" else _IDLE_TEXTS
        track.last_activity = texts[rng.randrange(len(texts))]


def _catalogue_order(tracks: list[GenTrack]) -> list[GenTrack]:
    """LiveRC's order: racing (video first), practice (video first), idle; then by recency."""
    groups = {"racing": 0, "practice": 1, "idle": 2}

    def recency(t: GenTrack) -> int:
        texts = _ACTIVITY_TEXTS if t.activity != "idle" else _IDLE_TEXTS
        return texts.index(t.last_activity)

    return sorted(tracks, key=lambda t: (groups[t.activity], not t.video, recency(t)))


def _site(seed: int, tracks: list[GenTrack]) -> GeneratedSite:
    catalogue = [
        TrackRecord(
            source=SOURCE,
            slug=t.key,
            name=clean(t.name),
            activity=t.activity,
            has_live_video=t.video,
            featured=t.featured,
            current_event_name=clean(t.current_event) if t.current_event else None,
            last_activity_text=t.last_activity,
        )
        for t in tracks
    ]
    events: dict[str, list[EventSummary]] = {}
    details: dict[tuple[str, int], EventDetail] = {}
    races: dict[tuple[str, int], RaceResult] = {}
    entry_lists: dict[tuple[str, int], EntryList | None] = {}
    for track in tracks:
        listing = sorted(track.events, key=lambda e: (e.start, e.start_time or time(0)), reverse=True)
        track.events = listing
        events[track.key] = [
            EventSummary(
                source=SOURCE,
                track_slug=track.key,
                event_id=e.event_id,
                name=clean(e.name),
                start_date=e.start,
                end_date=e.end,
                start_time=e.start_time,
                entries=e.entries,
                drivers=e.drivers,
            )
            for e in listing
        ]
        for event in listing:
            key = (track.key, event.event_id)
            details[key] = EventDetail(
                source=SOURCE,
                track_slug=track.key,
                event_id=event.event_id,
                name=clean(event.name),
                track_name=clean(track.name),
                start_date=event.start,
                end_date=event.end,
                races=tuple(_expected_summary(r, track) for r in _page_races(event)),
                has_entry_list_link=bool(event.classes),
                entries=event.entries,
                drivers=event.drivers,
                total_race_laps=sum(r.total_laps for r in event.races),
                race_track=event.race_track,
                races_pending=len(event.unrun),
            )
            for race in event.races:
                races[(track.key, race.race_id)] = expected_race(race)
            entry_lists[key] = (
                EntryList(
                    event_id=event.event_id,
                    entries=tuple(
                        EntryRecord(
                            class_name=clean(cls.name),
                            driver_name=clean(p.name),
                            row_number=row,
                            sort_name=clean(p.sort_name),
                            transponder=p.transponder,
                            class_ref=str(cls.class_id),
                        )
                        for cls, row, p in _entry_people(event)
                    ),
                )
                if event.classes
                else None
            )
    return GeneratedSite(seed, tracks, catalogue, events, details, races, entry_lists)


def generate_race(
    seed: int = 0,
    *,
    drivers: int = 30,
    laps: int = 60,
    non_starters: int = 1,
    retirements: int = 2,
    style: str = RAW,
) -> tuple[str, RaceResult]:
    """One race page alone (its own track and event): the HTML in ``style`` and the expected record.

    The winner completes exactly ``laps`` laps; ``retirements`` drivers stop early and ``non_starters``
    never start."""
    rng = random.Random(seed)
    ids = _Ids(rng)
    people = _people(rng, ids, drivers)
    entries, length = _simulate(rng, people, laps, non_starters, retirements)
    race = GenRace(
        race_id=ids.take(6_000_000, 6_999_999),
        section="Main Events",
        round_code="M1",
        race_number=1,
        class_name="1/8 Nitro Buggy",
        session_label="1/8 Nitro Buggy A-Main",
        length_ms=length,
        completed=datetime(2025, 11, 16, 17, 30),
        bare_date=False,
        exclude_first_lap=True,
        entries=entries,
    )
    event = GenEvent(ids.take(200_000, 499_999), "Benchmark Cup", date(2025, 11, 16), date(2025, 11, 16),
                     None, [], [race], "Offroad", [], [])  # fmt: skip
    track = GenTrack("benchmark", "Benchmark Raceway", "idle", False, False, None, "last year", [event])
    return render_race(track, event, race, style), expected_race(race)


# -- page templates (written from the anatomy notes) ---------------------------------------------------------
_HEAD_SCRIPT = Verbatim(
    '\t\t<script type="text/javascript">\n\t\t\tvar googletag = googletag || {};\n'
    "\t\t\tgoogletag.cmd = googletag.cmd || [];\n\t\t\tvar domain = 'liverc.com';\n\t\t</script>"
)
_ANALYTICS = Verbatim(
    "\t\t<script>\n\t\t\t(function(i,s,o){i['GoogleAnalyticsObject']=o;i[o]=i[o]||function(){"
    "(i[o].q=i[o].q||[]).push(arguments)}})(window,document,'ga');\n\t\t\tga('send', 'pageview');\n\t\t</script>"
)


def _nav(catalogue: bool) -> E:
    items = [
        el("li", None, el("a", {"href": "//live.liverc.com"}, el("i", "fa fa-road fa-fw"), " Switch Tracks")),
    ]
    if not catalogue:
        for href, icon, label in (
            ("/", "fa-dashboard", "Track Dashboard"),
            ("/live/", "fa-hourglass", "Watch Live"),
            ("/results/", "fa-list-ol", "Race Results"),
        ):
            items.append(el("li", None, el("a", {"href": href}, el("i", f"fa {icon} fa-fw"), f" {label}")))
        items.append(
            Verbatim(
                '\t\t\t\t<!--<li><a href="/events/"><i class="fa fa-calendar fa-fw"></i> Past Events</a></li>-->'
            )
        )
        for href, icon, label in (
            ("/practice/", "fa-clock-o", "Practice Times"),
            ("/track_map/", "fa-globe", "Live Track Map"),
        ):
            items.append(el("li", None, el("a", {"href": href}, el("i", f"fa {icon} fa-fw"), f" {label}")))
    return el(
        "nav",
        {"class": "navbar navbar-default navbar-static-top", "role": "navigation"},
        el("div", "navbar-header fixed", el("a", {"class": "navbar-brand", "href": "/"}, el("span", {"id": "LRC-logo"}))),
        el("div", {"class": "navbar-default sidebar", "role": "navigation"},
           el("div", "sidebar-nav navbar-collapse collapse", el("ul", {"class": "nav", "id": "side-menu"}, *items))),
    )  # fmt: skip


def _breadcrumb(track: str, event: str | None = None, dates: E | str | None = None, back: bool = False) -> E:
    inner = el("div", "col-lg-12", el("h1", "page-header", el("span", "fa fa-road"), f" {track}"))
    if event is not None:
        box = el(
            "div",
            "clearfix",
            el("h3", "page-header text-nowrap pull-left", el("span", "fa fa-list-ol"), f" {event}"),
        )
        if dates is not None:
            box.add(el("h5", "page-header text-nowrap pull-left", el("span", "fa fa-calendar"), " ", dates))
        inner.add(box)
    if back:
        inner.add(
            el(
                "a",
                {"href": "/events/"},
                el("i", "fa fa-calendar fa-fw"),
                " ",
                el("u", None, "View results from other events"),
            )
        )
    return el("div", "row page-breadcrumb", inner)  # fmt: skip


def _datatable_script(selector: str, options: str) -> E:
    return el(
        "script",
        None,
        Verbatim(
            f"\n\t$(document).ready(function()\n\t{{\n\t\t$('{selector}').DataTable(\n\t\t{{\n{options}\n\t\t}});\n\t}});\n"
        ),
    )


def _document(title: str, body: list[E | str], style: str, catalogue: bool = False) -> str:
    head = el(
        "head",
        None,
        el("meta", {"charset": "utf-8"}),
        el("meta", {"http-equiv": "Content-Type", "content": "text/html; charset=UTF-8"}),
        el("title", None, title),
        el("meta", {"name": "robots", "content": "index, follow"}),
        el("link", {"href": "/vendor/bootstrap/css/bootstrap.min.css", "rel": "stylesheet"}),
        _HEAD_SCRIPT
        if style == RAW
        else Verbatim('    <script>\n      var domain = "liverc.com"\n    </script>'),
    )
    page = el("div", {"id": "page-wrapper"}, *body)
    wrapper = el("div", {"id": "wrapper"}, _nav(catalogue), page)
    html = el("html", {"lang": "en"}, head,
              el("body", None, _ANALYTICS if style == RAW else None,
                 el("pre", {"class": "hidden", "id": "user_profile_data"}, "false"), wrapper))  # fmt: skip
    return "<!DOCTYPE html>\n" + render(html, style) + "\n"


def _panel(heading: E | str, icon: str, *content: E | None, body_class: str = "panel-body no_padding") -> E:
    return el("div", "panel panel-default",
              el("div", "panel-heading", el("i", f"fa {icon}"), " ", heading),
              el("div", body_class, *content))  # fmt: skip


def _head_row(*labels: str, **attrs: str) -> E:
    return el("tr", None, *(el("th", dict(attrs) or None, label) for label in labels))


# catalogue ---------------------------------------------------------------------------------------------
def render_catalogue(tracks: list[GenTrack], style: str = RAW) -> str:
    rows = []
    for t in tracks:
        status = el("td", "text-nowrap", el("i", f"fa fa-video-camera fa-fw status_video_{int(t.video)}"))
        icon = {"racing": "fa-flag-checkered fa-fw status_2", "practice": "fa-clock-o fa-fw status_1"}
        status.add(el("i", f"fa {icon.get(t.activity, 'fa-power-off fa-fw status_0')}"))
        if t.featured:
            status.add(el("i", "fa fa-star fa-fw status_featured"))
        status.add(el("br"), el("small", None, el("small", None, t.last_activity)))
        name = el("td", None, el("span", "hidden", "seRC"),
                  el("a", {"href": f"//{t.slug}.liverc.com/"}, el("strong", None, t.name)))  # fmt: skip
        if t.current_event:
            name.add(el("div", "indent", el("small", None, t.current_event)))
        where = "live" if t.activity != "idle" else "results"
        rows.append(
            el("tr", {"class": "clickable-row", "data-href": f"//{t.slug}.liverc.com/{where}/"}, status, name)
        )
    legend = el("ul", "list-inline padding_container",
                el("li", None, el("i", "fa fa-video-camera fa-fw status_video_1"), " Live Video"),
                el("li", None, el("i", "fa fa-star fa-fw status_featured"), " Featured Event"),
                el("li", None, el("i", "fa fa-flag-checkered fa-fw status_2"), " Racing in Progress"),
                el("li", None, el("i", "fa fa-clock-o fa-fw status_1"), " Open Practicing"),
                el("li", None, el("i", "fa fa-power-off fa-fw"), " No Track Activity"))  # fmt: skip
    table = el("table", {"class": "table table-striped track_list", "cellspacing": "0", "width": "100%"},
               el("thead", None, el("tr", None, el("th", "col_min", "Status"), el("th", None, "Track Name"))),
               el("tfoot", None, _head_row("Status", "Track Name")),
               el("tbody", None, *rows))  # fmt: skip
    body = [
        _datatable_script(".track_list", "\t\t\t'paging': true,\n\t\t\t'pageLength': 100,\n\t\t\t'sort': false"),
        _breadcrumb("Track List"),
        el("div", "row", el("div", "col-lg-6", _panel("Tracks", "fa-road fa-fw", legend, el("div", "table-responsive", table)))),
    ]  # fmt: skip
    return _document("Track List :: LiveRC", body, style, catalogue=True)


# events listing ----------------------------------------------------------------------------------------
def _query(track: GenTrack, page: str, object_id: int, extra: str = "") -> str:
    p = page.replace("_", "%5F") if track.encoded_links else page
    if track.id_first:
        return f"/results/?id={object_id}&p={p}{extra}"
    return f"/results/?p={p}&id={object_id}{extra}"


def render_events(track: GenTrack, style: str = RAW) -> str:
    rows = []
    for e in track.events:
        stamp = datetime.combine(e.start, e.start_time or time(0))
        date_cell = el("td", None, el("span", "hidden", f"{stamp:%Y-%m-%d %H:%M:%S}"), day_text(e.start))
        if e.end != e.start:
            date_cell.children[-1] = day_text(e.start) + " to "
            date_cell.add(el("br"), day_text(e.end))
        rows.append(
            el("tr", None,
               el("td", None, el("a", {"href": _query(track, "view_event", e.event_id)}, e.name)),
               date_cell, el("td", None, str(e.entries)), el("td", None, str(e.drivers)))
        )  # fmt: skip
    heads = ("Event Name", "Date", "# Entries", "# Drivers")
    table = el("table", {"id": "events", "class": "table table-striped", "width": "100%"},
               el("thead", None, _head_row(*heads)), el("tfoot", None, _head_row(*heads)),
               el("tbody", None, *rows))  # fmt: skip
    body = [
        _datatable_script("#events", "\t\t\t'paging': true,\n\t\t\t'pageLength': 10,\n\t\t\t'order': [[1, 'desc']]"),
        el("div", "row page-breadcrumb", el("div", "col-lg-12", el("h1", "page-header", el("span", "fa fa-road"), f" {track.name}'s Events"))),
        el("div", "row", el("div", "col-lg-12", _panel("Event List", "fa-calendar fa-fw", el("div", "table-responsive", table)))),
    ]  # fmt: skip
    return _document(f"{track.name} :: Archived Results :: LiveRC", body, style)


# event page --------------------------------------------------------------------------------------------
def _dates(event: GenEvent) -> str:
    if event.end == event.start:
        return day_text(event.start)
    return f"{day_text(event.start)} to {day_text(event.end)}"


def render_event(track: GenTrack, event: GenEvent, style: str = RAW) -> str:
    lineups = el("tbody", None)
    if event.classes:
        href = _query(track, "view_entry_list", event.event_id)
        lineups.add(el("tr", {"class": "clickable-row", "data-href": href},
                       el("td", None, el("a", {"href": href, "class": "block"}, el("i", "fa fa-bars"), " Entry List"))))  # fmt: skip
    rounds = sorted({r.section for r in event.races if r.section != "Main Events"}, reverse=True)
    for sheet, label in zip(event.heat_sheet_ids, [*rounds, "Main Events"], strict=False):
        lineups.add(el("tr", None, el("td", None, el("a", {"href": _query(track, "view_heat_sheet", sheet), "class": "block"},
                                                      el("i", "fa fa-list"), f" {label}"))))  # fmt: skip
    overall = el("tbody", None)
    if event.races:
        overall.add(el("tr", None, el("td", None, el("a", {"href": _query(track, "event_overall_ranking", event.event_id), "class": "block"},
                                                     el("i", "fa fa-trophy"), " Final Results"))))  # fmt: skip
    results = el("tbody", None)
    section = None
    for heat_sheet, race_id, label in event.unrun:
        if section != "Main Events":
            section = "Main Events"
            results.add(_head_row("Main Events", "Time Completed"))
        results.add(el("tr", None, el("td", None, el("a", {"href": _query(track, "view_heat_sheet", heat_sheet, f"&race_id={race_id}"), "class": "block"},
                                                      el("i", "fa fa-clock-o"), f" {label}")), el("td", None)))  # fmt: skip
    for race in _page_races(event):
        if race.section != section:
            section = race.section
            results.add(_head_row(section, "Time Completed"))
        done = day_text(race.completed.date()) if race.bare_date else completed_text(race.completed)
        results.add(el("tr", None,
                       el("td", None, el("a", {"href": _query(track, "view_race_result", race.race_id), "class": "block"},
                                         el("i", "fa fa-trophy"), " " + _race_label(race, track))),
                       el("td", None, done)))  # fmt: skip
    tables = [
        el("div", "table-responsive", el("table", "table table-hover entry_list_data",
           el("thead", None, el("tr", None, el("th", None, el("span", "class_header", "Race Lineups &amp; Entry List")))), lineups)),
        el("div", "table-responsive", el("table", "table table-hover entry_list_data",
           el("thead", None, el("tr", None, el("th", None, el("span", "class_header", "Overall Results &amp; Rankings")))), overall)),
        el("div", "table-responsive", el("table", "table table-hover entry_list_data",
           el("thead", None, el("tr", None, el("th", {"colspan": "2"}, el("span", "class_header", "Race Results")))), results)),
    ]  # fmt: skip
    total_laps = sum(r.total_laps for r in event.races)
    stats = el("table", "table table-sm table-borderless m-0", el("tbody", None,
               el("tr", None, el("th", None, "Race Track"), el("td", None, event.race_track)),
               el("tr", None, el("th", None, "Registrations"),
                  el("td", None, f"Entries: {event.entries}", el("br"), f"Drivers: {event.drivers}")),
               el("tr", None, el("th", None, "Total Race Laps"), el("td", None, thousands(total_laps)))))  # fmt: skip
    card = el("div", "card", el("div", "card-header", el("h2", None, el("i", "fas fa-chart-line"), " Event Stats")),
              el("div", "card-body p-0", stats))  # fmt: skip
    body = [
        _breadcrumb(track.name, event.name, _dates(event), back=True),
        el("div", "row",
           el("div", "col-lg-8", _panel("Race Lineups &amp; Results", "fa-list-ol fa-fw", *tables)),
           el("div", "col-lg-4", card)),
    ]  # fmt: skip
    return _document(f"{track.name} :: {event.name} :: Results :: LiveRC", body, style)


# race page ---------------------------------------------------------------------------------------------
_STAT_HEADERS = ("Avg Lap", "Avg Top 5", "Avg Top 10", "Avg Top 15", "Top 3 Consecutive")
_HEADERS = ("Pos", "Driver", "Qual", "Laps/Time", "Behind", "Fastest Lap", *_STAT_HEADERS, "Std. Deviation", "Consistency")  # fmt: skip


def _racer_laps_js(race: GenRace, style: str) -> str:
    t = "\t" if style == RAW else "  "
    base = 6 if style == RAW else 4
    pad = t * base
    lines = [
        js_statement("var racerLaps = {}", style),
        js_statement("var positionData = []", style),
        js_statement("var driverNames = []", style),
    ]
    out = [pad + line for line in lines]
    for entry in race.entries:
        name = entry.person.name
        stats = _stats(entry.lap_ms, race.exclude_first_lap)
        cum = _cumsum(entry.lap_ms)
        laps: list[str] = []
        if entry.lap_ms:
            laps.append(_lap_js("0", str(entry.car), "0", "0", style, base + 3))
            for i, ms in enumerate(entry.lap_ms):
                laps.append(_lap_js(str(i + 1), str(entry.positions[i]), lap_text(ms),
                                    _pace(cum[i], i + 1, race.length_ms), style, base + 3))  # fmt: skip
        obj = js_object(
            [
                ("driverName", name), ("fastLap", stats.fast), ("avgLap", stats.avg), ("avgTop5", stats.top5),
                ("avgTop10", stats.top10), ("avgTop15", stats.top15), ("top2Consecutive", stats.top2c),
                ("top3Consecutive", stats.top3c), ("stdDeviation", stats.std), ("consistency", stats.consistency),
                ("laps", laps),
            ],
            style,
            base,
        )  # fmt: skip
        out.append(pad + js_statement("positionDataDriver = {}", style))
        out.append(pad + js_statement(f"positionDataDriver.label = {js_string(name, style)}", style))
        out.append(pad + js_statement("positionDataDriver.data = []", style))
        out.append(pad + js_statement(f"driverNames.push({js_string(name, style)})", style))
        out.append(pad + js_statement(f"racerLaps[{entry.person.driver_id}] = {obj}", style))
        if entry.lap_ms:
            out.append(pad + js_statement(f"positionDataDriver.data.push([0, {entry.car}])", style))
            for i, position in enumerate(entry.positions):
                out.append(pad + js_statement(f"positionDataDriver.data.push([{i + 1}, {position}])", style))
        out.append(pad + js_statement("positionData.push(positionDataDriver)", style))
        out.append(pad + js_statement(f"console.log(racerLaps[{entry.person.driver_id}])", style))
    return "\n" + "\n".join(out) + "\n" + t * (base - 1)


def _lap_js(num: str, pos: str, time_: str, pace: str, style: str, depth: int) -> str:
    pairs = [("lapNum", num), ("pos", pos), ("time", time_), ("pace", pace), ("segments", [])]
    if style == RAW:
        pad = "\t" * (depth + 1)
        body = ",\n".join(f"{pad}'{k}' : {js_string(v, RAW)}" for k, v in pairs[:4])
        return "{\n" + body + f",\n{pad}'segments' : [\n{pad}]\n" + "\t" * depth + "}"
    return js_object(pairs, PRETTY, depth)


def _stat_cell(text: str) -> E:
    if not text:
        return el("td", None, el("div", "hidden"))
    ms = round(float(text) * 1000)
    return el("td", None, el("div", "hidden", text), clock_text(ms))


def render_race(track: GenTrack, event: GenEvent, race: GenRace, style: str = RAW) -> str:
    rows = []
    for position, entry in enumerate(race.entries, start=1):
        stats = _stats(entry.lap_ms, race.exclude_first_lap)
        driver = el(
            "td", None, el("span", "car_num", str(entry.car)), el("span", "driver_name", entry.person.name)
        )
        if entry.lap_ms:
            driver.add(el("br"), el("span", "text-nowrap", el("small", None, el("small", None,
                       el("a", {"href": "#", "data-driver-id": str(entry.person.driver_id), "class": "driver_laps"},
                          el("span", "fa fa-eye"), " View Laps")))))  # fmt: skip
        ahead = race.entries[position - 2] if position > 1 else None
        laps_time = f"{len(entry.lap_ms)}/{clock_text(sum(entry.lap_ms))}" if entry.lap_ms else "0"
        fastest = (
            el("td", None, stats.fast, el("sup", None, str(stats.fast_lap))) if stats.fast else el("td", None)
        )
        std = f"{float(stats.std):.2f}" if stats.std else ""
        consistency = f"{float(stats.consistency):.2f}%" if stats.consistency else ""
        rows.append(
            el("tr", None, el("td", None, str(position)), driver, el("td", None, str(entry.car)),
               el("td", None, laps_time), el("td", None, _behind(entry, ahead)), fastest,
               *(_stat_cell(v) for v in (stats.avg, stats.top5, stats.top10, stats.top15, stats.top3c)),
               el("td", None, std), el("td", None, consistency))
        )  # fmt: skip
    info = el("th", {"colspan": "14"},
              el("div", {"class": "race_num", "style": "background: #00FA00;color: black;"}, str(race.race_number)),
              el("div", "race_info", el("span", "class_header", race.session_label), el("br"),
                 el("span", "class_sub_header", f"Round: {race.section}"), el("br"),
                 el("span", "class_sub_header", f"Length: {_length_label(race.length_ms)}")))  # fmt: skip
    foot = [*_HEADERS]
    table = el("table", {"class": "table table-striped race_result", "cellspacing": "0", "width": "100%"},
               el("thead", None, el("tr", None, info), _head_row(*_HEADERS)),
               el("tfoot", None, el("tr", None, *(el("th", None, h, el("sup", None, "(Lap #)") if h == "Fastest Lap" else None) for h in foot))),
               el("tbody", None, *rows))  # fmt: skip
    script = el("script", {"type": "text/javascript"}, Verbatim(_racer_laps_js(race, style)))
    heading = f"{race.session_label} Results [{race.round_code} Race #{race.race_number}]"
    body = [
        _datatable_script(".race_result", "\t\t\t'paging': false,\n\t\t\t'filter': false,\n\t\t\t'info': false"),
        _breadcrumb(track.name, event.name, _dates(event)),
        el("div", "row", el("div", "col-lg-12",
           _panel(heading, "fa-trophy", script, el("div", "table-responsive", table)),
           _panel("Lap-by-Lap Position Graph", "fa-area-chart", el("div", "flot-chart", el("div", {"class": "flot-chart-content", "id": "chart_position_by_laps"})), body_class="panel-body"))),
        el("script", {"type": "text/javascript"},
           Verbatim(f"\n\tvar plotOptions = {{ yaxis: {{ max: {len(race.entries)}, min: 1 }} }};\n")),
    ]  # fmt: skip
    return _document(f"{track.name} :: {event.name} :: {race.session_label} :: LiveRC", body, style)


# entry list --------------------------------------------------------------------------------------------
def _tab_slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


def render_entry_list(track: GenTrack, event: GenEvent, style: str = RAW) -> str:
    pills = el("ul", "nav nav-pills")
    panes = el("div", "tab-content")
    for i, cls in enumerate(event.classes):
        tab = f"{_tab_slug(cls.name)}_tab_{cls.class_id}"
        pills.add(
            el(
                "li",
                "active" if i == 0 else None,
                el("a", {"href": f"#{tab}", "data-toggle": "tab"}, cls.name),
            )
        )
        rows = [
            el("tr", None, el("td", None, str(row)), el("td", None, el("span", "hidden", p.sort_name), p.name),
               el("td", None, p.transponder))
            for c, row, p in _entry_people(event) if c is cls
        ]  # fmt: skip
        heads = ("#", "Driver", "Transponder #")
        table = el("table", {"id": f"{_tab_slug(cls.name)}_table_{cls.class_id}", "class": "table table-striped", "cellspacing": "0", "width": "100%"},
                   el("thead", None, el("tr", None, el("th", {"colspan": "3"}, el("div", "class_header", cls.name),
                                                       el("div", "class_sub_header", f"Entries: {len(cls.people)}"))),
                      _head_row(*heads)),
                   el("tfoot", None, _head_row(*heads)), el("tbody", None, *rows))  # fmt: skip
        panes.add(
            el(
                "div",
                {"class": f"tab-pane fade{' in active' if i == 0 else ''} table-responsive", "id": tab},
                table,
            )
        )
    stats = el("table", "table table-sm", el("tbody", None,
               el("tr", None, el("th", None, "Entries"), el("td", None, thousands(event.entries))),
               el("tr", None, el("th", None, "Drivers"), el("td", None, thousands(event.drivers)))))  # fmt: skip
    body = [
        _breadcrumb(track.name, event.name, _dates(event)),
        el("div", "row",
           el("div", "col-lg-8", _panel("Entry List", "fa-bars", el("div", None, pills), panes, body_class="panel-body")),
           el("div", "col-lg-4", _panel("Event Stats", "fa-bar-chart", stats))),
    ]  # fmt: skip
    return _document(f"{track.name} :: {event.name} :: Entry List :: LiveRC", body, style)
