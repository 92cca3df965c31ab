"""The pipeline's pool limits land in Dagster's storage, and an operator's own limit is never overwritten."""

from __future__ import annotations

import dagster as dg
import pytest

from mre_pipeline.instance.pools import TIMING_SOURCES_POOL, ensure_pool_limits


def _limit(instance: dg.DagsterInstance) -> int | None:
    return {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}.get(TIMING_SOURCES_POOL)


def test_a_fresh_instance_gets_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MRE_TIMING_SOURCE_SLOTS", raising=False)
    with dg.instance_for_test() as instance:
        assert ensure_pool_limits(instance.event_log_storage) == {TIMING_SOURCES_POOL: 4}
        assert _limit(instance) == 4
        assert ensure_pool_limits(instance.event_log_storage) == {}, "a second start changes nothing"


def test_an_operators_limit_is_kept_unless_the_variable_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MRE_TIMING_SOURCE_SLOTS", raising=False)
    with dg.instance_for_test() as instance:
        instance.event_log_storage.set_concurrency_slots(TIMING_SOURCES_POOL, 2)  # the UI or the Dagster CLI
        assert ensure_pool_limits(instance.event_log_storage) == {}
        assert _limit(instance) == 2
        monkeypatch.setenv("MRE_TIMING_SOURCE_SLOTS", "3")  # an explicit setting wins at the next start
        assert ensure_pool_limits(instance.event_log_storage) == {TIMING_SOURCES_POOL: 3}
        assert _limit(instance) == 3
