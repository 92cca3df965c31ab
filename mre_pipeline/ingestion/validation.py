"""Validate a fetched event before anything is written; every message names the race and the driver.

The rules on single records live beside the records (``connectors/plausibility.py``), so every connector's
parser can refuse the same things at the page, with its URL; this module runs them again on whatever a
connector returned and adds what needs the event and its races together.
"""

from __future__ import annotations

from mre_pipeline.connectors.plausibility import (
    Finding,
    event_detail_problems,
    event_summary_problems,
    race_findings,
)
from mre_pipeline.connectors.records import EventDetail, EventSummary, RaceResult

SHOWN_PROBLEMS = 5


class EventValidationError(ValueError):
    """The fetched event is inconsistent; nothing may be written.

    ``problems`` holds one sentence per problem; ``findings`` the same as structured values (race id,
    driver id and name) where the problem belongs to a race or a driver.
    """

    def __init__(self, problems: list[str], findings: list[Finding] | None = None):
        self.problems = problems
        self.findings = findings or [Finding(p) for p in problems]
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        more = f" (and {len(problems) - SHOWN_PROBLEMS} more)" if len(problems) > SHOWN_PROBLEMS else ""
        super().__init__(f"validation failed: {shown}{more}")


def validate_event(detail: EventDetail, races: list[RaceResult]) -> None:
    """Raise EventValidationError listing every problem of the event and its races."""
    findings = [Finding(p) for p in event_detail_problems(detail)]
    listed = [r.race_id for r in detail.races]
    fetched = {r.race_id for r in races}
    missing = [rid for rid in dict.fromkeys(listed) if rid not in fetched]
    if missing:
        findings.append(Finding(f"races listed on the event page but not fetched: {missing}"))
    extra = sorted(fetched - set(listed))
    if extra:
        findings.append(Finding(f"races fetched but not listed on the event page: {extra}"))
    summaries = {r.race_id: r for r in detail.races}
    labels = {}
    for race in races:
        summary = summaries.get(race.race_id)
        label = f"race {race.race_id} ({summary.session_label})" if summary else f"race {race.race_id}"
        labels[race.race_id] = label
        findings.extend(race_findings(race))
    if findings:
        problems = [f.where(labels.get(f.race_id)) if f.race_id is not None else f.text for f in findings]
        raise EventValidationError(problems, findings)


def validate_event_listing(events: list[EventSummary]) -> None:
    """Raise EventValidationError when a row of an events listing cannot be right."""
    problems = [p for event in events for p in event_summary_problems(event)]
    if problems:
        raise EventValidationError(problems)
