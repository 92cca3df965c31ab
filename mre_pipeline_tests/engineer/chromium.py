"""Headless Chromium for tests: open a local page with every request going to a loopback proxy that
records it and refuses it, and return the DOM after the page's scripts ran.

Chromium talks to a few of its own services even with background networking disabled (component updates,
account checks); those show up for an empty page too, so a page's own requests are what a run records
beyond a blank page's run.
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chromium_or_skip() -> str:
    """The Chromium binary; skip without it, except under CI (CI installs it: .ci/run)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    reason = "headless Chromium is not installed (Debian: apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must install it (.ci/run)")
    pytest.skip(reason)


class _Recorder(http.server.BaseHTTPRequestHandler):
    def _refuse(self) -> None:
        target = self.path if self.command != "CONNECT" else f"https://{self.path}/"
        self.server.seen.append(f"{self.command} {target}")  # type: ignore[attr-defined]
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_HEAD = do_PUT = do_OPTIONS = do_CONNECT = _refuse

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def recording_proxy() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class PageRun:
    dom: str
    requests: list[str]

    def hosts(self) -> set[str]:
        return {urlsplit(r.split(" ", 1)[1]).hostname or r for r in self.requests}


def open_page(binary: str, page: Path, extra_flags: tuple[str, ...] = (), budget_ms: int = 30_000) -> PageRun:
    """Load ``page`` (file://) with all network through a refusing, recording proxy; DOM after scripts."""
    with recording_proxy() as proxy, tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        port = proxy.server_address[1]
        completed = subprocess.run(
            [
                binary,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--proxy-server=http://127.0.0.1:{port}",
                "--proxy-bypass-list=<-loopback>",
                f"--virtual-time-budget={budget_ms}",
                *extra_flags,
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        return PageRun(dom=completed.stdout, requests=list(proxy.seen))  # type: ignore[attr-defined]


def page_requests(binary: str, page: Path, tmp_path: Path) -> tuple[PageRun, set[str]]:
    """Run ``page`` and a blank page; returns the page's run and the hosts only the page asked for."""
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    browser_own = open_page(binary, blank).hosts()
    run = open_page(binary, page)
    return run, run.hosts() - browser_own
