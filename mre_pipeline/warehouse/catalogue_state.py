"""Is the track catalogue there yet? One cheap query, for the bootstrap sensor and the CLI."""

from __future__ import annotations

import sqlalchemy as sa


def has_active_tracks(conn: sa.Connection, source: str) -> bool:
    """True once the catalogue has been fetched (at least one active track of ``source``)."""
    return bool(
        conn.execute(
            sa.text("SELECT EXISTS (SELECT 1 FROM mre.tracks WHERE source = :s AND is_active)"),
            {"s": source},
        ).scalar()
    )


def catalogue_counts(conn: sa.Connection, source: str) -> tuple[int, int]:
    """(all tracks, active tracks) of ``source``."""
    row = conn.execute(
        sa.text("SELECT count(*), count(*) FILTER (WHERE is_active) FROM mre.tracks WHERE source = :s"),
        {"s": source},
    ).one()
    return int(row[0]), int(row[1])
