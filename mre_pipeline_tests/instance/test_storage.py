"""The instance in dagster.yaml keeps its Postgres connections open (one per storage and process), in run
workers too, and survives its connections being cut (a Postgres restart)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import dagster as dg
import pytest
import sqlalchemy as sa

from mre_pipeline import settings
from mre_pipeline.instance.storage import PooledPostgresStorage
from mre_pipeline.summaries_definitions import defs as summaries_defs
from mre_pipeline.warehouse.scratch import scratch_database
from mre_pipeline_tests.dagster_process import count


@pytest.fixture
def instance(pg_base_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    with scratch_database(pg_base_url, "dagster_pool", migrated=False) as url:
        monkeypatch.setenv("MRE_DAGSTER_DATABASE_URL", url)
        with dg.DagsterInstance.from_config(str(settings.PROJECT_ROOT)) as instance:
            yield instance


def _sessions_opened(url: str) -> int:
    """Connections ever opened to the database of ``url`` (Postgres counts them per database)."""
    return count(url, "SELECT sessions FROM pg_stat_database WHERE datname = current_database()")


def _cut_every_connection(url: str) -> int:
    return count(
        url,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )


def test_the_instance_and_its_run_workers_keep_pooled_connections(instance: dg.DagsterInstance) -> None:
    with dg.DagsterInstance.from_ref(instance.get_ref()) as run_worker_instance:
        for each in (instance, run_worker_instance):
            for storage in (each.run_storage, each.event_log_storage, each.schedule_storage):
                assert isinstance(storage._engine.pool, sa.pool.QueuePool)  # noqa: SLF001
    assert instance.get_ref().storage_data.class_name == PooledPostgresStorage.__name__


def test_creating_a_summaries_run_opens_a_few_connections_not_hundreds(instance: dg.DagsterInstance) -> None:
    """dagster_postgres alone opened 367 connections to create one (125 planned-asset events)."""
    url = os.environ["MRE_DAGSTER_DATABASE_URL"]
    job = summaries_defs.resolve_job_def("summaries_build")
    instance.create_run_for_job(
        job, run_config={"ops": {"mre_summaries_dbt": {"config": {"event_ids": [1]}}}}
    )
    before = _sessions_opened(url)
    run = instance.create_run_for_job(
        job, run_config={"ops": {"mre_summaries_dbt": {"config": {"event_ids": [2]}}}}
    )
    opened = _sessions_opened(url) - before - 1  # the count's own connection
    assert len(instance.all_logs(run.run_id)) == 125
    assert opened <= 12


def test_connections_cut_by_a_database_restart_are_replaced(instance: dg.DagsterInstance) -> None:
    job = summaries_defs.resolve_job_def("summaries_build")
    first = instance.create_run_for_job(
        job, run_config={"ops": {"mre_summaries_dbt": {"config": {"event_ids": [1]}}}}
    )
    assert _cut_every_connection(os.environ["MRE_DAGSTER_DATABASE_URL"]) >= 1
    second = instance.create_run_for_job(
        job, run_config={"ops": {"mre_summaries_dbt": {"config": {"event_ids": [2]}}}}
    )
    assert {r.run_id for r in instance.get_runs()} == {first.run_id, second.run_id}


def _open_connections(url: str) -> int:
    return count(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )


def test_instances_close_their_connections_when_disposed(
    pg_base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A code server builds an instance for every sensor tick: left to the garbage collector, their pools
    piled up connections (8 -> 21 in 75 s of an idle `mre-pipeline dev`)."""
    with scratch_database(pg_base_url, "dagster_pool_dispose", migrated=False) as url:
        monkeypatch.setenv("MRE_DAGSTER_DATABASE_URL", url)
        kept = []  # referenced, as a cycle would keep them: only dispose may close their connections
        for _ in range(10):
            with dg.DagsterInstance.from_config(str(settings.PROJECT_ROOT)) as instance:
                instance.get_runs()
                instance.all_instigator_state()
                instance.get_latest_materialization_event(dg.AssetKey("anything"))
                assert _open_connections(url) >= 1
            kept.append(instance)
        assert _open_connections(url) == 0
