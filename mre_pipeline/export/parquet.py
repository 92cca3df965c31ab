"""``mre-pipeline export``: the marts (or a slice of them) as Parquet files, one per model, for notebooks
and DuckDB.

Types are chosen, not guessed:

- ``numeric(p, s)`` -> ``decimal128(p, s)``: the warehouse's times are exact milliseconds, and so stay
  (sums and checksums match Postgres to the last digit). A ``numeric`` without declared precision (dbt's
  computed columns) -> ``decimal128(38, s)`` with ``s`` the largest scale the slice holds; seconds and
  percentages (``*_s``, ``*_pct``: 3 dp by the warehouse's convention) get at least 3, so every export has
  the same schema, and summed counts (``laps``) stay whole.
  Analysts who want floats cast once (``CAST(x AS DOUBLE)`` in DuckDB, ``.astype(float)`` in pandas).
- ``int2/int4/int8`` -> ``int16/int32/int64``; ``float4/float8`` -> ``float32/float64``; ``bool`` -> ``bool``.
- ``date`` -> ``date32``; ``timestamp`` (track-local wall clock, no zone) -> ``timestamp[us]`` without a zone;
  ``timestamptz`` -> ``timestamp[us, UTC]``; ``time`` -> ``time64[us]``; text and anything else -> ``string``.

Each file's key-value metadata records the model and the filter that produced it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from mre_pipeline.warehouse import marts
from mre_pipeline.warehouse.marts import MartColumn, MartFilter

MIN_MEASURE_SCALE = 3
MEASURE_SUFFIXES = ("_s", "_pct")
MAX_DECIMAL_PRECISION = 38

SIMPLE_TYPES: dict[str, pa.DataType] = {
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "time": pa.time64("us"),
    "text": pa.string(),
    "varchar": pa.string(),
}


@dataclass(frozen=True)
class ExportedFile:
    model: str
    path: Path
    rows: int


def arrow_type(column: MartColumn, observed_scale: int | None = None) -> pa.DataType:
    if column.pg_type == "numeric":
        if column.numeric_precision is not None:
            return pa.decimal128(column.numeric_precision, column.numeric_scale or 0)
        measured = column.name.endswith(MEASURE_SUFFIXES)
        scale = max(MIN_MEASURE_SCALE if measured else 0, observed_scale or 0)
        return pa.decimal128(MAX_DECIMAL_PRECISION, scale)
    return SIMPLE_TYPES.get(column.pg_type, pa.string())


def _schema(conn: sa.Connection, model: str, slice_: MartFilter) -> pa.Schema:
    columns = marts.mart_columns(conn, model)
    free_numerics = [c.name for c in columns if c.pg_type == "numeric" and c.numeric_precision is None]
    scales = marts.max_numeric_scales(conn, model, free_numerics, slice_)
    fields = [pa.field(c.name, arrow_type(c, scales.get(c.name))) for c in columns]
    return pa.schema(fields)


def _batch(rows: list[tuple], schema: pa.Schema) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    arrays = [_array(values, field.type) for values, field in zip(columns, schema, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _array(values: tuple, type_: pa.DataType) -> pa.Array:
    if pa.types.is_string(type_):
        values = tuple(None if v is None else str(v) for v in values)
    return pa.array(values, type=type_)


def export_model(
    conn: sa.Connection, model: str, out_dir: Path, slice_: MartFilter, description: dict
) -> ExportedFile:
    schema = _schema(conn, model, slice_).with_metadata(
        {"mre.model": f"mre_summaries.{model}", "mre.filter": json.dumps(description, sort_keys=True)}
    )
    path = out_dir / f"{model}.parquet"
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for chunk in marts.stream_mart(conn, model, schema.names, slice_):
            writer.write_batch(_batch(chunk, schema))
            rows += len(chunk)
        if rows == 0:
            writer.write_table(schema.empty_table())
    return ExportedFile(model=model, path=path, rows=rows)


def export_marts(
    engine: sa.Engine, out_dir: Path, slice_: MartFilter, description: dict | None = None
) -> list[ExportedFile]:
    """Write every mart that exists (sliced by ``slice_``) to ``out_dir/<model>.parquet``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    described = description if description is not None else {k: v for k, v in asdict(slice_).items() if v}
    # One snapshot for every file: a dbt build finishing mid-export cannot mix two versions of the marts.
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        models = marts.existing_models(conn)
        if not models:
            raise LookupError(
                "the warehouse has no lap summaries yet (schema mre_summaries is empty); run: mre-pipeline dbt build"
            )
        return [export_model(conn, model, out_dir, slice_, described) for model in models]
