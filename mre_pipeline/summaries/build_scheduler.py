"""When to launch a summaries build and for which events: the summaries sensor's decisions, without Dagster.

The sensor keeps this state in its cursor (JSON). One build at a time (the ``dbt`` pool): while the build
it launched is queued or running, at most one standby build is launched behind it, which builds what is
due when it gets the slot; none while failures are being retried. A failed build is retried with
exponential backoff (the watermark is still behind, so its events stay due). If the same batch fails twice in a row, it is bisected:
half of it is built alone, and whichever half fails is split again, until the one event whose build
fails is found; that event is parked (left out) until it is ingested again or for ``PARK_SECONDS``, so
one bad event cannot hold back everyone else's summaries. Only a failure that dbt reports for the data (a
failing test, a model's SQL error) narrows a batch down; a build that never got to the data (its process
died, the service stopped, dbt could not start) is retried with backoff and never parks an event.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime

BATCH_LIMIT = 200  # events per build: a bounded build time even after a long outage or a models change
BACKOFF_BASE_S = 30.0
BACKOFF_MAX_S = 900.0
LAUNCH_GRACE_S = 600.0  # a requested run that Dagster never created is given up after this long
PARK_SECONDS = 3600.0  # a parked event is tried again after an hour


@dataclass
class PendingBuild:
    """The build this sensor launched last and has not seen finish."""

    run_key: str
    event_ids: list[int]  # empty: a full build
    requested_at: float
    ingested_at: dict[str, str] = field(default_factory=dict)  # event id -> results_changed_at (ISO)
    # A standby build: launched while another build runs, it waits warm for the dbt slot and builds the
    # events due when it gets it (the run's BATCH_TAG says which, once it knows).
    from_backlog: bool = False


@dataclass
class ParkedEvent:
    ingested_at: str  # ISO timestamp of the results_changed_at whose build failed
    until: float


@dataclass
class BuildCursor:
    pending: PendingBuild | None = None
    standby: PendingBuild | None = None  # launched while ``pending`` runs; becomes pending after it
    failures: int = 0  # consecutive failed builds
    retry_after: float = 0.0
    last_error: str | None = None
    last_failed_batch: list[int] = field(default_factory=list)
    suspects: list[int] = field(default_factory=list)  # a batch known to contain a failing event
    parked: dict[int, ParkedEvent] = field(default_factory=dict)
    launched: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> BuildCursor:
        """The cursor's state; an empty or unreadable cursor starts afresh (the warehouse holds the work)."""
        if not text:
            return cls()
        try:
            raw = json.loads(text)
            pending, standby = raw.get("pending"), raw.get("standby")
            return cls(
                pending=PendingBuild(**pending) if pending else None,
                standby=PendingBuild(**standby) if standby else None,
                failures=int(raw.get("failures", 0)),
                retry_after=float(raw.get("retry_after", 0.0)),
                last_error=raw.get("last_error"),
                last_failed_batch=[int(e) for e in raw.get("last_failed_batch", [])],
                suspects=[int(e) for e in raw.get("suspects", [])],
                parked={int(k): ParkedEvent(**v) for k, v in raw.get("parked", {}).items()},
                launched=int(raw.get("launched", 0)),
            )
        except (ValueError, TypeError, KeyError):
            return cls()


def backoff_seconds(failures: int) -> float:
    """30 s after the first failure, doubling, at most 15 minutes."""
    if failures <= 0:
        return 0.0
    return min(BACKOFF_BASE_S * 2 ** (failures - 1), BACKOFF_MAX_S)


def record_success(cursor: BuildCursor) -> None:
    """The pending build succeeded: its events are built, and a bisection moves to the other half."""
    built = set(cursor.pending.event_ids) if cursor.pending else set()
    cursor.suspects = [e for e in cursor.suspects if e not in built]
    cursor.pending = None
    cursor.failures = 0
    cursor.retry_after = 0.0
    cursor.last_error = None
    cursor.last_failed_batch = []


def record_failure(cursor: BuildCursor, message: str, now: float, of_the_data: bool = True) -> str:
    """The pending build failed: back off, and narrow down a batch that keeps failing because of its data.

    ``of_the_data`` is False when the build never got to the data (see the module's docstring).
    Returns a sentence for the sensor's log.
    """
    batch = cursor.pending.event_ids if cursor.pending else []
    ingested_at = cursor.pending.ingested_at if cursor.pending else {}
    standby = bool(cursor.pending and cursor.pending.from_backlog)
    bisecting = bool(cursor.suspects)
    failed_before = bool(batch) and set(cursor.last_failed_batch) == set(batch)  # same events, not any build
    cursor.pending = None
    cursor.failures += 1
    cursor.last_error = message
    cursor.last_failed_batch = list(batch) if of_the_data else []
    what = (
        f"the summaries build of {len(batch)} event(s)"
        if batch
        else ("the standby summaries build" if standby else "the full summaries build")
    )
    keeps_failing = of_the_data and (failed_before or bisecting)
    if len(batch) == 1 and keeps_failing:
        event_id = batch[0]
        cursor.parked[event_id] = ParkedEvent(
            ingested_at=ingested_at.get(str(event_id), ""), until=now + PARK_SECONDS
        )
        cursor.suspects = []
        cursor.failures = 0
        cursor.retry_after = now
        return (
            f"{what} failed again ({message}); event {event_id} is left out until it is ingested again "
            f"or for {PARK_SECONDS / 3600:.0f} h, and the other events are built without it"
        )
    if len(batch) > 1 and keeps_failing:
        cursor.suspects = list(batch)  # the failing event is in here: bisect it, quickly
        cursor.retry_after = now + BACKOFF_BASE_S
        return f"{what} failed again ({message}); building half of it at a time to find the failing event"
    cursor.retry_after = now + backoff_seconds(cursor.failures)
    return (
        f"{what} failed ({message}); {cursor.failures} failure(s) in a row, "
        f"retrying in {cursor.retry_after - now:.0f} s"
    )


def expire_parked(cursor: BuildCursor, now: float) -> None:
    cursor.parked = {e: p for e, p in cursor.parked.items() if p.until > now}


def choose_batch(cursor: BuildCursor, due: list[int], limit: int = BATCH_LIMIT) -> list[int]:
    """The events to build next, from ``due`` (the backlog, in order): half of the suspects while
    bisecting, else the first ``limit``. A retry after one failure naturally picks the same batch."""
    due_set = set(due)
    cursor.suspects = [e for e in cursor.suspects if e in due_set]  # built or parked meanwhile
    if cursor.suspects:
        return cursor.suspects[: math.ceil(len(cursor.suspects) / 2)]
    return due[:limit]


def healthy(cursor: BuildCursor, now: float) -> bool:
    """No failure being retried or narrowed down: a standby build may be launched."""
    return cursor.failures == 0 and not cursor.suspects and now >= cursor.retry_after


def parked_skip_strings(cursor: BuildCursor) -> list[str]:
    """The parked events as ``event_id@results_changed_at`` (a standby build's configuration)."""
    return [f"{event_id}@{parked.ingested_at}" for event_id, parked in sorted(cursor.parked.items())]


def skip_from_strings(entries: list[str]) -> dict[int, datetime]:
    """The inverse of :func:`parked_skip_strings`, ignoring malformed entries."""
    skip: dict[int, datetime] = {}
    for entry in entries:
        event_id, _, changed_at = entry.partition("@")
        try:
            skip[int(event_id)] = datetime.fromisoformat(changed_at)
        except ValueError:
            continue
    return skip


def parked_skip_list(cursor: BuildCursor) -> dict[int, datetime]:
    """Parked events with the results_changed_at to leave out (the backlog query's ``skip``)."""
    return skip_from_strings(parked_skip_strings(cursor))
