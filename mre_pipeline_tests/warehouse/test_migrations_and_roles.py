"""The schema comes from migrations alone, re-runs as a no-op, and the roles hold exactly their grants."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from mre_pipeline.warehouse import migrate

EXPECTED_TABLES = {
    "host_politeness",
    "host_robots",
    "alembic_version",
    "tracks",
    "events",
    "races",
    "drivers",
    "race_results",
    "laps",
    "event_entries",
    "ingestion_requests",
}


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'mre'"))
        tables = {r[0] for r in rows}
    engine.dispose()
    return tables


def test_upgrade_from_empty_then_noop(empty_database_url: str) -> None:
    assert migrate.current_revision(empty_database_url) is None
    migrate.upgrade(empty_database_url)
    assert _tables(empty_database_url) == EXPECTED_TABLES
    head = migrate.current_revision(empty_database_url)
    assert head == "0006"

    engine = sa.create_engine(empty_database_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO mre.tracks (slug, name) VALUES ('keepme', 'Kept Track')")
    migrate.upgrade(empty_database_url)  # second run: nothing changes, data survives
    assert migrate.current_revision(empty_database_url) == head
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM mre.tracks").scalar_one() == "Kept Track"
    engine.dispose()


def test_check_constraints_reject_bad_rows(clean_warehouse: sa.Engine) -> None:
    with clean_warehouse.begin() as conn:
        conn.exec_driver_sql("INSERT INTO mre.tracks (slug, name) VALUES ('t1', 'T')")
        conn.exec_driver_sql(
            "INSERT INTO mre.events (source_event_id, track_id, name, start_date, end_date) "
            "SELECT 1, track_id, 'E', '2025-01-01', '2025-01-01' FROM mre.tracks"
        )
    bad = [
        "INSERT INTO mre.tracks (slug, name) VALUES ('Bad/Slug', 'x')",
        "UPDATE mre.events SET ingest_depth = 'partial'",
        "INSERT INTO mre.ingestion_requests (request_type, track_slug, status) VALUES ('ingest_event', 't1', 'done')",
        "INSERT INTO mre.ingestion_requests (request_type, track_slug, status, dagster_run_id) "
        "VALUES ('bogus', 't1', 'queued', 'r')",
        "INSERT INTO mre.ingestion_requests (request_type, status, status_detail) VALUES ('x', 'rejected', '')",
    ]
    for statement in bad:
        with pytest.raises(sa.exc.IntegrityError), clean_warehouse.begin() as conn:
            conn.exec_driver_sql(statement)


def _role_engine(url: str, role: str, password: str) -> sa.Engine:
    return sa.create_engine(make_url(url).set(username=role, password=password), poolclass=sa.pool.NullPool)


@pytest.fixture
def role_passwords(warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    passwords = {role: secrets.token_urlsafe(12) for role in migrate.ROLE_PASSWORD_ENV}
    for role, var in migrate.ROLE_PASSWORD_ENV.items():
        monkeypatch.setenv(var, passwords[role])
    assert sorted(migrate.apply_role_passwords(warehouse_url)) == sorted(passwords)
    return passwords


def test_webapp_role_inserts_requests_but_cannot_write_warehouse(
    clean_warehouse: sa.Engine, warehouse_url: str, role_passwords: dict[str, str]
) -> None:
    webapp = _role_engine(warehouse_url, "mre_webapp", role_passwords["mre_webapp"])
    with webapp.begin() as conn:
        request_id = conn.execute(
            sa.text(
                "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id) "
                "VALUES ('ingest_event', 'canberraoffroad', '486677') RETURNING request_id"
            )
        ).scalar_one()
        status = conn.execute(
            sa.text("SELECT status FROM mre.ingestion_requests WHERE request_id = :i"), {"i": request_id}
        ).scalar_one()
        assert status == "pending"
        assert conn.exec_driver_sql("SELECT count(*) FROM mre.laps").scalar_one() == 0
    for statement in (
        "UPDATE mre.laps SET lap_time_s = 1",
        "CREATE TABLE mre.evil (x int)",
        "CREATE TABLE public.evil (x int)",
        "UPDATE mre.ingestion_requests SET status = 'succeeded'",
        "DELETE FROM mre.ingestion_requests",
        "INSERT INTO mre.tracks (slug, name) VALUES ('x', 'x')",
    ):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), webapp.begin() as conn:
            conn.exec_driver_sql(statement)
    webapp.dispose()


FORGED_INSERTS = {
    "status": "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id, status) "
    "VALUES ('ingest_event', 'canberraoffroad', '486677', 'succeeded')",
    "partition_key": "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id, partition_key) "
    "VALUES ('ingest_event', 'canberraoffroad', '486677', 'liverc-canberraoffroad-486677')",
    "dagster_run_id": "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id, dagster_run_id) "
    "VALUES ('ingest_event', 'canberraoffroad', '486677', 'abc')",
    "status_detail": "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id, status_detail) "
    "VALUES ('ingest_event', 'canberraoffroad', '486677', 'done')",
    "queued_at": "INSERT INTO mre.ingestion_requests (request_type, track_slug, source_event_id, queued_at) "
    "VALUES ('ingest_event', 'canberraoffroad', '486677', now())",
    "request_id": "INSERT INTO mre.ingestion_requests (request_id, request_type, track_slug, source_event_id) "
    "VALUES (999999, 'ingest_event', 'canberraoffroad', '486677')",
}


@pytest.mark.parametrize("column", sorted(FORGED_INSERTS))
def test_webapp_cannot_write_pipeline_owned_columns(
    clean_warehouse: sa.Engine, warehouse_url: str, role_passwords: dict[str, str], column: str
) -> None:
    """A forged row is impossible, not merely handled: the privilege is missing on that column."""
    webapp = _role_engine(warehouse_url, "mre_webapp", role_passwords["mre_webapp"])
    try:
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), webapp.begin() as conn:
            conn.exec_driver_sql(FORGED_INSERTS[column])
        with webapp.begin() as conn:  # the web app's own columns, including source, still work
            conn.exec_driver_sql(
                "INSERT INTO mre.ingestion_requests (source, request_type, source_event_id, requested_by, force) "
                "VALUES ('everlaps', 'ingest_event', '3702', 'user:1', true)"
            )
    finally:
        webapp.dispose()
    with clean_warehouse.connect() as conn:
        rows = conn.exec_driver_sql("SELECT source, status, partition_key FROM mre.ingestion_requests").all()
    assert [tuple(r) for r in rows] == [("everlaps", "pending", None)]


def test_analysts_read_requests_but_not_who_asked(
    clean_warehouse: sa.Engine, warehouse_url: str, role_passwords: dict[str, str]
) -> None:
    with clean_warehouse.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO mre.ingestion_requests (request_type, track_slug, requested_by) "
            "VALUES ('discover_events', 't1', 'user:42')"
        )
    analyst = _role_engine(warehouse_url, "mre_analyst", role_passwords["mre_analyst"])
    try:
        with analyst.connect() as conn:
            status = conn.exec_driver_sql(
                "SELECT status, source, track_slug FROM mre.ingestion_requests"
            ).one()
            assert tuple(status) == ("pending", "liverc", "t1")
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), analyst.connect() as conn:
            conn.exec_driver_sql("SELECT requested_by FROM mre.ingestion_requests")
    finally:
        analyst.dispose()


def test_analyst_role_reads_but_writes_nothing(
    clean_warehouse: sa.Engine, warehouse_url: str, role_passwords: dict[str, str]
) -> None:
    with clean_warehouse.begin() as conn:
        conn.exec_driver_sql("INSERT INTO mre.tracks (slug, name) VALUES ('t1', 'T')")
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS mre_summaries.probe AS SELECT 1 AS x")
    analyst = _role_engine(warehouse_url, "mre_analyst", role_passwords["mre_analyst"])
    with analyst.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM mre.tracks").scalar_one() == 1
        assert conn.exec_driver_sql("SELECT x FROM mre_summaries.probe").scalar_one() == 1
    for statement in (
        "INSERT INTO mre.ingestion_requests (request_type, track_slug) VALUES ('discover_events', 't1')",
        "UPDATE mre.tracks SET name = 'x'",
        "DELETE FROM mre.tracks",
        "INSERT INTO mre_summaries.probe VALUES (2)",
        "CREATE TABLE mre.evil (x int)",
        "CREATE TABLE mre_summaries.evil (x int)",
        "CREATE TABLE public.evil (x int)",
        "TRUNCATE mre.laps",
    ):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), analyst.begin() as conn:
            conn.exec_driver_sql(statement)
    with clean_warehouse.begin() as conn:
        conn.exec_driver_sql("DROP TABLE mre_summaries.probe")
    analyst.dispose()
