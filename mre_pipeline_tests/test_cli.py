"""The admin CLI: exit codes, one-line errors, and the queue/warehouse it reads and writes."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from mre_pipeline.cli import main
from mre_pipeline.connectors.records import EventSummary, TrackRecord
from mre_pipeline.fake_everlaps.generator import generate_event
from mre_pipeline.warehouse import migrate
from mre_pipeline.warehouse.catalogue import upsert_catalogue
from mre_pipeline.warehouse.event_results import write_event
from mre_pipeline.warehouse.events import upsert_event_summaries


@pytest.fixture
def cli_env(clean_warehouse: sa.Engine, warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    monkeypatch.setenv("MRE_DATABASE_URL", warehouse_url)
    with clean_warehouse.begin() as conn:
        upsert_catalogue(conn, "liverc", [TrackRecord("liverc", "testtrack", "Test Track", "idle")])
        upsert_event_summaries(
            conn,
            "liverc",
            "testtrack",
            [
                EventSummary("liverc", "testtrack", 11, "New Year Cup", date(2024, 12, 31), date(2025, 1, 1)),
                EventSummary(
                    "liverc",
                    "testtrack",
                    12,
                    "Spring Series R1",
                    date(2025, 3, 2),
                    date(2025, 3, 2),
                    entries=40,
                ),
                EventSummary("liverc", "testtrack", 13, "Winter Finale", date(2026, 1, 5), date(2026, 1, 5)),
            ],
        )
    return clean_warehouse


def test_request_commands_insert_and_show(cli_env: sa.Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["request", "ingest", "--track", "testtrack", "--event", "12", "--force"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("request ") and "pending" in out
    request_id = int(out.split()[1])
    assert (
        main(["request", "discover", "--track", "testtrack", "--from", "2025-01-01", "--to", "2025-12-31"])
        == 0
    )
    capsys.readouterr()
    with cli_env.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT request_type, track_slug, source_event_id, force, requested_by, held_between_start, status "
            "FROM mre.ingestion_requests ORDER BY request_id"
        ).all()
    assert [tuple(r) for r in rows] == [
        ("ingest_event", "testtrack", "12", True, "cli", None, "pending"),
        ("discover_events", "testtrack", None, False, "cli", date(2025, 1, 1), "pending"),
    ]
    assert main(["request", "status"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "id",
        "source",
        "type",
        "track",
        "event",
        "status",
        "run",
        "created",
        "detail",
    ]
    assert len(table) == 3 and table[2].split()[:6] == [
        str(request_id),
        "liverc",
        "ingest_event",
        "testtrack",
        "12",
        "pending",
    ]
    assert main(["request", "status", str(request_id)]) == 0
    assert "request_type: ingest_event" in capsys.readouterr().out


def test_an_everlaps_request_needs_no_track(cli_env: sa.Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["request", "ingest", "--source", "everlaps", "--event", "3702"]) == 0
    request_id = int(capsys.readouterr().out.split()[1])
    with cli_env.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT source, request_type, track_slug, source_event_id, status FROM mre.ingestion_requests "
            "WHERE request_id = %s",
            (request_id,),
        ).one()
    assert tuple(row) == ("everlaps", "ingest_event", None, "3702", "pending")
    assert main(["request", "status"]) == 0
    latest = capsys.readouterr().out.splitlines()[1].split()
    assert latest[:5] == [str(request_id), "everlaps", "ingest_event", "3702", "pending"]
    assert main(["request", "ingest", "--event", "12"]) == 1
    assert capsys.readouterr().err == "mre-pipeline: error: --track is required for LiveRC events\n"


def test_events_lists_an_everlaps_venues_events(
    cli_env: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    event = generate_event(3, classes=1, drivers_per_class=4, qualifying_rounds=1, semi_series=0)
    with cli_env.begin() as conn:
        write_event(conn, event.detail, list(event.results.values()), None)
    venue = event.detail.track_slug
    assert main(["events", "--source", "everlaps", "--track", venue]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:2] == [str(event.event_id), event.detail.start_date.isoformat()]
    assert lines[1].split()[-1] == "laps_full" and lines[-1] == "1 event(s)"


def test_events_lists_events_held_between(cli_env: sa.Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "--track", "TestTrack", "--from", "2025-01-01", "--to", "2025-12-31"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == ["12", "11"], (
        "overlapping multi-day event 11 included"
    )
    assert lines[-1] == "2 event(s)"
    assert "none" in lines[1]


def test_errors_are_one_line_with_nonzero_exit(
    cli_env: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["request", "status", "999999"]) == 1
    err = capsys.readouterr().err
    assert err == "mre-pipeline: error: no request with id 999999\n"
    assert (
        main(["request", "discover", "--track", "testtrack", "--from", "2025-02-01", "--to", "2025-01-01"])
        == 1
    )
    assert capsys.readouterr().err == "mre-pipeline: error: --to is before --from\n"
    with pytest.raises(SystemExit) as exc:
        main(["events", "--track", "x", "--from", "yesterday"])
    assert exc.value.code == 2
    assert "expected a date as YYYY-MM-DD" in capsys.readouterr().err


def test_db_upgrade_is_a_noop_when_current(cli_env: sa.Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "already at revision" in capsys.readouterr().out


def test_input_is_checked_before_anything_is_queued(
    cli_env: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, message in (
        (
            ["request", "ingest", "--track", "testtrack", "--event", "abc"],
            "'abc' is not a numeric event id",
        ),
        (["request", "discover", "--track", "test track"], "'test track' is not a track slug"),
        (["request", "discover", "--track", "testtrack", "--from", "2025-13-01"], "expected a date"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        assert message in capsys.readouterr().err
    assert main(["request", "ingest", "--track", "typo", "--event", "12"]) == 1
    assert capsys.readouterr().err == (
        "mre-pipeline: error: track 'typo' is not in the catalogue (see mre.tracks for the slugs)\n"
    )
    assert main(["events", "--track", "typo", "--from", "2025-01-01", "--to", "2025-12-31"]) == 1
    assert "track 'typo' is not in the catalogue" in capsys.readouterr().err
    with cli_env.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM mre.ingestion_requests").scalar_one() == 0


def test_request_before_the_catalogue_is_queued_with_a_note(
    clean_warehouse: sa.Engine,
    warehouse_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MRE_DATABASE_URL", warehouse_url)
    assert main(["request", "discover", "--track", "CanberraOffroad"]) == 0
    captured = capsys.readouterr()
    assert "pending" in captured.out and "the track catalogue is still empty" in captured.err
    with clean_warehouse.connect() as conn:
        assert (
            conn.exec_driver_sql("SELECT track_slug FROM mre.ingestion_requests").scalar_one()
            == "canberraoffroad"
        )
    assert main(["events", "--track", "canberraoffroad"]) == 1
    assert "the catalogue, which is still empty" in capsys.readouterr().err


def test_wait_without_a_pipeline_says_so(
    cli_env: sa.Engine,
    empty_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MRE_DAGSTER_DATABASE_URL", empty_database_url)  # no daemon has ever run there
    assert main(["request", "ingest", "--track", "testtrack", "--event", "12", "--wait", "1"]) == 1
    err = capsys.readouterr().err
    request_id = err.split()[3]
    assert err == (
        f"mre-pipeline: error: request {request_id} is still pending after 1 s: no pipeline seems to be "
        "running (no Dagster daemon heartbeat in the last 90 s); start it with ./mre dev\n"
    )


def test_db_upgrade_reports_a_password_it_sets(
    cli_env: sa.Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MRE_ANALYST_PASSWORD", "analyst-secret")
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    head = migrate.current_revision(str(cli_env.url.render_as_string(hide_password=False)))
    assert out.splitlines() == [f"warehouse already at revision {head}", "password set for mre_analyst"]
    assert "nothing to do" not in out


def test_db_url_accepts_every_postgres_spelling_and_prints_what_psql_accepts(
    warehouse_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    libpq = warehouse_url.replace("postgresql+psycopg2://", "postgresql://")
    for spelling in (warehouse_url, libpq, libpq.replace("postgresql://", "postgres://", 1)):
        monkeypatch.setenv("MRE_DATABASE_URL", spelling)
        assert main(["db", "url"]) == 0
        printed = capsys.readouterr().out.strip()
        assert printed.startswith("postgresql://") and "+psycopg2" not in printed
        engine = sa.create_engine(printed, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            assert (
                conn.exec_driver_sql("SELECT current_database()").scalar_one()
                == make_url(warehouse_url).database
            )
        engine.dispose()
    assert main(["db", "url", "--role", "mre_analyst"]) == 0
    assert capsys.readouterr().out.startswith("postgresql://mre_analyst@")


def test_catalogue_refresh_without_a_pipeline_says_what_to_run(
    cli_env: sa.Engine, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MRE_STATE_DIR", str(tmp_path))
    assert main(["catalogue", "refresh"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mre-pipeline: error: no pipeline is running here: start it with ./mre dev")
    assert "dagster job launch -w workspace.yaml -j track_catalogue_job" in err
