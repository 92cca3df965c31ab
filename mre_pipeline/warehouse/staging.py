"""The two building blocks of every bulk write: COPY into a temporary staging table, then one guarded upsert.

COPY is the fastest way in (design notes §4); the upsert touches a conflicting row only when one of its
values changed (``IS DISTINCT FROM``), so re-writing unchanged data writes nothing, and it returns one
``inserted`` flag per row it wrote so callers can count inserts and updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mre_pipeline.warehouse.engine import copy_rows


@dataclass(frozen=True)
class StageTable:
    """A temporary table dropped at commit: its name and its (column, SQL type) pairs."""

    name: str
    columns: tuple[tuple[str, str], ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column for column, _ in self.columns)

    def load(self, conn: sa.Connection, rows: Iterable[Sequence[Any]]) -> int:
        """Create the table in the caller's transaction and COPY ``rows`` (in column order) into it."""
        columns = ", ".join(f"{column} {sql_type}" for column, sql_type in self.columns)
        conn.exec_driver_sql(f"CREATE TEMP TABLE {self.name} ({columns}) ON COMMIT DROP")
        return copy_rows(conn, self.name, self.column_names, rows)


def guarded_upsert(
    target: str,
    columns: Sequence[str],
    conflict: Sequence[str],
    select: str,
    *,
    stamp_updated_at: bool = True,
) -> str:
    """``INSERT INTO target (columns) <select or VALUES> ON CONFLICT (conflict) DO UPDATE`` where a value changed.

    Every column not in ``conflict`` is compared and updated; ``RETURNING (xmax = 0)`` is true for an insert.
    """
    values = [column for column in columns if column not in conflict]
    assignments = [f"{column} = excluded.{column}" for column in values]
    if stamp_updated_at:
        assignments.append("updated_at = now()")
    current = ", ".join(f"t.{column}" for column in values)
    proposed = ", ".join(f"excluded.{column}" for column in values)
    return f"""
        INSERT INTO {target} AS t ({", ".join(columns)})
        {select}
        ON CONFLICT ({", ".join(conflict)}) DO UPDATE SET {", ".join(assignments)}
        WHERE ({current}) IS DISTINCT FROM ({proposed})
        RETURNING (xmax = 0)
    """


def inserted_and_updated(rows: Sequence[sa.Row]) -> tuple[int, int]:
    """Count the ``RETURNING (xmax = 0)`` flags of a guarded upsert: (inserted, updated)."""
    inserted = sum(1 for row in rows if row[0])
    return inserted, len(rows) - inserted
