"""Reading the dbt marts whole or sliced, with their column types (for the Parquet export).

The models and their order keys are fixed here; filters are bound parameters, never text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

SCHEMA = "mre_summaries"

# model -> columns that order its rows (its natural key), so every export of the same data is identical.
MART_MODELS: dict[str, tuple[str, ...]] = {
    "driver_race_summary": ("race_result_id",),
    "lap_progression": ("race_result_id", "lap_number"),
    "driver_event_summary": ("event_id", "driver_id"),
    "driver_track_history": ("driver_id", "track_id", "race_year"),
}


@dataclass(frozen=True)
class MartColumn:
    name: str
    pg_type: str  # udt name: int4, int8, numeric, text, date, timestamp, bool, ...
    numeric_precision: int | None
    numeric_scale: int | None


@dataclass(frozen=True)
class MartFilter:
    """A slice of the marts; ``None`` fields do not filter."""

    event_id: int | None = None
    track_slug: str | None = None
    driver_id: int | None = None


def existing_models(conn: sa.Connection) -> list[str]:
    found = set(
        conn.execute(
            sa.text("select table_name from information_schema.tables where table_schema = :s"), {"s": SCHEMA}
        ).scalars()
    )
    return [m for m in MART_MODELS if m in found]


def mart_columns(conn: sa.Connection, model: str) -> list[MartColumn]:
    _check(model)
    rows = conn.execute(
        sa.text(
            """
            select column_name, udt_name, numeric_precision, numeric_scale
            from information_schema.columns
            where table_schema = :schema and table_name = :model
            order by ordinal_position
            """
        ),
        {"schema": SCHEMA, "model": model},
    )
    return [MartColumn(r.column_name, r.udt_name, r.numeric_precision, r.numeric_scale) for r in rows]


def _where(model: str, slice_: MartFilter) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if slice_.event_id is not None:
        params["event_id"] = slice_.event_id
        if model == "driver_track_history":
            # The history of the event's drivers at the event's track (the table has no event column).
            clauses.append(
                "(driver_id, track_id) in (select driver_id, track_id from "
                f"{SCHEMA}.driver_race_summary where event_id = :event_id)"
            )
        else:
            clauses.append("event_id = :event_id")
    if slice_.track_slug is not None:
        params["track_slug"] = slice_.track_slug
        clauses.append("track_slug = :track_slug")
    if slice_.driver_id is not None:
        params["driver_id"] = slice_.driver_id
        clauses.append("driver_id = :driver_id")
    return (" where " + " and ".join(clauses) if clauses else ""), params


def max_numeric_scales(
    conn: sa.Connection, model: str, columns: list[str], slice_: MartFilter
) -> dict[str, int | None]:
    """The largest scale each unconstrained numeric column holds in the slice (None when all NULL)."""
    _check(model)
    if not columns:
        return {}
    where, params = _where(model, slice_)
    selects = ", ".join(f'max(scale("{c}")) as "{c}"' for c in columns)
    row = conn.execute(sa.text(f"select {selects} from {SCHEMA}.{model}{where}"), params).one()
    return dict(row._mapping)


def stream_mart(
    conn: sa.Connection, model: str, columns: list[str], slice_: MartFilter, batch_rows: int = 50_000
) -> Iterator[list[tuple]]:
    """The slice's rows in key order, ``batch_rows`` at a time, through a server-side cursor."""
    _check(model)
    where, params = _where(model, slice_)
    select = ", ".join(f'"{c}"' for c in columns)
    order = ", ".join(MART_MODELS[model])
    result = conn.execution_options(stream_results=True, yield_per=batch_rows).execute(
        sa.text(f"select {select} from {SCHEMA}.{model}{where} order by {order}"), params
    )
    for partition in result.partitions():
        yield [tuple(r) for r in partition]


def _check(model: str) -> None:
    if model not in MART_MODELS:
        raise ValueError(f"unknown mart {model!r}; the marts are {', '.join(MART_MODELS)}")
