"""Source-neutral records that every connector returns and the ingestion layer consumes.

Plain frozen dataclasses: no behaviour, no I/O. Times are seconds as ``float`` (parsed from the
published decimal strings, so ``str(x)`` round-trips them exactly); wall-clock values are naive and
track-local, exactly as the source printed them (no invented time zone). ``None`` means "not published".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time


@dataclass(frozen=True, slots=True)
class EventRef:
    """Which event of which source: what ingestion asks a connector for, whatever the source.

    ``track_slug`` only for sources whose events live under a catalogue track (LiveRC builds every URL of an
    event from its track); None for sources where the event id is enough (Everlaps).
    """

    source: str
    event_id: int
    track_slug: str | None = None

    @property
    def partition_key(self) -> str:
        """The event's text key, naming its source: ``liverc-canberraoffroad-486677``, ``everlaps-3702``."""
        if self.track_slug:
            return f"{self.source}-{self.track_slug}-{self.event_id}"
        return f"{self.source}-{self.event_id}"

    def __str__(self) -> str:
        return self.partition_key


@dataclass(frozen=True, slots=True)
class TrackRecord:
    """One row of a source's track catalogue."""

    source: str
    slug: str  # canonical: lower-case LiveRC subdomain
    name: str
    activity: str  # "racing" | "practice" | "idle"
    has_live_video: bool = False
    featured: bool = False
    current_event_name: str | None = None
    last_activity_text: str | None = None  # relative ("2 months ago"), as rendered
    # Sources without a track catalogue (Everlaps) publish a venue with each event instead:
    organiser: str | None = None  # the club that runs the venue or event, as published
    latitude: float | None = None  # WGS84 degrees, as published in the source's map link
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class EventSummary:
    """One event as a track's events listing shows it (metadata only)."""

    source: str
    track_slug: str
    event_id: int
    name: str
    start_date: date
    end_date: date  # == start_date for one-day events
    start_time: time | None = None  # None when the source prints 00:00:00 ("no time")
    entries: int | None = None
    drivers: int | None = None


@dataclass(frozen=True, slots=True)
class RaceSummary:
    """A race as the event page lists it: the only place a race's section and completion time appear."""

    race_id: int
    section: str  # "Main Events", "Qualifier Round 3", ...
    race_number: int
    class_name: str  # "1/8 Nitro Buggy"
    session_label: str  # "1/8 Nitro Buggy A-Main"
    completed_at: datetime | None = None  # naive track-local
    completed_text: str | None = None  # as printed ("Nov 16, 2025 at 5:30pm")
    # Where the source keeps this race when an id alone cannot address it (Everlaps: the heat's path in the
    # results tree, "7303/1/1/2"). None for LiveRC, whose race pages are addressed by race_id.
    locator: str | None = None


@dataclass(frozen=True, slots=True)
class EventDetail:
    """The event page: header, stats and the list of races with results."""

    source: str
    track_slug: str
    event_id: int
    name: str
    track_name: str | None
    start_date: date | None
    end_date: date | None
    races: tuple[RaceSummary, ...]
    has_entry_list_link: bool = False
    entries: int | None = None
    drivers: int | None = None
    total_race_laps: int | None = None
    race_track: str | None = None  # layout name ("Offroad")
    # Sources without a track catalogue (Everlaps) carry the venue on each event; track_slug is its slug.
    venue: TrackRecord | None = None
    # Exact instants when the source publishes them in UTC (Everlaps); start/end_date are their UTC dates.
    starts_at_utc: datetime | None = None
    ends_at_utc: datetime | None = None
    # Races the source lists without results yet (not run): a sign that the event is still running.
    races_pending: int = 0


@dataclass(frozen=True, slots=True)
class LapRecord:
    """One timed lap (lap 0, the grid marker, is never a LapRecord)."""

    lap_number: int  # >= 1
    lap_time_s: float
    position: int | None = None  # race position after this lap
    pace: str | None = None  # source's projection ("48/30:32.160"), not cumulative time


@dataclass(frozen=True, slots=True)
class DriverResult:
    """One driver's row of a race result, with the source's own statistics as published and their laps."""

    driver_id: int  # source-wide driver id (LiveRC data-driver-id / racerLaps key)
    driver_name: str
    position: int
    laps_completed: int  # from the Laps/Time cell
    total_time_s: float | None  # None for non-starters ("0")
    car_number: str | None = None
    qual_position: int | None = None
    grid_position: int | None = None  # from the lap-0 marker
    behind_text: str | None = None  # gap to the car ahead, as printed ("12.052", "1 Lap")
    fastest_lap_s: float | None = None
    fastest_lap_number: int | None = None
    avg_lap_s: float | None = None
    avg_top5_s: float | None = None
    avg_top10_s: float | None = None
    avg_top15_s: float | None = None
    top3_consecutive_s: float | None = None
    std_deviation_s: float | None = None
    consistency_pct: float | None = None
    laps: tuple[LapRecord, ...] = field(default_factory=tuple)
    # Time before lap 1 that total_time_s includes (Everlaps heats that count the run from the grid to the
    # line); None when the total is the laps alone. So for every source: sum(lap times) + (this or 0) ==
    # total_time_s.
    lead_in_time_s: float | None = None
    avg_top3_s: float | None = None  # mean of the 3 fastest laps, as published (Everlaps "t3")

    @property
    def started(self) -> bool:
        return self.laps_completed > 0 or bool(self.laps)


@dataclass(frozen=True, slots=True)
class RaceResult:
    """A race result page. Carries its id from the URL it was fetched from (the page never shows it)."""

    race_id: int
    class_header: str | None  # "1/8 Nitro Buggy A-Main"
    round_label: str | None  # "Main Events"
    length_label: str | None  # "30:00 Timed"
    race_number: int | None
    drivers: tuple[DriverResult, ...]
    # True when the source says the run to the line before lap 1 counts in the totals (Everlaps
    # "countfirstlap"); see DriverResult.lead_in_time_s. None when the source has no such rule.
    lead_in_counted: bool | None = None


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """One row of an event's entry list. Entry lists carry names only, no driver ids."""

    class_name: str
    driver_name: str
    row_number: int | None = None  # running number, not a car number
    sort_name: str | None = None  # "LAST, FIRST"
    transponder: str | None = None
    class_ref: str | None = None  # source's class id from the tab ("14341")


@dataclass(frozen=True, slots=True)
class EntryList:
    event_id: int
    entries: tuple[EntryRecord, ...]

    @property
    def class_names(self) -> list[str]:
        return list(dict.fromkeys(e.class_name for e in self.entries))
