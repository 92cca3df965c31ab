"""Which events need their lap summaries (re)built: the one query the summaries sensor runs per tick.

The dbt build records, per event, the ``mre.events.last_ingested_at`` it built from in
``mre_summaries.summary_watermark`` (``built_from_ingested_at``, and the version of the models that built
it). An event needs a build when it was ingested and has no watermark row, when an ingestion changed its
rows after the one its summaries were built from (``results_changed_at`` later than
``built_from_ingested_at``), or when an older version of the models built it. An ingestion that changed
nothing (frequent: racers ask again for events that are still running) moves only ``last_ingested_at`` and
costs no build.

"Later" is safe because the writers of one event are serialised by a transaction-scoped advisory lock taken
by the write transaction's first statement (``warehouse/event_results.py``): an ingestion that commits
after a build read the event started its transaction, whose ``now()`` it records, after the one the build
read. Driven by the warehouse, not by Dagster events, so an ingestion killed just after its commit still
gets its summaries. The partial index ``events_results_changed_idx`` keeps the query to ingested events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

WATERMARK = "mre_summaries.summary_watermark"

_BACKLOG_SQL = f"""
SELECT e.event_id, e.results_changed_at, w.event_id IS NULL AS never_built
FROM mre.events e
LEFT JOIN {WATERMARK} w ON w.event_id = e.event_id
WHERE e.results_changed_at IS NOT NULL
  AND (w.event_id IS NULL
       OR e.results_changed_at > w.built_from_ingested_at
       OR coalesce(w.models_version, :models_version) <> :models_version)
  AND (e.event_id, e.results_changed_at) <> ALL (
      SELECT * FROM unnest(CAST(:skip_ids AS bigint[]), CAST(:skip_changed_at AS timestamptz[])))
ORDER BY (w.event_id IS NOT NULL AND e.results_changed_at <= w.built_from_ingested_at), e.results_changed_at,
         e.event_id
LIMIT :limit
"""

# Before the first build there is no watermark: every ingested event is due.
_FIRST_BACKLOG_SQL = """
SELECT e.event_id, e.results_changed_at, true AS never_built
FROM mre.events e
WHERE e.results_changed_at IS NOT NULL
  AND (e.event_id, e.results_changed_at) <> ALL (
      SELECT * FROM unnest(CAST(:skip_ids AS bigint[]), CAST(:skip_changed_at AS timestamptz[])))
ORDER BY e.results_changed_at, e.event_id
LIMIT :limit
"""

# The build that last (re)created the staging views records its models version as the watermark
# table's comment (dbt_summaries/macros/summary_batch.sql, record_staging_version).
_STATE_SQL = f"""
SELECT to_regclass('{WATERMARK}') IS NOT NULL AS has_watermark,
       to_regclass('mre_summaries.stg_laps') IS NOT NULL AS has_staging,
       obj_description(to_regclass('{WATERMARK}'), 'pg_class') AS staging_version
"""


@dataclass(frozen=True)
class DueEvent:
    event_id: int
    changed_at: datetime  # mre.events.results_changed_at: the change the build is due for
    never_built: bool


@dataclass(frozen=True)
class SummaryBacklog:
    """The events due (new ingestions first, then rebuilds for a new models version; oldest first, capped).

    ``rebuild_staging``: the build must (re)create the staging views too: before the first build, and in
    the first build of a new version of the models (their SQL may have changed).
    """

    events: list[DueEvent]
    first_build: bool
    rebuild_staging: bool


def summary_backlog(
    conn: sa.Connection,
    models_version: str,
    limit: int,
    skip: Mapping[int, datetime] | None = None,
) -> SummaryBacklog:
    """Events whose summaries are missing or stale, up to ``limit``.

    ``skip`` maps event ids to the ``results_changed_at`` to leave out (events whose build keeps failing);
    a newer change of such an event makes it due again.
    """
    skip = dict(skip or {})
    params = {
        "models_version": models_version,
        "limit": limit,
        "skip_ids": list(skip),
        "skip_changed_at": list(skip.values()),
    }
    state = conn.execute(sa.text(_STATE_SQL)).one()
    sql = _BACKLOG_SQL if state.has_watermark else _FIRST_BACKLOG_SQL
    rows = conn.execute(sa.text(sql), params).all()
    return SummaryBacklog(
        events=[DueEvent(r.event_id, r.results_changed_at, r.never_built) for r in rows],
        first_build=not state.has_watermark,
        rebuild_staging=not state.has_staging or state.staging_version != models_version,
    )


def watermark_rows(conn: sa.Connection) -> dict[int, datetime]:
    """event_id -> built_from_ingested_at of every built event (tests and the benchmark)."""
    if not conn.execute(sa.text(_STATE_SQL)).one().has_watermark:
        return {}
    rows = conn.execute(sa.text(f"SELECT event_id, built_from_ingested_at FROM {WATERMARK}")).all()
    return {int(r.event_id): r.built_from_ingested_at for r in rows}
