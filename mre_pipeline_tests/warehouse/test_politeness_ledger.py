"""The shared politeness ledger, exercised from several processes at once on a real Postgres.

Processes stand in for workers on different machines: each has its own engine and takes turns on hosts
through ``PostgresHostPacer``. For one host, turns never overlap and each starts at least the interval after
the previous one ended; turns on different hosts proceed side by side; a worker killed in the middle of its
turn (SIGKILL, as when its machine dies) does not keep the host from the others.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time

import pytest
import sqlalchemy as sa

from mre_pipeline.connectors.errors import RobotsDisallowedError
from mre_pipeline.connectors.http import PoliteHttpClient
from mre_pipeline.connectors.liverc.config import LiveRCConfig
from mre_pipeline.connectors.liverc.source import LiveRCSource
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.server import FakeSite
from mre_pipeline.warehouse.politeness import PostgresHostPacer, host_ledger

INTERVAL_S = 0.2
TURNS = 4
HOLD_S = 0.05


def _take_turns(url: str, host: str, turns: int, out) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    pacer = PostgresHostPacer(engine)
    for _ in range(turns):
        with pacer.turn(host, INTERVAL_S):
            started = time.monotonic()
            time.sleep(HOLD_S)  # the request itself
            out.put((host, started, time.monotonic()))
    engine.dispose()


def _hold_until_other_host_enters(url: str, entered, other_entered, out) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with PostgresHostPacer(engine).turn("a.example", INTERVAL_S):
        entered.set()
        out.put(other_entered.wait(60))  # True only if the other host got its turn meanwhile
    engine.dispose()


def _hold_turn_until_killed(url: str, entered) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with PostgresHostPacer(engine).turn("c.example", INTERVAL_S):
        entered.set()
        time.sleep(600)  # a request that never ends: the worker dies first


def _enter_other_host(url: str, first_entered, entered) -> None:
    first_entered.wait(60)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with PostgresHostPacer(engine).turn("b.example", INTERVAL_S):
        entered.set()
    engine.dispose()


def test_one_host_is_paced_across_processes(clean_warehouse: sa.Engine, warehouse_url: str) -> None:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    workers = [
        ctx.Process(target=_take_turns, args=(warehouse_url, "a.example", TURNS, out)) for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    turns = sorted(out.get(timeout=120)[1:] for _ in range(3 * TURNS))
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    for (_, previous_end), (start, _) in zip(turns, turns[1:], strict=False):
        assert start >= previous_end, "two requests to one host overlapped"
        assert start - previous_end >= INTERVAL_S - 0.01, (
            f"gap {start - previous_end:.3f} s below the interval"
        )
    with clean_warehouse.connect() as conn:
        assert host_ledger(conn)["a.example"][1] == 3 * TURNS


def test_other_hosts_are_not_held_back(clean_warehouse: sa.Engine, warehouse_url: str) -> None:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    a_entered, b_entered = ctx.Event(), ctx.Event()
    holder = ctx.Process(
        target=_hold_until_other_host_enters, args=(warehouse_url, a_entered, b_entered, out)
    )
    other = ctx.Process(target=_enter_other_host, args=(warehouse_url, a_entered, b_entered))
    holder.start()
    other.start()
    assert out.get(timeout=120) is True, "a turn on b.example waited for a.example's turn to end"
    holder.join(60)
    other.join(60)
    assert holder.exitcode == 0 and other.exitcode == 0


def test_a_worker_killed_mid_turn_does_not_hold_the_host(
    clean_warehouse: sa.Engine, warehouse_url: str
) -> None:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    entered = ctx.Event()
    doomed = ctx.Process(target=_hold_turn_until_killed, args=(warehouse_url, entered))
    doomed.start()
    assert entered.wait(120), "the first worker never got its turn"
    other = ctx.Process(target=_take_turns, args=(warehouse_url, "c.example", 1, out))
    other.start()
    os.kill(doomed.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    doomed.join(30)
    _, started, _ = out.get(timeout=120)  # Postgres released the dead session's lock
    other.join(60)
    assert other.exitcode == 0
    assert started >= killed_at


def _liverc_run(server, engine: sa.Engine, **settings: object):
    """A LiveRC source as one run builds it: its own client, the warehouse's ledger."""
    config = LiveRCConfig(
        catalogue_url=server.catalogue_url,
        track_url_template=server.track_url_template,
        **{"min_interval_s": 0.0, "backoff_base_s": 0.0, **settings},  # type: ignore[arg-type]
    )
    return LiveRCSource(config, client=PoliteHttpClient(config, pacer=PostgresHostPacer(engine)))


def test_runs_share_one_robots_txt_fetch_and_its_rules(clean_warehouse: sa.Engine) -> None:
    site = FakeSite()
    site.put("demo", "/events/", "<html><table id='events'><tbody></tbody></table></html>")
    site.put("other", "/events/", "<html><table id='events'><tbody></tbody></table></html>")
    site.disallow("/t/other/events/")
    with FakeLiveRCServer(site) as server:
        for _ in range(3):  # three runs, each with a fresh client
            assert _liverc_run(server, clean_warehouse).fetch_track_events("demo") == []
        with pytest.raises(RobotsDisallowedError):  # the remembered rules hold for a later run too
            _liverc_run(server, clean_warehouse).fetch_track_events("other")
        assert [r.path for r in server.requests] == ["/robots.txt"] + ["/events/"] * 3
        site.robots_txt = None  # the site drops its robots.txt; a run after the TTL sees that
        assert _liverc_run(server, clean_warehouse, robots_ttl_s=0.0).fetch_track_events("other") == []
        assert [r.path for r in server.requests][-2:] == ["/robots.txt", "/events/"]
    with clean_warehouse.connect() as conn:
        rows = conn.exec_driver_sql("SELECT status, body FROM mre.host_robots").all()
    assert [tuple(r) for r in rows] == [(404, "")]
