"""The coach over MCP: the SDK's own client spawns ``mre-pipeline coach-server`` (stdio), lists the tools and
calls each one against the captured races; the answers carry the README SQL's figures and readings."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from mre_pipeline.coach.connection import analyst_engine, analyst_url
from mre_pipeline.warehouse import migrate
from mre_pipeline.warehouse.coaching_queries import LAP_TIME_DROP_OFF, VERSUS_LEADER_OPENING
from mre_pipeline_tests.dagster_process import BIN
from mre_pipeline_tests.engineer.conftest import ARI, FELIX, RACE
from mre_pipeline_tests.summaries.conftest import rows

pytestmark = pytest.mark.liverc_pages

TOOLS = {
    "find_driver",
    "driver_events",
    "race_results",
    "lap_time_drop_off",
    "versus_leader_opening",
    "consistency_by_year",
    "compare_drivers",
    "track_consistency_history",
}

CALLS: dict[str, dict[str, Any]] = {
    "find_driver": {"name": "félix"},
    "driver_events": {"driver": "Felix Koegler"},
    "race_results": {"race_id": RACE},
    "lap_time_drop_off": {"driver": "FELIX KOEGLER", "race_id": RACE, "after_lap": 20},
    "versus_leader_opening": {"driver": str(ARI), "race_id": RACE, "first_seconds": 300},
    "consistency_by_year": {"driver": "felix koegler", "track_slug": "canberraoffroad", "year": 2025},
    "compare_drivers": {"race_id": RACE, "driver_a": "felix koegler", "driver_b": "ari bakla"},
    "track_consistency_history": {"driver": str(FELIX), "track_slug": "CanberraOffRoad"},
}

BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("lap_time_drop_off", {"driver": "FELIX KOEGLER", "race_id": RACE, "after_lap": 47}, "after_lap: "),
    ("lap_time_drop_off", {"driver": "FELIX KOEGLER", "race_id": "six", "after_lap": 20}, "race_id"),
    (
        "versus_leader_opening",
        {"driver": "nobody here", "race_id": RACE},
        "driver: no driver's name contains",
    ),
    ("race_results", {"race_id": 42}, "race_id: liverc race 42 is not in the warehouse"),
    ("compare_drivers", {"race_id": RACE, "driver_a": "felix", "driver_b": "felix"}, "driver_b: "),
    ("consistency_by_year", {"driver": "felix", "track_slug": "bad slug!"}, "track_slug: "),
    ("find_driver", {"name": "x"}, "name: "),
]


def _decimal_free(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value.as_tuple().exponent == 0 else float(value)
    if isinstance(value, dict):
        return {k: _decimal_free(v) for k, v in value.items()}
    return value


async def _session(url: str, password: str) -> dict[str, Any]:
    params = StdioServerParameters(
        command=str(BIN / "mre-pipeline"),
        args=["coach-server"],
        env={"MRE_DATABASE_URL": url, "MRE_ANALYST_PASSWORD": password},
    )
    found: dict[str, Any] = {"answers": {}, "errors": []}
    async with Client(params, read_timeout_seconds=120) as client:
        found["tools"] = {tool.name: tool for tool in (await client.list_tools()).tools}
        for name, arguments in CALLS.items():
            found["answers"][name] = await client.call_tool(name, arguments)
        for name, arguments, _ in BAD_CALLS:
            found["errors"].append(await client.call_tool(name, arguments))
    return found


@pytest.fixture(scope="module")
def session(captured_marts_url: str) -> Iterator[dict[str, Any]]:
    password = secrets.token_urlsafe(12)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MRE_ANALYST_PASSWORD", password)
        migrate.apply_role_passwords(captured_marts_url)
    yield asyncio.run(_session(captured_marts_url, password))


def test_tools_are_listed_with_descriptions_and_typed_parameters(session: dict[str, Any]) -> None:
    tools = session["tools"]
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 30
        properties = tool.input_schema["properties"]
        assert properties and all(p.get("description") for p in properties.values()), tool.name
        assert tool.annotations.read_only_hint is True
    schema = tools["lap_time_drop_off"].input_schema
    assert schema["properties"]["race_id"]["type"] == "integer"
    assert schema["properties"]["after_lap"]["default"] == 20
    assert set(schema["required"]) == {"driver", "race_id"}


def test_every_tool_answers_with_figures_and_a_reading(session: dict[str, Any]) -> None:
    for name, result in session["answers"].items():
        assert not result.is_error, (name, result.content)
        reading, figures_text = (block.text for block in result.content)
        assert result.structured_content == {"reading": reading, "figures": json.loads(figures_text)}
        assert len(reading) > 40, name
    answers = {name: r.structured_content for name, r in session["answers"].items()}
    assert answers["find_driver"]["figures"]["drivers"][0]["source_driver_id"] == FELIX
    [event] = answers["driver_events"]["figures"]["events"]
    assert (event["source_event_id"], [r["source_race_id"] for r in event["races"]]) == (486677, [RACE])
    assert len(answers["race_results"]["figures"]["results"]) == 12
    assert "FELIX KOEGLER won with 47 laps in 1831.382 s" in answers["race_results"]["reading"]
    compare = answers["compare_drivers"]["figures"]
    assert (compare["common_laps"], compare["laps_a_faster"] + compare["laps_b_faster"]) == (47, 47)
    assert compare["a_ahead_after_last_common_lap_s"] == 12.052  # ARI's gap to the winner in the results
    assert "FELIX KOEGLER was 12.052 s ahead of ARI BAKLA" in answers["compare_drivers"]["reading"]
    assert [y["race_year"] for y in answers["consistency_by_year"]["figures"]["years"]] == [2025]
    assert "no races there in 2024" in answers["consistency_by_year"]["reading"]
    assert answers["track_consistency_history"]["figures"]["track_slug"] == "canberraoffroad"


def test_fall_off_after_lap_20_is_the_readme_query(
    session: dict[str, Any], captured_marts: sa.Engine
) -> None:
    answer = session["answers"]["lap_time_drop_off"].structured_content
    expected = rows(
        captured_marts,
        LAP_TIME_DROP_OFF,
        source="liverc",
        source_race_id=RACE,
        source_driver_id=FELIX,
        after_lap=20,
    )
    assert answer["figures"]["phases"] == [_decimal_free(r) for r in expected]
    before, after = expected
    change = after["mean_lap_s"] - before["mean_lap_s"]
    clean_change = after["clean_mean_lap_s"] - before["clean_mean_lap_s"]
    reading = answer["reading"]
    assert f"After lap 20 your mean lap was {abs(change):.3f} s slower" in reading
    assert (
        f"{after['incident_laps']} incident laps after lap 20 (against {before['incident_laps']} before)"
        in reading
    )
    assert f"account for {change - clean_change:+.3f} s of the change" in reading
    assert answer["figures"]["change_after_minus_before"]["explained_by_incidents_s"] == float(
        change - clean_change
    )


def test_opening_versus_leader_is_the_readme_query(
    session: dict[str, Any], captured_marts: sa.Engine
) -> None:
    answer = session["answers"]["versus_leader_opening"].structured_content
    expected = rows(
        captured_marts,
        VERSUS_LEADER_OPENING,
        source="liverc",
        source_race_id=RACE,
        source_driver_id=ARI,
        first_seconds=300,
    )
    assert answer["figures"]["laps"] == [_decimal_free(r) for r in expected]
    last = expected[-1]
    assert (
        f"after lap {last['lap_number']}" in answer["reading"] and f"P{last['position']}" in answer["reading"]
    )


def test_bad_arguments_come_back_as_errors_naming_the_argument(session: dict[str, Any]) -> None:
    for (name, _, message), result in zip(BAD_CALLS, session["errors"], strict=True):
        assert result.is_error, (name, message)
        text = result.content[0].text
        assert message in text, (name, text)


def test_the_coach_reads_as_the_read_only_analyst(captured_marts_url: str, analyst_password: str) -> None:
    url = analyst_url(captured_marts_url)
    assert (url.username, url.password) == ("mre_analyst", analyst_password)
    engine = analyst_engine(captured_marts_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select current_user")).scalar() == "mre_analyst"
            assert conn.execute(sa.text("select count(*) from mre_summaries.lap_progression")).scalar() > 0
            with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
                conn.execute(sa.text("insert into mre.ingestion_requests (request_type) values ('x')"))
    finally:
        engine.dispose()


def test_coach_server_without_a_reachable_warehouse_says_so(
    captured_marts_url: str, analyst_password: str
) -> None:
    missing = (
        sa.make_url(captured_marts_url)
        .set(database="no_such_warehouse")
        .render_as_string(hide_password=False)
    )
    completed = subprocess.run(
        [str(BIN / "mre-pipeline"), "coach-server"],
        env={**os.environ, "MRE_DATABASE_URL": missing},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1 and completed.stdout == ""
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith(
        "mre-pipeline: error: the coach could not connect to the warehouse as mre_analyst ("
    )
    assert "no_such_warehouse" in line and "MRE_ANALYST_PASSWORD" in line
