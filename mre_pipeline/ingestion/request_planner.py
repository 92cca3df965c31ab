"""Turn a batch of pending queue rows into actions. Pure: the sensor gathers the facts, then applies these.

Rules: invalid rows are rejected with a reason; a request for a partition that is already queued or
running attaches to that work instead of starting another run; an event already at ``laps_full``
succeeds at once without touching its source unless ``force`` is set; everything else launches a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from mre_pipeline.ingestion.keys import EventRef
from mre_pipeline.ingestion.request_rules import Accepted, CatalogueView, Rejection, check_request
from mre_pipeline.warehouse.requests import QueueRow


@dataclass(frozen=True)
class Reject:
    request_id: int
    reason: str


@dataclass(frozen=True)
class Launch:
    request_id: int
    accepted: Accepted
    row: QueueRow

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
    ingested: dict[tuple[str, int], datetime],
) -> list[Action]:
    """``active`` maps (request_type, partition_key) to live work (its run not finished); ``ingested`` maps
    (source, event id) of events already at laps_full to when they were ingested."""
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
        if event is not None and not row.force and (event.source, event.event_id) in ingested:
            actions.append(AlreadyDone(row.request_id, decision, _already_done(event, ingested)))
            continue
        actions.append(Launch(row.request_id, decision, row))
        active[key] = ActiveWork(row.request_id, None)
    return actions


def _already_done(event: EventRef, ingested: dict[tuple[str, int], datetime]) -> str:
    when = ingested[(event.source, event.event_id)]
    stamp = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if when else "earlier"
    return f"event {event.event_id} was already fully ingested ({stamp}); set force to re-ingest"
