"""The race engineer's commands: ``report``, ``coach-server`` and ``export`` (added to ``mre-pipeline``).

``add_engineer_commands(sub)`` is the one call ``cli.build_parser()`` makes, so this file owns its commands.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

SOURCE_DEFAULT = "liverc"


def _cli_error(message: str) -> Exception:
    from mre_pipeline.cli import CliError  # imported late: cli.py imports this module

    return CliError(message)


def _warehouse_url() -> str:
    from mre_pipeline.warehouse import server

    return server.resolve_urls().warehouse


def _positive_int(value: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"expected a numeric id, got {value!r}")
    return int(text)


# --- report ------------------------------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    from mre_pipeline.engineer.lookup import LookupProblem
    from mre_pipeline.engineer.report import write_report
    from mre_pipeline.warehouse.engine import get_engine

    out = Path(args.out)
    if out.parent and not out.parent.exists():
        raise _cli_error(f"--out: folder {out.parent} does not exist")
    try:
        report = write_report(
            get_engine(_warehouse_url()),
            str(out),
            args.event,
            source=args.source,
            race_ids=args.race or (),
            driver_texts=args.driver or (),
        )
    except LookupProblem as problem:
        raise _cli_error(str(problem)) from problem
    charts = len(report.chart_specs())
    size_kb = out.stat().st_size / 1024
    print(
        f"wrote {out} ({size_kb:.0f} KB): {report.event['event_name']}, {len(report.sections)} race(s), "
        f"{charts} chart(s); open it in any browser, no network needed"
    )
    return 0


# --- coach-server ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """While the warehouse is found (maybe an embedded server starting), keep fd 1 clean for the protocol."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def cmd_coach_server(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from mre_pipeline.coach.connection import ANALYST_ROLE, analyst_engine
    from mre_pipeline.coach.server import build_server
    from mre_pipeline.coach.tools import Coach

    with _stdout_to_stderr():
        engine = analyst_engine(_warehouse_url())
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
        except sa.exc.OperationalError as exc:
            first_line = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise _cli_error(
                f"the coach could not connect to the warehouse as {ANALYST_ROLE} ({first_line}); set "
                "MRE_ANALYST_PASSWORD to the role's password (an operator sets it with mre-pipeline db upgrade)"
            ) from exc
        server = build_server(Coach(engine))
    server.run("stdio")
    return 0


# --- export --------------------------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    from mre_pipeline.engineer.lookup import LookupProblem, resolve_driver, resolve_event
    from mre_pipeline.export.parquet import export_marts
    from mre_pipeline.ingestion.keys import InvalidKeyError, normalise_slug
    from mre_pipeline.warehouse.engine import get_engine
    from mre_pipeline.warehouse.marts import MartFilter

    engine = get_engine(_warehouse_url())
    description: dict[str, object] = {}
    try:
        track = normalise_slug(args.track) if args.track else None
        with engine.connect() as conn:
            event = resolve_event(conn, args.event, args.source, argument="--event") if args.event else None
            driver = (
                resolve_driver(conn, args.driver, args.source, argument="--driver") if args.driver else None
            )
    except InvalidKeyError as exc:
        raise _cli_error(f"--track: {exc}") from exc
    except LookupProblem as problem:
        raise _cli_error(str(problem)) from problem
    if event:
        description.update(source=args.source, event=args.event)
    if track:
        description["track"] = track
    if driver:
        description.update(source=args.source, driver=driver["source_driver_id"])
    slice_ = MartFilter(
        event_id=event["event_id"] if event else None,
        track_slug=track,
        driver_id=driver["driver_id"] if driver else None,
    )
    try:
        files = export_marts(engine, Path(args.out), slice_, description)
    except LookupError as exc:
        raise _cli_error(str(exc)) from exc
    for exported in files:
        print(f"{exported.path}  {exported.rows} rows")
    print(f"{len(files)} file(s) written to {args.out}")
    return 0


# --- parser ----------------------------------------------------------------------------------------------


def add_engineer_commands(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser(
        "report", help="write one self-contained HTML page with an event's charts and tables"
    )
    report.add_argument("--event", required=True, type=_positive_int, help="source event id, e.g. 486677")
    report.add_argument("--source", default=SOURCE_DEFAULT, help="timing source (default: liverc)")
    report.add_argument(
        "--race", action="append", type=_positive_int, metavar="RACE_ID", help="only this race (repeatable)"
    )
    report.add_argument(
        "--driver",
        action="append",
        metavar="NAME_OR_ID",
        help="highlight this driver, keep their races, add their history across events (repeatable)",
    )
    report.add_argument("--out", required=True, metavar="FILE.html")
    report.set_defaults(func=cmd_report)

    coach = sub.add_parser(
        "coach-server", help="serve the coach to an LLM client over MCP (stdio), read-only as mre_analyst"
    )
    coach.set_defaults(func=cmd_coach_server)

    export = sub.add_parser(
        "export", help="write the lap summaries (or a slice) to Parquet, one file per model"
    )
    export.add_argument("--out", required=True, metavar="DIR")
    export.add_argument("--event", type=_positive_int, help="only this event (source event id)")
    export.add_argument("--source", default=SOURCE_DEFAULT, help="timing source of --event/--driver ids")
    export.add_argument("--track", metavar="SLUG", help="only this track")
    export.add_argument("--driver", metavar="NAME_OR_ID", help="only this driver")
    export.set_defaults(func=cmd_export)
