"""``mre-pipeline export``: Parquet files that round-trip the marts (rows, exact sums, types), whole or sliced."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from mre_pipeline.cli import main
from mre_pipeline.warehouse.marts import MART_MODELS
from mre_pipeline_tests.engineer.conftest import EVENT, FELIX
from mre_pipeline_tests.summaries.conftest import rows

pytestmark = pytest.mark.liverc_pages

CHECKSUM_SQL = """
select count(*) as n, sum(lap_time_s) as lap_time, sum(cumulative_time_s) as cumulative,
       sum(gap_to_leader_s) as gap, sum(lap_number * position) as lap_position,
       sum(hashtext(driver_name || '|' || lap_number || '|' || lap_time_s)) as hashed
from mre_summaries.lap_progression
"""


@pytest.fixture
def on_captured(captured_marts_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MRE_DATABASE_URL", captured_marts_url)
    return captured_marts_url


def _export(out: Path, *args: str) -> dict[str, pa.Table]:
    assert main(["export", "--out", str(out), *args]) == 0
    return {model: pq.read_table(out / f"{model}.parquet") for model in MART_MODELS}


def _file_checksum(table: pa.Table, captured_marts: sa.Engine) -> dict:
    """The same figures as CHECKSUM_SQL, computed from the file (the hash by Postgres over the file's rows)."""
    names = table.column("driver_name").to_pylist()
    laps = table.column("lap_number").to_pylist()
    times = table.column("lap_time_s").to_pylist()
    with captured_marts.connect() as conn:
        hashed = conn.execute(
            sa.text("select sum(hashtext(d || '|' || l || '|' || t)) from unnest(:d, :l, :t) as x(d, l, t)"),
            {"d": names, "l": laps, "t": [str(t) for t in times]},
        ).scalar()
    positions = table.column("position").to_pylist()
    return {
        "n": table.num_rows,
        "lap_time": pc.sum(table.column("lap_time_s")).as_py(),
        "cumulative": pc.sum(table.column("cumulative_time_s")).as_py(),
        "gap": pc.sum(table.column("gap_to_leader_s")).as_py(),
        "lap_position": sum(lap * pos for lap, pos in zip(laps, positions, strict=True)),
        "hashed": hashed,
    }


def test_full_export_round_trips(on_captured: str, captured_marts: sa.Engine, tmp_path: Path) -> None:
    tables = _export(tmp_path)
    for model, table in tables.items():
        [count] = rows(captured_marts, f"select count(*) as n from mre_summaries.{model}")
        assert table.num_rows == count["n"] > 0, model
    [expected] = rows(captured_marts, CHECKSUM_SQL)
    assert _file_checksum(tables["lap_progression"], captured_marts) == expected
    assert expected["n"] == 540


def test_types_are_deliberate(on_captured: str, tmp_path: Path) -> None:
    schema = _export(tmp_path)["driver_race_summary"].schema
    assert schema.field("published_fastest_lap_s").type == pa.decimal128(10, 3)  # declared numeric(10,3)
    assert schema.field("mean_lap_s").type == pa.decimal128(38, 3)  # computed numeric: exact, 3 dp
    assert schema.field("event_start_date").type == pa.date32()
    assert schema.field("completed_at").type == pa.timestamp("us")  # track-local, no zone
    assert schema.field("started").type == pa.bool_()
    assert schema.field("race_year").type == pa.int32() and schema.field("driver_id").type == pa.int64()
    history = pq.read_table(tmp_path / "driver_track_history.parquet").schema
    assert history.field("laps").type == pa.decimal128(38, 0)  # a summed count stays whole
    assert history.field("mean_drop_off_pct").type == pa.decimal128(38, 3)
    felix = pq.read_table(
        tmp_path / "driver_race_summary.parquet", filters=[("source_driver_id", "=", FELIX)]
    )
    assert felix.column("best_lap_s").to_pylist() == [Decimal("37.234")]
    assert felix.column("event_start_date").to_pylist() == [date(2025, 11, 16)]
    assert schema.metadata[b"mre.model"] == b"mre_summaries.driver_race_summary"


def test_slices_by_event_track_and_driver(
    on_captured: str, captured_marts: sa.Engine, tmp_path: Path
) -> None:
    by_event = _export(tmp_path / "event", "--event", str(EVENT))
    assert by_event["lap_progression"].num_rows == 540 and by_event["driver_race_summary"].num_rows == 22
    by_driver = _export(tmp_path / "felix", "--driver", "Félix Koegler")
    assert by_driver["lap_progression"].num_rows == 47
    assert set(by_driver["driver_track_history"].column("source_driver_id").to_pylist()) == {FELIX}
    elsewhere = _export(tmp_path / "none", "--track", "someothertrack")
    assert all(t.num_rows == 0 for t in elsewhere.values())
    assert elsewhere["lap_progression"].schema.field("lap_time_s").type == pa.decimal128(10, 3)


def test_bad_slice_names_the_argument(
    on_captured: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--out", str(tmp_path), "--event", "1"]) == 1
    assert "--event: liverc event 1 is not in the warehouse" in capsys.readouterr().err
    assert main(["export", "--out", str(tmp_path), "--track", "Not A Slug"]) == 1
    assert "--track: track_slug 'Not A Slug' is not a LiveRC track slug" in capsys.readouterr().err
