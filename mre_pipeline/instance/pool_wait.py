"""A step waiting for a pool slot sleeps until its next claim, and claims again every second.

Two things in Dagster's in-process executor (1.13.27 here, unchanged in 1.13.29, the newest) cost this
pipeline the most during a burst, when one run per pool always waits warm for a slot
(``op_granularity_run_buffer: 1`` in dagster.yaml: the next event's run on ``timing_sources``, the standby
summaries build on ``dbt``):

- ``InstanceConcurrencyContext.interval_to_next_pending_claim_check`` returns ``min(0, time left)``, which
  is never positive, so the executor's loop never sleeps: the waiting run worker spins one core at 100 %
  for as long as it waits. On two cores that halved the CPU of everything else (seen with py-spy: the
  worker in ``sleep_til_ready`` -> ``sleep_interval``; dbt builds during a burst took 12-17 s, 8 s alone).
- A blocked claim is retried after 1 s, then 1.1 s, 1.21 s ... up to 15 s, so a run that waited a while
  takes a freed slot seconds late: LiveRC or the dbt slot sits idle meanwhile. A claim is one indexed
  query; once a second per waiting run is nothing.

``apply()`` fixes both (the intended ``max(0, time left)``, and a constant 1 s between claims). Both code
locations call it as they load, so every run worker, warm or cold, has it.
"""

from __future__ import annotations

import time

from dagster._core.execution.plan import instance_concurrency_context as concurrency

CLAIM_INTERVAL_S = 1.0


def _interval_to_next_pending_claim_check(self: concurrency.InstanceConcurrencyContext) -> float:
    """Seconds until the earliest pending claim may be tried again (0 when one is due now)."""
    if not self._pending_claims or not self._pending_timeouts:
        return 0.0
    now = time.time()
    return max(0.0, min(ready_at - now for ready_at in self._pending_timeouts.values()))


def apply() -> None:
    """Patch Dagster's executor in this process (idempotent)."""
    concurrency.InstanceConcurrencyContext.interval_to_next_pending_claim_check = (
        _interval_to_next_pending_claim_check
    )
    concurrency.STEP_UP_BASE = 1.0  # interval = INITIAL_INTERVAL_VALUE + 1.0**n - 1 = 1 s
    concurrency.INITIAL_INTERVAL_VALUE = CLAIM_INTERVAL_S
    concurrency.MAX_CONCURRENCY_CLAIM_BLOCKED_INTERVAL = CLAIM_INTERVAL_S
