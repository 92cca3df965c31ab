"""A threaded HTTP server on 127.0.0.1 that plays everlaps.com's JSON endpoints.

The site answers ``POST`` (JSON body ``{}``) with JSON; payloads are keyed by endpoint path without the
query (``/api/res/3702/7303/1/1/2``). Like ``fake_liverc``, faults can be queued per endpoint (status codes,
Retry-After, malformed JSON, payloads with keys removed, delays), every request is logged with its method,
path, User-Agent, body and a monotonic timestamp, and robots.txt is served allow-all unless told otherwise.
A ``GET`` of an API path answers 404 ``Cannot GET ...``, as the Express-style backend that answers POST
presumably does; any other unknown path is a 404 too. The payload map is mutable while the server runs.
"""

from __future__ import annotations

import copy
import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Route:
    """One response: status, body and extra headers, optionally after a delay."""

    status: int = 200
    body: str | bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0
    content_type: str = JSON_TYPE

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> Route:
        return cls(status, encode(payload))


def encode(payload: Any) -> bytes:
    """JSON as the site sends it: UTF-8, accents unescaped, compact."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def status_fault(status: int, retry_after: str | None = None) -> Route:
    """An error status, with a Retry-After header when given (seconds or an HTTP date)."""
    headers = (("Retry-After", retry_after),) if retry_after is not None else ()
    return Route(status, encode({"error": f"HTTP {status}"}), headers)


def malformed_fault(payload: Any = None) -> Route:
    """A 200 whose JSON is cut off half-way (as a dropped connection or a proxy error page would leave it)."""
    text = encode(payload if payload is not None else {"title": "cut off"})
    return Route(200, text[: max(1, len(text) // 2)])


def delayed_fault(delay_s: float, route: Route | None = None) -> Route:
    """``route`` (an empty JSON object by default) after ``delay_s`` seconds: trips the client's timeout."""
    base = route or Route.json({})
    return Route(base.status, base.body, base.headers, delay_s, base.content_type)


def without_keys(payload: Any, *dotted: str) -> Any:
    """A deep copy of ``payload`` with each key removed; ``drivers.0.lapsdetail`` walks lists by index."""
    result = copy.deepcopy(payload)
    for path in dotted:
        *parents, last = path.split(".")
        node = result
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            del node[int(last)]
        else:
            node.pop(last, None)
    return result


def missing_keys_fault(payload: Any, *dotted: str) -> Route:
    return Route.json(without_keys(payload, *dotted))


@dataclass(frozen=True)
class LoggedRequest:
    at: float  # time.monotonic()
    method: str
    path: str  # with the query, as requested
    user_agent: str | None
    content_type: str | None = None
    body: bytes = b""

    @property
    def endpoint(self) -> str:
        return endpoint_of(self.path)


def endpoint_of(path: str) -> str:
    """The payload key of a request path: no query, no trailing slash."""
    route = urlsplit(path).path
    return route.rstrip("/") or "/"


@dataclass
class FakeEverlapsSite:
    """Endpoint path -> JSON payload, plus queued faults and robots.txt."""

    payloads: dict[str, Any] = field(default_factory=dict)
    faults: dict[str, deque[Route]] = field(default_factory=dict)
    robots_txt: str | None = "User-agent: *\nAllow: /\n"

    def put(self, path: str, payload: Any) -> None:
        self.payloads[endpoint_of(path)] = payload

    def payload(self, path: str) -> Any:
        return self.payloads[endpoint_of(path)]

    def remove(self, path: str) -> None:
        self.payloads.pop(endpoint_of(path), None)

    def fail(self, path: str, *routes: Route) -> None:
        """Answer the next POSTs to this endpoint with ``routes``, in order, then serve it normally."""
        self.faults.setdefault(endpoint_of(path), deque()).extend(routes)

    def disallow(self, *paths: str, agent: str = "*") -> None:
        """Serve a robots.txt that disallows ``paths`` for ``agent`` (allow-all is the default)."""
        rules = "".join(f"Disallow: {p}\n" for p in paths)
        self.robots_txt = f"User-agent: {agent}\n{rules}"

    def answer_post(self, path: str) -> Route:
        key = endpoint_of(path)
        queued = self.faults.get(key)
        if queued:
            return queued.popleft()
        if key in self.payloads:
            return Route.json(self.payloads[key])
        return Route(404, f"Cannot POST {key}".encode(), content_type=HTML_TYPE)

    def answer_get(self, path: str) -> Route:
        key = endpoint_of(path)
        if key == "/robots.txt":
            if self.robots_txt is None:
                return Route(404, b"Not Found", content_type=HTML_TYPE)
            return Route(200, self.robots_txt.encode(), content_type="text/plain; charset=utf-8")
        return Route(404, f"Cannot GET {key}".encode(), content_type=HTML_TYPE)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client dropping a keep-alive connection is normal here; anything else is still reported."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class FakeEverlapsServer:
    """``with FakeEverlapsServer(site) as server:`` serves ``site`` on a free loopback port."""

    def __init__(self, site: FakeEverlapsSite | Mapping[str, Any] | None = None):
        if isinstance(site, FakeEverlapsSite):
            self.site = site
        else:
            self.site = FakeEverlapsSite()
            for path, payload in (site or {}).items():
                self.site.put(path, payload)
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as separate writes: avoid Nagle + delayed ACK (~40 ms each).
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: object) -> None:  # quiet
                return None

            def _body(self) -> bytes:
                length = self.headers.get("Content-Length", "0")
                return self.rfile.read(int(length)) if length.isdigit() and int(length) > 0 else b""

            def _log(self, body: bytes) -> None:
                entry = LoggedRequest(
                    time.monotonic(),
                    self.command,
                    self.path,
                    self.headers.get("User-Agent"),
                    self.headers.get("Content-Type"),
                    body,
                )
                with server._lock:
                    server.requests.append(entry)

            def _send(self, route: Route) -> None:
                if route.delay_s:
                    time.sleep(route.delay_s)
                body = route.body.encode("utf-8") if isinstance(route.body, str) else route.body
                try:
                    self.send_response(route.status)
                    self.send_header("Content-Type", route.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in route.headers:
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                self._log(self._body())
                self._send(server.site.answer_post(self.path))

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                self._log(b"")
                self._send(server.site.answer_get(self.path))

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        # A short poll so stop() returns at once (the default 0.5 s poll costs half a second per test).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The environment that points the pipeline at this server."""
        return {"MRE_EVERLAPS_URL": self.base_url}

    def requests_for(self, path: str, method: str | None = None) -> list[LoggedRequest]:
        key = endpoint_of(path)
        return [r for r in self.requests if r.endpoint == key and (method is None or r.method == method)]

    def start(self) -> FakeEverlapsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeEverlapsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
