"""Readiness probes for deploy/local/up.sh (run with the project's Python): one command per question.

    probe.py free-port                         a free TCP port on 127.0.0.1
    probe.py port HOST PORT TIMEOUT_S          until something listens there (a code server has loaded)
    probe.py http URL TIMEOUT_S                until the URL answers 2xx (the webserver's /server_info)
    probe.py redis URL TIMEOUT_S               until Redis answers PING
    probe.py workers BROKER_URL N TIMEOUT_S    until N Celery workers answer a ping; prints their names
    probe.py daemon TIMEOUT_S                  until the Dagster daemon's heartbeat is fresh
                                               (MRE_DAGSTER_DATABASE_URL)

Exit 0 when ready, 1 with one line on stderr when the time is up.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(check: Callable[[], object], timeout_s: float, what: str, interval_s: float = 0.5) -> object:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = check()
        except Exception:  # noqa: BLE001 - not ready yet
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            print(f"probe: {what} not ready after {timeout_s:.0f} s", file=sys.stderr)
            sys.exit(1)
        time.sleep(interval_s)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def http_ok(url: str) -> bool:
    import requests

    return requests.get(url, timeout=3).ok


def redis_ok(url: str) -> bool:
    import redis

    return bool(redis.Redis.from_url(url, socket_timeout=2).ping())


def workers(broker_url: str, count: int) -> list[str] | None:
    from celery import Celery

    app = Celery(broker=broker_url)
    try:
        replies = app.control.ping(timeout=1.5) or []
    finally:
        app.close()
    names = sorted(name for reply in replies for name in reply)
    return names if len(names) >= count else None


def daemon_fresh() -> bool:
    from mre_pipeline.pipeline_status import daemon_running

    return daemon_running(os.environ["MRE_DAGSTER_DATABASE_URL"])


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "free-port":
        print(free_port())
    elif command == "port":
        host, port, timeout = args
        wait(lambda: port_open(host, int(port)), float(timeout), f"{host}:{port}")
    elif command == "http":
        url, timeout = args
        wait(lambda: http_ok(url), float(timeout), url)
    elif command == "redis":
        url, timeout = args
        wait(lambda: redis_ok(url), float(timeout), "Redis")
    elif command == "workers":
        broker, count, timeout = args
        names = wait(lambda: workers(broker, int(count)), float(timeout), f"{count} Celery worker(s)")
        print(" ".join(names))  # type: ignore[arg-type]
    elif command == "daemon":
        (timeout,) = args
        wait(daemon_fresh, float(timeout), "the Dagster daemon's heartbeat", interval_s=2)
    else:
        print(f"probe: unknown command {command!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
