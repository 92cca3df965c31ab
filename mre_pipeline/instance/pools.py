"""Pool limits the pipeline needs in Dagster's storage, set once when the services start.

``dagster.yaml`` gives every pool one slot (``dbt`` must stay at one: concurrent ``dbt build`` on Postgres
deadlocks). The ``timing_sources`` pool may hold more: politeness is kept per host by the warehouse's ledger,
so several events (at different hosts, or queued behind one host's interval without a cold start) can be
worked on at once. ``MRE_TIMING_SOURCE_SLOTS``, when set, is applied at every start; otherwise the default is
applied only to a pool nobody has set, so a limit an operator set in the UI or with
``dagster instance concurrency set`` is kept.
"""

from __future__ import annotations

import os

from mre_pipeline.settings import env_int

TIMING_SOURCES_POOL = "timing_sources"
DEFAULT_TIMING_SOURCE_SLOTS = 4


def ensure_pool_limits(event_storage) -> dict[str, int]:
    """Set the ``timing_sources`` limit (see the module docstring); returns what it set."""
    configured = bool(os.environ.get("MRE_TIMING_SOURCE_SLOTS", "").strip())
    slots = env_int("MRE_TIMING_SOURCE_SLOTS", DEFAULT_TIMING_SOURCE_SLOTS)
    current = {p.name: p for p in event_storage.get_pool_limits()}
    pool = current.get(TIMING_SOURCES_POOL)
    set_by_someone = pool is not None and not pool.from_default
    if slots <= 0 or (set_by_someone and not configured) or (pool is not None and pool.limit == slots):
        return {}
    event_storage.set_concurrency_slots(TIMING_SOURCES_POOL, slots)
    return {TIMING_SOURCES_POOL: slots}
