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

SOURCE = "liverc"  # the source with a track catalogue; --source picks another where it applies
CATALOGUE_JOB = "track_catalogue_job"


class CliError(Exception):
    """An error reported to the user as one line on stderr."""


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}") from exc


def _slug(value: str) -> str:
    from mre_pipeline.ingestion.keys import InvalidKeyError, normalise_slug

    try:
        return normalise_slug(value)
    except InvalidKeyError as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a track slug (letters, digits and '-', as in canberraoffroad)"
        ) from exc


def _event_id(value: str) -> str:
    from mre_pipeline.ingestion.keys import InvalidKeyError, parse_event_id

    try:
        return str(parse_event_id(value))
    except InvalidKeyError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a numeric event id (e.g. 486677)") from exc


def _warehouse_engine():
    from mre_pipeline.warehouse import server
    from mre_pipeline.warehouse.engine import get_engine

    urls = server.resolve_urls()
    return get_engine(urls.warehouse)


def cmd_dev(args: argparse.Namespace) -> int:
    from mre_pipeline.launcher import LauncherError, run_dev

    try:
        return run_dev(port=args.port, host=args.host)
    except LauncherError as exc:
        raise CliError(str(exc)) from None


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from mre_pipeline.warehouse import migrate, server

    urls = server.resolve_urls()
    server.ensure_databases(urls)
    before = migrate.current_revision(urls.warehouse)
    passwords_set = migrate.upgrade(urls.warehouse)
    after = migrate.current_revision(urls.warehouse)
    if before != after:
        print(f"warehouse upgraded from {before or 'empty'} to revision {after}")
    elif passwords_set:
        print(f"warehouse already at revision {after}")
    else:
        print(f"warehouse already at revision {after}; nothing to do")
    for role in passwords_set:
        print(f"password set for {role}")
    return 0


def _note(message: str) -> None:
    print(f"mre-pipeline: {message}", file=sys.stderr)


def _urls_kept_running():
    """The URLs; an embedded server started for them stays up (``db url``/``env`` hand them out)."""
    from mre_pipeline.warehouse import server

    was_running = _embedded() and server.running_server() is not None
    urls = server.resolve_urls(keep=True)
    if urls.embedded_dir is not None and not was_running:
        _note(
            f"started the embedded Postgres server ({urls.embedded_dir}); it keeps running until "
            "`mre-pipeline db stop`"
        )
    return urls


def _embedded() -> bool:
    from mre_pipeline import settings

    return settings.warehouse_url() is None


def cmd_db_url(args: argparse.Namespace) -> int:
    """A URL psql, libpq and SQLAlchemy all accept; ``--role`` swaps in another user (no password)."""
    from sqlalchemy.engine import make_url

    from mre_pipeline.warehouse.engine import libpq_url

    urls = _urls_kept_running()
    url = urls.dagster if args.dagster else urls.warehouse
    if args.role:
        url = make_url(url).set(username=args.role, password=None).render_as_string(hide_password=False)
    print(libpq_url(url))
    return 0


def cmd_db_start(args: argparse.Namespace) -> int:
    from mre_pipeline.warehouse import server
    from mre_pipeline.warehouse.engine import libpq_url

    _require_embedded("db start")
    was_running = server.running_server() is not None
    running = server.keep_running()
    urls = server.resolve_urls()
    server.ensure_databases(urls)
    state = "already running" if was_running else "started"
    print(f"embedded Postgres {state} (pid {running.pid}, data in {running.data_dir})")
    print("it keeps running until `mre-pipeline db stop`; analysts connect with:")
    print(f"  psql '{libpq_url(running.get_uri(server.WAREHOUSE_DB, user='mre_analyst'))}'")
    return 0


def cmd_db_stop(args: argparse.Namespace) -> int:
    from mre_pipeline.launcher import running_dev
    from mre_pipeline.warehouse import server

    _require_embedded("db stop")
    outcome = server.stop_kept()
    if outcome != "in use":
        print(f"embedded Postgres {outcome}")
        return 0
    dev = running_dev()
    user = f"mre-pipeline dev (pid {dev.get('pid')})" if dev else "another mre-pipeline command"
    print(f"embedded Postgres keeps running while {user} uses it; it stops when that exits")
    return 0


def cmd_db_status(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from mre_pipeline.pipeline_status import HEARTBEAT_FRESH_S, daemon_heartbeat_age_s
    from mre_pipeline.warehouse import server
    from mre_pipeline.warehouse.engine import libpq_url

    if _embedded():
        running = server.running_server()
        if running is None:
            print(f"embedded Postgres: not running (data in {server.embedded_data_dir()})")
            print("start it with `mre-pipeline db start` (stays up) or `mre-pipeline dev`")
            return 1
        kept = server.kept_marker(running.data_dir).exists()
        how = (
            "kept running until `mre-pipeline db stop`"
            if kept
            else "stops when the last command using it exits"
        )
        print(f"embedded Postgres: running (pid {running.pid}, data in {running.data_dir}); {how}")
    urls = server.resolve_urls()
    engine = sa.create_engine(urls.warehouse, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar()
    except sa.exc.OperationalError as exc:
        raise CliError(
            f"warehouse {libpq_url(urls.warehouse, hide_password=True)} is not reachable: {exc.orig}"
        ) from None
    finally:
        engine.dispose()
    print(f"warehouse: {libpq_url(urls.warehouse, hide_password=True)} (PostgreSQL {version})")
    print(f"Dagster storage: {libpq_url(urls.dagster, hide_password=True)}")
    age = daemon_heartbeat_age_s(urls.dagster)
    if age is not None and age <= HEARTBEAT_FRESH_S:
        print(f"pipeline: running (Dagster daemon heartbeat {age:.0f} s ago)")
    else:
        print(f"pipeline: not running (no Dagster daemon heartbeat in the last {HEARTBEAT_FRESH_S} s)")
    return 0


def _require_embedded(command: str) -> None:
    if not _embedded():
        raise CliError(
            f"{command} manages the embedded Postgres server only; MRE_DATABASE_URL points at another server"
        )


def cmd_env(args: argparse.Namespace) -> int:
    """Shell exports for Dagster's own commands on this project's instance: ``eval "$(mre-pipeline env)"``."""
    import shlex

    from mre_pipeline.launcher import prepare_dagster_home
    from mre_pipeline.warehouse.engine import libpq_url

    urls = _urls_kept_running()
    exports = {
        "DAGSTER_HOME": str(prepare_dagster_home()),
        "MRE_DATABASE_URL": libpq_url(urls.warehouse),
        "MRE_DAGSTER_DATABASE_URL": libpq_url(urls.dagster),
    }
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def cmd_catalogue_refresh(args: argparse.Namespace) -> int:
    """Launch ``track_catalogue_job`` on the running pipeline (lineage and the ``timing_sources`` pool hold)."""
    from mre_pipeline.launcher import running_dev
    from mre_pipeline.pipeline_status import TERMINAL_RUN_STATUSES, launch_job, run_status

    webserver = args.webserver or (running_dev() or {}).get("url")
    if not webserver:
        raise CliError(
            "no pipeline is running here: start it with ./mre dev (an empty catalogue is fetched by "
            "itself), pass --webserver URL, or run `dagster job launch -w workspace.yaml -j "
            f"{CATALOGUE_JOB}` with DAGSTER_HOME set (see README)"
        )
    run_id = launch_job(webserver, CATALOGUE_JOB)
    print(f"catalogue refresh queued as Dagster run {run_id}: {webserver}/runs/{run_id}")
    if not args.wait:
        return 0
    deadline = time.monotonic() + args.wait
    status = "QUEUED"
    while time.monotonic() < deadline:
        status = run_status(webserver, run_id)
        if status in TERMINAL_RUN_STATUSES:
            break
        time.sleep(2)
    else:
        raise CliError(f"catalogue run {run_id} is still {status.lower()} after {args.wait:.0f} s")
    if status != "SUCCESS":
        raise CliError(f"catalogue run {run_id} ended {status.lower()}; see {webserver}/runs/{run_id}")
    from mre_pipeline.warehouse.catalogue_state import catalogue_counts

    with _warehouse_engine().connect() as conn:
        total, active = catalogue_counts(conn, SOURCE)
    print(f"catalogue refreshed: {active} active track(s), {total} in all")
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
    source = getattr(args, "source", SOURCE)
    track = _track_for(source, args.track)
    catalogue_empty = _check_track(engine, track, refuse_when_empty=False) if track else False
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
                track,
                source_event_id=args.event,
                requested_by=args.requested_by,
                force=args.force,
                source=source,
            )
    print(f"request {request_id} pending; the request sensor picks it up on its next tick")
    if catalogue_empty:
        _note("the track catalogue is still empty; the pipeline fetches it when it starts (./mre dev)")
    if args.wait:
        return _wait_for(engine, request_id, args.wait)
    return 0


def _track_for(source: str, track: str | None) -> str | None:
    """LiveRC events live under a catalogue track; Everlaps events need only their id."""
    from mre_pipeline.ingestion.sources import SOURCES

    if not SOURCES[source].has_catalogue:
        return None
    if not track:
        raise CliError(f"--track is required for {SOURCES[source].label} events")
    return track


def _check_track(engine, slug: str, refuse_when_empty: bool, source: str = SOURCE) -> bool:
    """Refuse a track the warehouse does not know; returns True when the catalogue is still empty."""
    from mre_pipeline.warehouse.catalogue import track_exists
    from mre_pipeline.warehouse.catalogue_state import has_active_tracks

    with engine.connect() as conn:
        if track_exists(conn, source, slug):
            return False
        empty = not has_active_tracks(conn, source)
    if not empty:
        raise CliError(f"track {slug!r} is not in the catalogue (see mre.tracks for the slugs)")
    if refuse_when_empty:
        raise CliError(
            f"track {slug!r} is not in the catalogue, which is still empty: the pipeline fetches it when "
            "it starts (./mre dev), or run ./mre catalogue refresh"
        )
    return True


def _wait_for(engine, request_id: int, timeout_s: float) -> int:
    from mre_pipeline.warehouse import requests as queue

    deadline = time.monotonic() + timeout_s
    row = None
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            row = queue.get_request(conn, request_id)
        if row is not None and row.status in queue.FINAL_STATUSES:
            print(f"request {request_id} {row.status}: {row.status_detail or ''}".rstrip())
            return 0 if row.status == "succeeded" else 1
        time.sleep(1.0)
    raise CliError(_still_waiting(request_id, row.status if row is not None else "pending", timeout_s))


def _still_waiting(request_id: int, status: str, timeout_s: float) -> str:
    """Why a request has not finished yet, in words that say what to do."""
    from mre_pipeline.pipeline_status import HEARTBEAT_FRESH_S, daemon_running
    from mre_pipeline.warehouse import server

    waited = f"request {request_id} is still {status} after {timeout_s:.0f} s"
    if not daemon_running(server.resolve_urls().dagster):
        return (
            f"{waited}: no pipeline seems to be running (no Dagster daemon heartbeat in the last "
            f"{HEARTBEAT_FRESH_S} s); start it with ./mre dev"
        )
    return f"{waited}; the pipeline is running: follow it with ./mre request status {request_id}"


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
    engine = _warehouse_engine()
    _check_track(engine, args.track, refuse_when_empty=True, source=args.source)
    with engine.connect() as conn:
        rows = events_held_between(conn, args.source, args.track, args.date_from, args.date_to)
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
    _add_db_service_parsers(db_sub)

    parse = sub.add_parser("parse", help="parse a saved LiveRC page and print the records as JSON")
    parse.add_argument("page_type", choices=("catalogue", "events", "event", "race", "entry-list"))
    parse.add_argument("file")
    parse.add_argument("--track", help="track slug to record (pages do not contain it)")
    parse.add_argument("--id", type=int, help="the page's own id (pages do not contain it)")
    parse.set_defaults(func=cmd_parse)

    req = sub.add_parser("request", help="queue or inspect ingestion requests")
    req_sub = req.add_subparsers(dest="action", required=True)
    disc = req_sub.add_parser("discover", help="discover a track's events (metadata only)")
    disc.add_argument("--track", required=True, type=_slug)
    disc.add_argument("--from", dest="date_from", type=_date)
    disc.add_argument("--to", dest="date_to", type=_date)
    ingest = req_sub.add_parser("ingest", help="ingest one event completely")
    ingest.add_argument("--source", default="liverc", choices=("liverc", "everlaps"))
    ingest.add_argument("--track", type=_slug, help="the event's LiveRC track slug (not needed for Everlaps)")
    ingest.add_argument("--event", required=True, type=_event_id)
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
    events.add_argument(
        "--track", required=True, type=_slug, help="a LiveRC track slug, or an Everlaps venue's slug"
    )
    events.add_argument("--source", default="liverc", choices=("liverc", "everlaps"))
    events.add_argument("--from", dest="date_from", type=_date)
    events.add_argument("--to", dest="date_to", type=_date)
    events.set_defaults(func=cmd_events)
    _add_operations_parsers(sub)
    add_engineer_commands(sub)  # report, coach-server, export (mre_pipeline/engineer/cli.py)
    return parser


def _add_db_service_parsers(db_sub) -> None:
    url = db_sub.add_parser("url", help="print the warehouse (or --dagster) URL, as psql accepts it")
    url.add_argument("--dagster", action="store_true", help="Dagster's storage instead of the warehouse")
    url.add_argument("--role", help="connect as this role instead, e.g. mre_analyst (psql asks the password)")
    url.set_defaults(func=cmd_db_url)
    start = db_sub.add_parser("start", help="start the embedded Postgres server and keep it running")
    start.set_defaults(func=cmd_db_start)
    stop = db_sub.add_parser("stop", help="stop the embedded Postgres server started by db start")
    stop.set_defaults(func=cmd_db_stop)
    status = db_sub.add_parser("status", help="is the database up, and is the pipeline running")
    status.set_defaults(func=cmd_db_status)


def _add_operations_parsers(sub) -> None:
    catalogue = sub.add_parser("catalogue", help="the LiveRC track catalogue")
    catalogue_sub = catalogue.add_subparsers(dest="catalogue_command", required=True)
    refresh = catalogue_sub.add_parser(
        "refresh", help="fetch the catalogue now, through the running pipeline"
    )
    refresh.add_argument("--webserver", metavar="URL", help="the Dagster webserver (default: ./mre dev's)")
    refresh.add_argument("--wait", type=float, metavar="SECONDS", help="wait for the run to finish")
    refresh.set_defaults(func=cmd_catalogue_refresh)
    env = sub.add_parser("env", help='shell exports for Dagster\'s own commands: eval "$(mre-pipeline env)"')
    env.set_defaults(func=cmd_env)


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
