"""A run waiting for a pool slot sleeps (Dagster's executor spun a core at 100 %), and claims every second."""

from __future__ import annotations

import threading
import time

import dagster as dg
from dagster._core.execution.plan import instance_concurrency_context as concurrency

import mre_pipeline.definitions  # noqa: F401 - loading either code location applies the fix
import mre_pipeline.summaries_definitions  # noqa: F401
from mre_pipeline.instance import pool_wait

POOL = "pool_wait_test"
HELD_S = 5.0


@dg.asset(pool=POOL)
def needs_the_slot() -> int:
    return 1


def test_loading_either_code_location_applies_the_fix() -> None:
    assert (
        concurrency.InstanceConcurrencyContext.interval_to_next_pending_claim_check
        is pool_wait._interval_to_next_pending_claim_check
    )
    assert concurrency._calculate_timeout_interval(None, 0) == 1.0
    assert concurrency._calculate_timeout_interval(None, 25) == 1.0, "no step-up towards 15 s"
    assert concurrency._calculate_timeout_interval(None, 40) == 1.0


def test_the_pause_before_the_next_claim_is_the_time_left_never_zero_while_waiting() -> None:
    context = concurrency.InstanceConcurrencyContext.__new__(concurrency.InstanceConcurrencyContext)
    context._pending_claims = {"step"}
    context._pending_timeouts = {"step": time.time() + 0.8}
    assert 0.5 < context.interval_to_next_pending_claim_check() <= 0.8
    context._pending_timeouts = {"step": time.time() - 1}
    assert context.interval_to_next_pending_claim_check() == 0.0, "a claim that is due is tried at once"
    context._pending_claims, context._pending_timeouts = set(), {}
    assert context.interval_to_next_pending_claim_check() == 0.0


def test_a_step_blocked_on_a_pool_waits_asleep_then_runs_when_the_slot_is_freed() -> None:
    with dg.instance_for_test() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots(POOL, 1)
        assert storage.claim_concurrency_slot(POOL, "another-run", "its-step").is_claimed

        def free_the_slot_later() -> None:
            time.sleep(HELD_S)
            storage.free_concurrency_slots_for_run("another-run")

        releaser = threading.Thread(target=free_the_slot_later)
        releaser.start()
        cpu_before = time.process_time()
        result = dg.materialize([needs_the_slot], instance=instance)
        cpu_s = time.process_time() - cpu_before
        releaser.join()
        blocked = [
            e
            for e in result.all_events
            if e.event_type == dg.DagsterEventType.ENGINE_EVENT and POOL in (e.message or "")
        ]
    assert result.success
    assert blocked, "the step did wait for the pool"
    # Spinning burns about one CPU-second per second waited; asleep, the whole run costs well under one.
    assert cpu_s < HELD_S / 2, f"{cpu_s:.1f} s of CPU while waiting {HELD_S:.0f} s for the slot"
