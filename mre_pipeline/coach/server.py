"""``mre-pipeline coach-server``: the coach as a Model Context Protocol server (stdio), for any LLM client.

Built on the ``mcp`` SDK 2.x ``MCPServer``. Every tool answers with two text blocks, a plain-language
reading and the figures as JSON, plus the same as structured content (``{"reading", "figures"}``). Bad
arguments come back as a tool error whose message starts with the argument's name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from mre_pipeline.coach.tools import Answer, ArgumentProblem, Coach

INSTRUCTIONS = """\
A race engineer for RC car racers, over the My Race Engineer warehouse (LiveRC results, every lap).
Start with find_driver to turn a name into a driver id, then driver_events to list the driver's events and
races (race ids are LiveRC race ids, the number in a LiveRC race URL). Answer the racer with the figures each
tool returns; its "reading" is a faithful summary of them. Lap times are seconds; an incident lap is one more
than 2 s off the driver's own median lap. Everything is read-only."""


class CoachAnswer(BaseModel):
    reading: str = Field(description="A short plain-language reading built only from the figures.")
    figures: dict[str, Any] = Field(description="The figures the reading is built from.")


Result = Annotated[CallToolResult, CoachAnswer]

DriverArg = Annotated[
    str,
    Field(description="The driver's name (any case, accents optional) or LiveRC driver id.", min_length=1),
]
RaceArg = Annotated[int, Field(description="LiveRC race id (the number in the race's LiveRC URL).", gt=0)]
TrackArg = Annotated[str, Field(description="LiveRC track slug, e.g. 'canberraoffroad'.", min_length=1)]


def _result(answer: Answer) -> CallToolResult:
    figures_text = json.dumps(answer.figures, ensure_ascii=False, indent=1)
    return CallToolResult(
        content=[TextContent(type="text", text=answer.reading), TextContent(type="text", text=figures_text)],
        structured_content={"reading": answer.reading, "figures": answer.figures},
    )


def _ask(question: Callable[[], Answer]) -> CallToolResult:
    try:
        return _result(question())
    except ArgumentProblem as problem:
        raise ToolError(str(problem)) from problem


def build_server(coach: Coach) -> MCPServer:
    server = MCPServer(
        name="mre-coach", title="My Race Engineer coach", instructions=INSTRUCTIONS, log_level="WARNING"
    )
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=read_only)
    def find_driver(
        name: Annotated[str, Field(description="Part of the driver's name; case and accents are ignored.")],
        limit: Annotated[int, Field(description="Most matches to return.", ge=1, le=50)] = 10,
    ) -> Result:
        """Find drivers by name (case- and accent-insensitive): ids, race counts and last race date."""
        return _ask(lambda: coach.find_driver(name, limit))

    @server.tool(annotations=read_only)
    def driver_events(driver: DriverArg) -> Result:
        """List a driver's ingested events and, in each, their races (LiveRC race ids, class, finish, laps)."""
        return _ask(lambda: coach.driver_events(driver))

    @server.tool(annotations=read_only)
    def race_results(race_id: RaceArg) -> Result:
        """One race's results with each driver's pace, consistency and drop-off."""
        return _ask(lambda: coach.race_results(race_id))

    @server.tool(annotations=read_only)
    def lap_time_drop_off(
        driver: DriverArg,
        race_id: RaceArg,
        after_lap: Annotated[int, Field(description="Split the race after this lap.", ge=1)] = 20,
    ) -> Result:
        """Why did my lap times fall off after lap N? Before/after: mean, best, spread, incident laps,
        clean-lap pace, positions and gap to the leader (the README's first coaching query)."""
        return _ask(lambda: coach.lap_time_drop_off(driver, race_id, after_lap))

    @server.tool(annotations=read_only)
    def versus_leader_opening(
        driver: DriverArg,
        race_id: RaceArg,
        first_seconds: Annotated[
            float, Field(description="Length of the opening in seconds of race time.", gt=0)
        ] = 300.0,
    ) -> Result:
        """How did I compare to the leader in the first N seconds (default 5 minutes)? Each lap next to
        whoever led it: lap time delta, position, gap to the leader."""
        return _ask(lambda: coach.versus_leader_opening(driver, race_id, first_seconds))

    @server.tool(annotations=read_only)
    def consistency_by_year(
        driver: DriverArg,
        track_slug: TrackArg,
        year: Annotated[
            int | None, Field(description="The year to judge (default: the driver's latest there).")
        ] = None,
    ) -> Result:
        """Am I more consistent on this track than last year? The year and the one before, with the change."""
        return _ask(lambda: coach.consistency_by_year(driver, track_slug, year))

    @server.tool(annotations=read_only)
    def compare_drivers(
        race_id: RaceArg,
        driver_a: DriverArg,
        driver_b: DriverArg,
    ) -> Result:
        """Compare two drivers in one race: results, pace, consistency, drop-off and lap by lap."""
        return _ask(lambda: coach.compare_drivers(race_id, driver_a, driver_b))

    @server.tool(annotations=read_only)
    def track_consistency_history(driver: DriverArg, track_slug: TrackArg) -> Result:
        """A driver's consistency history at one track: every year and every race there."""
        return _ask(lambda: coach.track_consistency_history(driver, track_slug))

    return server
