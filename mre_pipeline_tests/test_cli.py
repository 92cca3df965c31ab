"""The admin CLI: exit codes, one-line errors, and the queue/warehouse it reads and writes."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from mre_pipeline.cli import main
from mre_pipeline.connectors.records import EventSummary, TrackRecord
from mre_pipeline.fake_everlaps.generator import generate_event
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
