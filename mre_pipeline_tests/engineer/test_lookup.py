"""Finding drivers by what people type: case, accents and wildcards, ambiguity named with the argument."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mre_pipeline.engineer.lookup import LookupProblem, resolve_driver

DRIVERS = [(101, "José Ñúñez"), (102, "JOSE NUNEZ JR"), (103, "Łukasz Żak"), (104, "Ana  Müller")]


@pytest.fixture
def drivers(clean_warehouse: sa.Engine) -> sa.Engine:
    with clean_warehouse.begin() as conn:
        conn.execute(
            sa.text("insert into mre.drivers (source, source_driver_id, name) values ('liverc', :i, :n)"),
            [{"i": i, "n": n} for i, n in DRIVERS],
        )
    return clean_warehouse


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("jose ñunez", 101),  # two contain it; the exact (folded) match wins
        ("JOSÉ NÚÑEZ JR", 102),
        ("lukasz", 103),  # Ł is not split by NFD: mapped explicitly
        ("zak", 103),
        ("ana muller", 104),  # whitespace squeezed
        ("104", 104),  # an id
    ],
)
def test_found_ignoring_case_and_accents(drivers: sa.Engine, typed: str, found: int) -> None:
    with drivers.connect() as conn:
        assert resolve_driver(conn, typed)["source_driver_id"] == found


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "nunez",
            "driver: 'nunez' matches several drivers: JOSE NUNEZ JR (id 102, 0 races), José Ñúñez (id 101",
        ),
        ("%", "driver: no driver's name contains '%'"),
        ("999", "driver: no liverc driver has id 999"),
        ("  ", "driver: give a driver's name or LiveRC driver id"),
    ],
)
def test_problems_name_the_argument(drivers: sa.Engine, typed: str, message: str) -> None:
    with drivers.connect() as conn, pytest.raises(LookupProblem) as problem:
        resolve_driver(conn, typed)
    assert str(problem.value).startswith(message), str(problem.value)
    assert problem.value.argument == "driver"
    if typed == "nunez":
        assert "José Ñúñez (id 101, 0 races)" in str(problem.value)
        assert "JOSE NUNEZ JR (id 102, 0 races)" in str(problem.value)
