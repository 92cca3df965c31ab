"""Turn a batch of pending queue rows into actions. Pure: the sensor gathers the facts, then applies these.

Rules: invalid rows are rejected with a reason; a request for a partition that is already queued or
running attaches to that work instead of starting another run; an event already at ``laps_full`` whose
stored copy is complete succeeds at once without touching its source unless ``force`` is set; an event
that may still change (``results_state = 'incomplete'``) is fetched again, but not within the refresh
interval of the last fetch (successful or not): inside it the request succeeds at once, saying when the
results were last refreshed; everything else launches a run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mre_pipeline.ingestion.keys import EventRef
from mre_pipeline.ingestion.request_rules import Accepted, CatalogueView, Rejection, check_request
from mre_pipeline.warehouse.requests import QueueRow, StoredEvent

DEFAULT_REFRESH_INTERVAL = timedelta(seconds=600)


@dataclass(frozen=True)
class Reject:
    request_id: int
    reason: str


@dataclass(frozen=True)
class Launch:
    request_id: int
    accepted: Accepted
    row: QueueRow
    refresh: bool = False  # the event is already ingested: this run fetches it again

    @property
    def detail(self) -> str:
        launched = f"run requested (run key {self.run_key})"
        if self.refresh and not self.row.force:
            return f"the event may still change, so it is fetched again; {launched}"
        return launched

    @property
    def run_key(self) -> str:
        return f"request-{self.request_id}"


@dataclass(frozen=True)
class Attach:
    request_id: int
    accepted: Accepted
    to_request_id: int
    run_id: str | None


@dataclass(frozen=True)
class AlreadyDone:
    request_id: int
    accepted: Accepted
    detail: str


Action = Reject | Launch | Attach | AlreadyDone


@dataclass(frozen=True)
class ActiveWork:
    """A queued or running request for a partition."""

    request_id: int
    run_id: str | None


def plan_batch(
    rows: list[QueueRow],
    catalogue: CatalogueView,
    active: dict[tuple[str, str], ActiveWork],
    ingested: Mapping[tuple[str, int], StoredEvent],
    refresh_interval: timedelta = DEFAULT_REFRESH_INTERVAL,
) -> list[Action]:
    """``active`` maps (request_type, partition_key) to live work (its run not finished); ``ingested`` maps
    (source, event id) of events already at laps_full to what the warehouse holds of them."""
    actions: list[Action] = []
    active = dict(active)
    for row in rows:
        decision = check_request(row, catalogue)
        if isinstance(decision, Rejection):
            actions.append(Reject(row.request_id, decision.reason))
            continue
        key = (decision.request_type, decision.partition_key)
        if key in active:
            work = active[key]
            actions.append(Attach(row.request_id, decision, work.request_id, work.run_id))
            continue
        event = decision.event
        stored = ingested.get((event.source, event.event_id)) if event is not None else None
        if event is not None and stored is not None and not row.force:
            answer = answer_from_warehouse(event, stored, refresh_interval)
            if answer is not None:
                actions.append(AlreadyDone(row.request_id, decision, answer))
                continue
        actions.append(Launch(row.request_id, decision, row, refresh=stored is not None))
        active[key] = ActiveWork(row.request_id, None)
    return actions


def answer_from_warehouse(event: EventRef, stored: StoredEvent, refresh_interval: timedelta) -> str | None:
    """The answer to give without fetching, or None when the event must be fetched again."""
    if stored.complete:
        return f"event {event.event_id} was already fully ingested ({_stamp(stored.last_ingested_at)}); set force to re-ingest"
    next_fetch = stored.last_fetch_started + refresh_interval
    if stored.checked_at >= next_fetch:
        return None
    answer = (
        f"event {event.event_id} may still change, and its results were last refreshed at "
        f"{_stamp(stored.last_ingested_at)}"
    )
    launched = stored.refresh_launched_at
    if launched is not None and launched > stored.last_ingested_at:
        answer += f"; the refresh started at {_clock(launched, stored.checked_at)} did not complete"
    return (
        answer + f"; ask again after {_clock(_next_minute(next_fetch), stored.checked_at)} for newer results"
    )


def _stamp(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if when else "earlier"


def _clock(when: datetime, now: datetime) -> str:
    """``14:12 UTC`` on the same UTC day as ``now``, else the full stamp."""
    utc = when.astimezone(UTC)
    return utc.strftime("%H:%M UTC") if utc.date() == now.astimezone(UTC).date() else _stamp(utc)


def _next_minute(when: datetime) -> datetime:
    """The first whole minute at or after ``when`` (so "after 14:12" is never too early)."""
    seconds = when.timestamp()
    return datetime.fromtimestamp(math.ceil(seconds / 60) * 60, tz=UTC)
