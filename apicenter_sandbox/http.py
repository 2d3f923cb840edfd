"""A small threaded HTTP/1.1 server shared by both sandboxes.

Real sockets, keep-alive, and the three control endpoints every sandbox has:

- ``POST /_sandbox/faults``: fault injection settings (see :mod:`.faults`)
- ``POST /_sandbox/reset``: back to the seeded data, counters and stats cleared
- ``GET /_sandbox/stats``: calls per operation, writes per entity, faults injected, the most requests answered
  at one time (``max_in_flight``)
- ``POST /_sandbox/raw-reply``: test only: answer the next N calls of one operation with a raw body
  (malformed JSON/XML, an HTML page with 200, a hostile document...); ``DELETE`` clears them

A sandbox subclasses :class:`SandboxApp` and implements :meth:`SandboxApp.route`.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .faults import Fault, FaultConfig, FaultInjector


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, str]  # last value wins; keys as sent
    headers: dict[str, str]  # lower-case names
    body: bytes
    raw_query: str = ""

    def query_ci(self) -> dict[str, str]:
        """Query parameters with lower-case names (AccountView treats them case-insensitively)."""
        return {k.lower(): v for k, v in self.query.items()}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(data, ensure_ascii=False).encode(), headers=headers or {})


@dataclass
class Call:
    """A parsed API call: its operation name (for stats and faults) and how to run it."""

    operation: str
    is_write: bool
    run: Callable[[], Response]


@dataclass
class RawReply:
    """A canned reply for the next ``times`` calls of ``operation`` (bad-input tests).

    ``apply``: run the real call first (a write is applied), then send this body instead of its reply."""

    operation: str
    body: bytes
    status: int = 200
    content_type: str = "application/json; charset=utf-8"
    times: int = 1
    apply: bool = False

    @classmethod
    def from_json(cls, data: dict) -> RawReply:
        if not isinstance(data, dict):
            raise ValueError("raw-reply settings must be a JSON object")
        unknown = set(data) - {"operation", "status", "body", "content_type", "times", "apply"}
        if unknown:
            raise ValueError(f"unknown raw-reply setting(s): {', '.join(sorted(unknown))}")
        operation = data.get("operation")
        if not isinstance(operation, str) or not operation.strip():
            raise ValueError("operation is missing (the name /_sandbox/stats counts calls under)")
        body = data.get("body", "")
        if not isinstance(body, str):
            raise ValueError("body must be a string")
        reply = cls(operation.strip(), body.encode("utf-8"), int(data.get("status", 200)),
                    str(data.get("content_type") or cls.content_type), int(data.get("times", 1)),
                    bool(data.get("apply", False)))  # fmt: skip
        if not 100 <= reply.status <= 599:
            raise ValueError("status must be 100..599")
        if reply.times < 1:
            raise ValueError("times must be at least 1")
        return reply


@dataclass
class Stats:
    calls: Counter = field(default_factory=Counter)
    writes: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0  # API requests being answered right now
    max_in_flight: int = 0  # the most at one time since the last reset: shows a client's concurrency

    def call(self, operation: str) -> None:
        with self.lock:
            self.calls[operation] += 1

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def write(self, entity: str, n: int = 1) -> None:
        with self.lock:
            self.writes[entity] += n

    def clear(self) -> None:
        with self.lock:
            self.calls.clear()
            self.writes.clear()
            self.max_in_flight = self.in_flight


class SandboxApp:
    """Base of a sandbox API. Subclasses set ``name`` and implement route/error/reset."""

    name = "sandbox"
    # Fault kinds this API can express; None = all.
    fault_kinds: frozenset[str] | None = None

    def __init__(self, latency_ms: float = 0.0):
        self.latency_ms = latency_ms
        self.stats = Stats()
        self.faults = FaultInjector()
        # One lock around every state change keeps the simulated backend consistent
        # under concurrent clients, like a database transaction would.
        self.lock = threading.RLock()
        self.base_url = ""  # set by SandboxServer once bound
        self._raw_replies: list[RawReply] = []  # test only: see add_raw_reply
        self._raw_lock = threading.Lock()

    # --- to implement -------------------------------------------------
    def route(self, request: Request) -> Call | Response:
        raise NotImplementedError

    def error_response(self, status: int, message: str, with_http_200: bool = False) -> Response:
        """An error in this API's own shape (JSON error body, SOAP fault…)."""
        raise NotImplementedError

    def reset(self) -> None:
        """Back to the seeded state."""
        raise NotImplementedError

    def extra_stats(self) -> dict:
        return {}

    def fault_kinds_for(self, operation: str) -> frozenset[str] | None:
        """Fault kinds that can strike this operation (None = all); by default the API's ``fault_kinds``."""
        return self.fault_kinds

    # --- canned raw replies (test only) ----------------------------------
    def add_raw_reply(self, reply: RawReply) -> None:
        """Answer the next ``reply.times`` calls of ``reply.operation`` with ``reply.body`` (first added, first used).

        In-process form of ``POST /_sandbox/raw-reply``; takes bytes of any size (a 20 MB page)."""
        with self._raw_lock:
            self._raw_replies.append(reply)

    def clear_raw_replies(self) -> None:
        with self._raw_lock:
            self._raw_replies.clear()

    def take_raw_reply(self, operation: str) -> RawReply | None:
        with self._raw_lock:
            for i, reply in enumerate(self._raw_replies):
                if reply.operation == operation:
                    reply.times -= 1
                    if reply.times <= 0:
                        del self._raw_replies[i]
                    return reply
        return None

    # --- control endpoints -------------------------------------------
    def control(self, request: Request) -> Response | None:
        if not request.path.startswith("/_sandbox/"):
            return None
        what = request.path[len("/_sandbox/") :].strip("/")
        if what == "faults" and request.method == "POST":
            try:
                cfg = FaultConfig.from_json(json.loads(request.body or b"{}"))
            except (ValueError, TypeError) as exc:
                return Response.json({"error": str(exc)}, 400)
            self.faults.configure(cfg)
            return Response.json({"faults": cfg.as_json()})
        if what == "faults" and request.method == "GET":
            return Response.json({"faults": self.faults.config.as_json()})
        if what == "raw-reply" and request.method == "POST":
            try:
                reply = RawReply.from_json(json.loads(request.body or b"{}"))
            except (ValueError, TypeError) as exc:
                return Response.json({"error": str(exc)}, 400)
            self.add_raw_reply(reply)
            return Response.json({"raw_reply": {"operation": reply.operation, "times": reply.times}})
        if what == "raw-reply" and request.method == "DELETE":
            self.clear_raw_replies()
            return Response.json({"raw_reply": None})
        if what == "reset" and request.method == "POST":
            self.clear_raw_replies()
            with self.lock:
                self.reset()
                self.stats.clear()
                self.faults.injected.clear()
                self.faults.configure(FaultConfig())
            return Response.json({"reset": True})
        if what == "stats" and request.method == "GET":
            with self.stats.lock:
                data = {
                    "calls": dict(self.stats.calls),
                    "total_calls": sum(self.stats.calls.values()),
                    "writes": dict(self.stats.writes),
                    "total_writes": sum(self.stats.writes.values()),
                    "faults_injected": dict(self.faults.injected),
                    "max_in_flight": self.stats.max_in_flight,
                }
            data.update(self.extra_stats())
            return Response.json(data)
        if what == "latency" and request.method == "POST":
            try:
                self.latency_ms = float(json.loads(request.body or b"{}").get("latency_ms", 0))
            except (ValueError, TypeError, AttributeError) as exc:
                return Response.json({"error": str(exc)}, 400)
            return Response.json({"latency_ms": self.latency_ms})
        return Response.json({"error": f"unknown control endpoint {request.method} {request.path}"}, 404)


class _Drop(Exception):
    """Close the connection without a reply (reset or timeout)."""


def _make_handler(app: SandboxApp):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"apicenter-sandbox-{app.name}"

        def setup(self):
            super().setup()
            # Headers and body go out in two writes; without TCP_NODELAY the body waits for the client's
            # delayed ACK (~40 ms a request), which would make every benchmark measure Nagle, not the code.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format, *args):  # noqa: A002 - stdlib signature
            pass  # the stats endpoint tells what happened; stderr stays quiet in tests

        def _request(self) -> Request:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            return Request(
                method=self.command,
                path=parts.path or "/",
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                raw_query=parts.query,
            )

        def _send(self, resp: Response) -> None:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
            for k, v in resp.headers.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)

        def _reset_connection(self) -> None:
            # SO_LINGER with a zero timeout turns close() into a TCP RST.
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.close_connection = True
            raise _Drop

        def _apply_fault(self, fault: Fault) -> Response | None:
            cfg = app.faults.config
            kind = fault.kind
            if kind in ("reset", "lost_reply"):
                self._reset_connection()
            if kind == "timeout":
                time.sleep(cfg.timeout_s)
                self._reset_connection()
            if kind == "slow":
                time.sleep(cfg.slow_s)
                return None
            if kind.startswith("http"):
                status = int(kind[4:])
                resp = app.error_response(status, f"injected fault: HTTP {status}")
                if status == 429:
                    resp.headers["Retry-After"] = "1"
                return resp
            if kind == "error200":
                return app.error_response(500, "injected fault: error with HTTP 200", with_http_200=True)
            if kind == "expired_token":
                return app.error_response(401, "injected fault: access token expired")
            return None

        def _handle(self) -> None:
            try:
                request = self._request()
                control = app.control(request)
                if control is not None:
                    self._send(control)
                    return
                app.stats.enter()
                try:
                    self._answer(request)
                finally:
                    app.stats.leave()
            except _Drop:
                pass
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _answer(self, request) -> None:
            if app.latency_ms:
                time.sleep(app.latency_ms / 1000.0)
            routed = app.route(request)
            if isinstance(routed, Response):
                self._send(routed)
                return
            app.stats.call(routed.operation)
            raw = app.take_raw_reply(routed.operation)
            if raw is not None:
                if raw.apply:
                    routed.run()
                self._send(Response(raw.status, raw.body, raw.content_type))
                return
            fault = app.faults.draw(routed.operation, routed.is_write, app.fault_kinds_for(routed.operation))
            if fault and not fault.after_write:
                injected = self._apply_fault(fault)
                if injected is not None:
                    self._send(injected)
                    return
            resp = routed.run()
            if fault and fault.after_write:
                injected = self._apply_fault(fault)
                if injected is not None:
                    resp = injected
            self._send(resp)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class SandboxServer:
    """Runs a SandboxApp on a real socket in a background thread."""

    def __init__(self, app: SandboxApp, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self.httpd = _Server((host, port), _make_handler(app))
        self.host, self.port = self.httpd.server_address[:2]
        app.base_url = self.url
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, name=f"sandbox-{self.app.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
