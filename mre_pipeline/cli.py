"""``mre-pipeline``: the admin CLI. Thin: every command calls into warehouse/, connectors/ or launcher.

Exit codes: 0 success; 1 with one clear line on stderr on any error; 2 for usage errors (argparse).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import date

from mre_pipeline import __version__
from mre_pipeline.engineer.cli import add_engineer_commands


class CliError(Exception):
    """An error reported to the user as one line on stderr."""


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}") from exc


def _warehouse_engine():
    from mre_pipeline.warehouse import server
    from mre_pipeline.warehouse.engine import get_engine

    urls = server.resolve_urls()
    return get_engine(urls.warehouse)


def cmd_dev(args: argparse.Namespace) -> int:
    from mre_pipeline.launcher import run_dev

    return run_dev(port=args.port, host=args.host)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from mre_pipeline.warehouse import migrate, server

    urls = server.resolve_urls()
    server.ensure_databases(urls)
    before = migrate.current_revision(urls.warehouse)
    migrate.upgrade(urls.warehouse)
    after = migrate.current_revision(urls.warehouse)
    if before == after:
        print(f"warehouse already at revision {after}; nothing to do")
    else:
        print(f"warehouse upgraded from {before or 'empty'} to revision {after}")
    return 0


def cmd_db_url(args: argparse.Namespace) -> int:
    from mre_pipeline.warehouse import server

    urls = server.resolve_urls()
    print(urls.dagster if args.dagster else urls.warehouse)
    return 0


def cmd_parse(args: argparse.Namespace) -> int:
    from mre_pipeline.connectors.replay import parse_file

    data = parse_file(args.page_type, args.file, track_slug=args.track, object_id=args.id)
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def cmd_request(args: argparse.Namespace) -> int:
    from mre_pipeline.warehouse import requests as queue

    engine = _warehouse_engine()
    if args.action == "status":
        return _print_status(engine, args.id, args.limit)
    if args.action == "discover" and args.date_from and args.date_to and args.date_to < args.date_from:
        raise CliError("--to is before --from")
    with engine.begin() as conn:
        if args.action == "discover":
            request_id = queue.insert_request(
                conn,
                "discover_events",
                args.track,
                held_between_start=args.date_from,
                held_between_end=args.date_to,
                requested_by=args.requested_by,
            )
        else:
            request_id = queue.insert_request(
                conn,
                "ingest_event",
                _track_for(args.source, args.track),
                source_event_id=args.event,
                requested_by=args.requested_by,
                force=args.force,
                source=args.source,
            )
    print(f"request {request_id} pending; the request sensor picks it up on its next tick")
    if args.wait:
        return _wait_for(engine, request_id, args.wait)
    return 0


def _track_for(source: str, track: str | None) -> str | None:
    """LiveRC events live under a track; Everlaps events need only their id."""
    from mre_pipeline.ingestion.sources import SOURCES

    if SOURCES[source].has_catalogue and not track:
        raise CliError(f"--track is required for {SOURCES[source].label} events")
    return track


def _wait_for(engine, request_id: int, timeout_s: float) -> int:
    from mre_pipeline.warehouse import requests as queue

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            row = queue.get_request(conn, request_id)
        if row is not None and row.status in queue.FINAL_STATUSES:
            print(f"request {request_id} {row.status}: {row.status_detail or ''}".rstrip())
            return 0 if row.status == "succeeded" else 1
        time.sleep(1.0)
    raise CliError(f"request {request_id} still not finished after {timeout_s:.0f} s")


def _print_status(engine, request_id: int | None, limit: int) -> int:
    from mre_pipeline.warehouse import requests as queue

    with engine.connect() as conn:
        if request_id is not None:
            row = queue.get_request(conn, request_id)
            if row is None:
                raise CliError(f"no request with id {request_id}")
            for key, value in row._mapping.items():
                print(f"{key:>20}: {'' if value is None else value}")
            return 0
        rows = queue.recent_requests(conn, limit)
    table = [
        (
            str(r.request_id),
            r.source or "",
            r.request_type or "",
            r.track_slug or "",
            r.source_event_id or "",
            r.status,
            (r.dagster_run_id or "")[:8],
            r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.status_detail or "",
        )
        for r in rows
    ]
    _print_table(("id", "source", "type", "track", "event", "status", "run", "created", "detail"), table)
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    from mre_pipeline.warehouse.events import events_held_between

    if args.date_from and args.date_to and args.date_to < args.date_from:
        raise CliError("--to is before --from")
    with _warehouse_engine().connect() as conn:
        rows = events_held_between(conn, args.source, args.track.lower(), args.date_from, args.date_to)
    table = [
        (
            str(r.source_event_id),
            r.start_date.isoformat(),
            "" if r.end_date == r.start_date else r.end_date.isoformat(),
            r.name,
            "" if r.entries is None else str(r.entries),
            r.ingest_depth,
        )
        for r in rows
    ]
    _print_table(("event", "start", "end", "name", "entries", "depth"), table)
    print(f"{len(rows)} event(s)")
    return 0


def cmd_dbt(args: argparse.Namespace) -> int:
    """Run dbt on dbt_summaries/ against the pipeline's warehouse (Dagster does this after ingestion)."""
    import subprocess

    from mre_pipeline.summaries.dbt_env import PROJECT_DIR, dbt_executable, warehouse_dbt_env

    dbt_args = [a for a in args.dbt_args if a != "--"] or ["build"]
    env = {**os.environ, **warehouse_dbt_env()}
    command = [
        dbt_executable(),
        *dbt_args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
    ]
    return subprocess.run(command, env=env, cwd=PROJECT_DIR).returncode


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    widths[-1] = len(header[-1])  # last column is free text: do not pad
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mre-pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"mre-pipeline {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the Dagster UI and daemon locally on Postgres")
    dev.add_argument("--port", type=int, default=3000)
    dev.add_argument("--host", default="127.0.0.1")
    dev.set_defaults(func=cmd_dev)

    db = sub.add_parser("db", help="warehouse database administration")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations (a no-op when current)")
    up.set_defaults(func=cmd_db_upgrade)
    url = db_sub.add_parser("url", help="print the warehouse (or --dagster) database URL")
    url.add_argument("--dagster", action="store_true")
    url.set_defaults(func=cmd_db_url)

    parse = sub.add_parser("parse", help="parse a saved LiveRC page and print the records as JSON")
    parse.add_argument("page_type", choices=("catalogue", "events", "event", "race", "entry-list"))
    parse.add_argument("file")
    parse.add_argument("--track", help="track slug to record (pages do not contain it)")
    parse.add_argument("--id", type=int, help="the page's own id (pages do not contain it)")
    parse.set_defaults(func=cmd_parse)

    req = sub.add_parser("request", help="queue or inspect ingestion requests")
    req_sub = req.add_subparsers(dest="action", required=True)
    disc = req_sub.add_parser("discover", help="discover a track's events (metadata only)")
    disc.add_argument("--track", required=True)
    disc.add_argument("--from", dest="date_from", type=_date)
    disc.add_argument("--to", dest="date_to", type=_date)
    ingest = req_sub.add_parser("ingest", help="ingest one event completely")
    ingest.add_argument("--source", default="liverc", choices=("liverc", "everlaps"))
    ingest.add_argument("--track", help="the event's LiveRC track slug (not needed for Everlaps)")
    ingest.add_argument("--event", required=True)
    ingest.add_argument("--force", action="store_true", help="re-ingest even if already ingested")
    for p in (disc, ingest):
        p.add_argument("--requested-by", default="cli")
        p.add_argument("--wait", type=float, metavar="SECONDS", help="wait for the request to finish")
    status = req_sub.add_parser("status", help="show one request, or the most recent ones")
    status.add_argument("id", nargs="?", type=int)
    status.add_argument("--limit", type=int, default=20)
    for p in (disc, ingest, status):
        p.set_defaults(func=cmd_request)

    dbt = sub.add_parser(
        "dbt", help="run dbt on the lap-summary models (default: build) against the warehouse"
    )
    dbt.add_argument(
        "dbt_args", nargs=argparse.REMAINDER, help="dbt arguments, e.g. build --select lap_progression"
    )
    dbt.set_defaults(func=cmd_dbt)

    events = sub.add_parser(
        "events", help="list a track's events held between two dates (from the warehouse)"
    )
    events.add_argument("--track", required=True, help="a LiveRC track slug, or an Everlaps venue's slug")
    events.add_argument("--source", default="liverc", choices=("liverc", "everlaps"))
    events.add_argument("--from", dest="date_from", type=_date)
    events.add_argument("--to", dest="date_to", type=_date)
    events.set_defaults(func=cmd_events)
    add_engineer_commands(sub)  # report, coach-server, export (mre_pipeline/engineer/cli.py)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `mre-pipeline parse ... | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the CLI's contract is one clear line, not a traceback
        from mre_pipeline.connectors.errors import ConnectorError

        kind = "" if isinstance(exc, CliError | ConnectorError) else f"{type(exc).__name__}: "
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"mre-pipeline: error: {kind}{message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
