"""A threaded HTTP server on 127.0.0.1 that plays live.liverc.com and every ``<slug>.liverc.com``.

Pages are keyed by (track slug or ``None`` for the catalogue host, path with query). Faults can be queued
per page, each answering one request: a status (with Retry-After), a delay before answering, a body sent in
pieces with pauses between them (``Route.trickle``), a redirect to any URL (``Route.redirect``), a
maintenance page (``Route.maintenance``). Every request is logged with a monotonic timestamp, and
robots.txt is served allow-all unless told otherwise. The page map is mutable while the server runs.

    site.fail("demo", "/events/", Route.trickle(pieces=30, delay_s=1.5))   # the page itself, slowly
    site.fail("demo", "/events/", Route.redirect("http://127.0.0.1:9/elsewhere"))
    site.fail("demo", "/events/", Route.maintenance(), Route.maintenance())  # the next two requests
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

CATALOGUE = None  # the "slug" of live.liverc.com
HOST_SUFFIXES = ("liverc.com", "localhost")  # Host-header routing: <slug>.liverc.com, <slug>.localhost


MAINTENANCE_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>LiveRC :: Scheduled Maintenance</title></head>"
    "<body><h1>We'll be back soon!</h1><p>LiveRC is down for scheduled maintenance. "
    "Please check back in a few minutes.</p></body></html>\n"
)


@dataclass(frozen=True)
class Route:
    """One response: status, body and extra headers, optionally after a delay, optionally trickled.

    ``body=None`` in a queued fault means "the page's own body" for a 2xx status (so a fault can slow
    down the real page) and an empty body otherwise. ``pieces > 1`` sends the body in that many pieces,
    ``piece_delay_s`` apart, after the headers (which declare the full Content-Length).
    """

    status: int = 200
    body: str | bytes | None = ""
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0
    pieces: int = 1
    piece_delay_s: float = 0.0

    @classmethod
    def trickle(cls, pieces: int, delay_s: float, body: str | bytes | None = None) -> Route:
        """The page (or ``body``) in ``pieces`` pieces, ``delay_s`` seconds apart."""
        return cls(200, body, pieces=pieces, piece_delay_s=delay_s)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Route:
        """A redirect to any URL (absolute, or relative to the requested page)."""
        return cls(status, "", headers=(("Location", location),))

    @classmethod
    def maintenance(cls, status: int = 200, retry_after: str | None = None) -> Route:
        """A maintenance page instead of the requested page (status 200 as some sites do, or 503)."""
        headers = (("Retry-After", retry_after),) if retry_after is not None else ()
        return cls(status, MAINTENANCE_PAGE, headers=headers)

    def body_bytes(self) -> bytes:
        body = self.body or b""
        return body.encode("utf-8") if isinstance(body, str) else body

    def body_pieces(self) -> list[bytes]:
        body = self.body_bytes()
        count = max(1, min(self.pieces, len(body)))
        size = -(-len(body) // count) if body else 0
        return [body[i : i + size] for i in range(0, len(body), size)] if body else [b""]


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
            fault = queued.popleft()
            if fault.body is None:
                page = self.pages.get(key)
                own = page.body if page is not None and 200 <= fault.status < 300 else ""
                fault = replace(fault, body=own)
            return fault
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
                # The client may give up mid-answer (timeout and deadline tests).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(route)

            def _send(self, route: Route) -> None:
                pieces = route.body_pieces()
                self.send_response(route.status)
                self.send_header("Content-Type", "text/html; charset=UTF-8")
                self.send_header("Content-Length", str(sum(len(p) for p in pieces)))
                for name, value in route.headers:
                    self.send_header(name, value)
                self.end_headers()
                for index, piece in enumerate(pieces):
                    if index:
                        time.sleep(route.piece_delay_s)
                    self.wfile.write(piece)
                    self.wfile.flush()

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
