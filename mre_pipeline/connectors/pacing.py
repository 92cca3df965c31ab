"""Per-host pacing: whose turn it is to send the next request to a host, and when.

A connector asks its :class:`HostPacer` for a turn before every request and holds it until the response has
been read, so a host never sees two of our requests at once nor two closer than the minimum interval
(counted from the end of the previous response). :class:`LocalHostPacer` keeps the ledger in this process;
the warehouse provides one in Postgres (``warehouse/politeness.py``) that holds across processes and
machines, which is what lets several runs work at once without ever hitting one host harder.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RobotsAnswer:
    """What a site's /robots.txt said: HTTP 200 and its text, 404 (no rules) or 403 (no crawling at all)."""

    status: int
    body: str = ""


class HostPacer(Protocol):
    def turn(self, host: str, min_interval_s: float) -> AbstractContextManager[float]:
        """Block until ``host`` may receive our next request; yields the seconds waited. Leaving the block
        records that the response ended now."""
        ...

    def recall_robots(self, site: str, max_age_s: float) -> RobotsAnswer | None:
        """The site's robots.txt answer if anyone sharing this ledger fetched it less than ``max_age_s`` ago:
        one fetch serves every run, not one per run."""
        ...

    def remember_robots(self, site: str, answer: RobotsAnswer) -> None: ...


class LocalHostPacer:
    """The ledger in this process's memory: one request at a time per host, threads included."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ):
        self.clock = clock
        self.sleep = sleep
        self._guard = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._last_end: dict[str, float] = {}
        self._robots: dict[str, tuple[float, RobotsAnswer]] = {}

    def _lock_for(self, host: str) -> threading.Lock:
        with self._guard:
            return self._host_locks.setdefault(host, threading.Lock())

    @contextmanager
    def turn(self, host: str, min_interval_s: float) -> Iterator[float]:
        with self._lock_for(host):
            last = self._last_end.get(host)
            waited = 0.0 if last is None else max(0.0, last + min_interval_s - self.clock())
            if waited > 0:
                self.sleep(waited)
            try:
                yield waited
            finally:
                self._last_end[host] = self.clock()

    def recall_robots(self, site: str, max_age_s: float) -> RobotsAnswer | None:
        fetched = self._robots.get(site)
        if fetched is None or self.clock() - fetched[0] >= max_age_s:
            return None
        return fetched[1]

    def remember_robots(self, site: str, answer: RobotsAnswer) -> None:
        self._robots[site] = (self.clock(), answer)
