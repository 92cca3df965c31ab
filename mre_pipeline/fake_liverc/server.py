"""A threaded HTTP server on 127.0.0.1 that plays live.liverc.com and every ``<slug>.liverc.com``.

Pages are keyed by (track slug or ``None`` for the catalogue host, path with query). Faults can be queued
per page (status codes, Retry-After, delays), every request is logged with a monotonic timestamp, and
robots.txt is served allow-all unless told otherwise. The page map is mutable while the server runs.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

CATALOGUE = None  # the "slug" of live.liverc.com
HOST_SUFFIXES = ("liverc.com", "localhost")  # Host-header routing: <slug>.liverc.com, <slug>.localhost


@dataclass(frozen=True)
class Route:
    """One response: status, body and extra headers, optionally after a delay."""

    status: int = 200
    body: str | bytes = ""
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0


@dataclass(frozen=True)
class LoggedRequest:
    at: float  # time.monotonic()
    slug: str | None
    path: str
    user_agent: str | None


def canonical_path(path: str) -> str:
    """``/results/?id=5&p=view_event`` and ``/results?p=view_event&id=5`` are the same page."""
    parts = urlsplit(path)
    route = parts.path if parts.path.endswith("/") else parts.path + "/"
    if parts.path.endswith((".txt", ".html")):
        route = parts.path
    query = sorted(parse_qsl(parts.query))
    return route + (f"?{urlencode(query)}" if query else "")


@dataclass
class FakeSite:
    pages: dict[tuple[str | None, str], Route] = field(default_factory=dict)
    faults: dict[tuple[str | None, str], deque[Route]] = field(default_factory=dict)
    robots_txt: str | None = "User-agent: *\nAllow: /\n"

    def put(self, slug: str | None, path: str, body: str | bytes, status: int = 200) -> None:
        self.pages[(slug, canonical_path(path))] = Route(status, body)

    @classmethod
    def from_mapping(cls, pages: Mapping[str | tuple[str | None, str], str | bytes]) -> FakeSite:
        """Keys are ``(slug or None, path)`` or a server path (``/t/<slug>/events/``, ``/`` = catalogue)."""
        site = cls()
        for key, body in pages.items():
            slug, path = key if isinstance(key, tuple) else FakeLiveRCServer._split(key)
            site.put(slug, path, body)
        return site

    def disallow(self, *paths: str, agent: str = "*") -> None:
        """Serve a robots.txt that disallows ``paths`` for ``agent`` (allow-all is the default)."""
        rules = "".join(f"Disallow: {p}\n" for p in paths)
        self.robots_txt = f"User-agent: {agent}\n{rules}"

    def remove(self, slug: str | None, path: str) -> None:
        self.pages.pop((slug, canonical_path(path)), None)

    def fail(self, slug: str | None, path: str, *routes: Route) -> None:
        """Answer the next requests for this page with ``routes``, in order, then serve it normally."""
        self.faults.setdefault((slug, canonical_path(path)), deque()).extend(routes)

    def resolve(self, slug: str | None, path: str) -> Route:
        key = (slug, canonical_path(path))
        queued = self.faults.get(key)
        if queued:
            return queued.popleft()
        if urlsplit(path).path == "/robots.txt":
            return Route(200, self.robots_txt) if self.robots_txt is not None else Route(404, "not found")
        return self.pages.get(key) or Route(404, "<html><body>404 Not Found</body></html>")


class FakeLiveRCServer:
    """``with FakeLiveRCServer(site) as server:`` serves ``site`` on a free loopback port."""

    def __init__(self, site: FakeSite | Mapping[str | tuple[str | None, str], str | bytes] | None = None):
        self.site = site if isinstance(site, FakeSite) else FakeSite.from_mapping(site or {})
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as separate writes: without this, Nagle plus delayed ACK
                # add ~40 ms to every keep-alive response and the benchmarks measure the kernel.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: object) -> None:  # quiet
                return None

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                slug, path = server._route(self.headers.get("Host"), self.path)
                with server._lock:
                    server.requests.append(
                        LoggedRequest(time.monotonic(), slug, path, self.headers.get("User-Agent"))
                    )
                route = server.site.resolve(slug, path)
                if route.delay_s:
                    time.sleep(route.delay_s)
                body = route.body.encode("utf-8") if isinstance(route.body, str) else route.body
                try:
                    self.send_response(route.status)
                    self.send_header("Content-Type", "text/html; charset=UTF-8")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in route.headers:
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @classmethod
    def _route(cls, host: str | None, raw_path: str) -> tuple[str | None, str]:
        """By Host header (``<slug>.liverc.com`` or ``<slug>.localhost``), else by path prefix."""
        name = (host or "").rsplit(":", 1)[0].lower() if host and not host.startswith("[") else ""
        for suffix in HOST_SUFFIXES:
            if name.endswith(suffix) and name.count(".") == suffix.count(".") + 1:
                slug = name[: -len(suffix) - 1]
                return (CATALOGUE if slug == "live" else slug), raw_path
        return cls._split(raw_path)

    @staticmethod
    def _split(raw_path: str) -> tuple[str | None, str]:
        """``/t/<slug>/rest`` is a track host; anything else is the catalogue host."""
        if raw_path.startswith("/t/"):
            _, _, rest = raw_path.partition("/t/")
            slug, sep, tail = rest.partition("/")
            return slug.lower(), "/" + tail if sep else "/"
        return CATALOGUE, raw_path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def catalogue_url(self) -> str:
        return f"{self.base_url}/"

    @property
    def track_url_template(self) -> str:
        return f"{self.base_url}/t/{{slug}}"

    def env(self) -> dict[str, str]:
        """The environment that points the pipeline at this server."""
        return {
            "MRE_LIVERC_CATALOGUE_URL": self.catalogue_url,
            "MRE_LIVERC_TRACK_URL": self.track_url_template,
        }

    def requests_for(self, slug: str | None, path: str) -> list[LoggedRequest]:
        key = canonical_path(path)
        return [r for r in self.requests if r.slug == slug and canonical_path(r.path) == key]

    def start(self) -> FakeLiveRCServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeLiveRCServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
