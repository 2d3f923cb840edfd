"""MplusSandbox: the MplusKASSA SOAP API on a real socket (see docs/sandbox-mplus.md)."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable
from datetime import datetime

from apicenter_sandbox.faults import KINDS
from apicenter_sandbox.http import Call, Request, Response, SandboxApp
from apicenter_sandbox.world import World
from apicenter_sync.mplus_wsdl import WSDL_PLACEHOLDER_ADDRESS, wsdl_bytes

from . import values
from .codec import CodecError
from .operations import HANDLERS, Handler
from .operations.registry import Rejected
from .operations.system import API_VERSION
from .seed import seed
from .soap import CONTENT_TYPE, ParsedRequest, SoapCodec, SoapFault, fault_body
from .store import MplusStore
from .till import close_shift, ring_up

_ADDRESS = re.compile(rb'(<SOAP:address\s+location=")' + re.escape(WSDL_PLACEHOLDER_ADDRESS.encode()) + rb'(")')
VERSION_HEADER = {"mplus-service-version": ".".join(map(str, API_VERSION))}


class MplusSandbox(SandboxApp):
    name = "mplus"
    # Mplus has no access tokens, so nothing can expire.
    fault_kinds = frozenset(KINDS) - {"expired_token"}

    def __init__(
        self, world: World, *, ident: str = "sandbox", secret: str = "sandbox-secret", latency_ms: float = 0.0,
        seeder: Callable[[MplusStore], None] | None = None,
    ):
        super().__init__(latency_ms=latency_ms)
        self.world = world
        self.seeder = seeder  # instead of the world: what reset() puts in the store (a capture, from_capture.py)
        self.ident = ident
        self.secret = secret
        self.codec = SoapCodec()
        self.clock: Callable[[], datetime] = values.now  # tests may pin the time
        self.store: MplusStore = self._seeded()
        self._wsdl_cache: tuple[str, bytes] | None = None
        self.served_wsdl: bytes | None = None  # POST /_sandbox/wsdl: a live server's other WSDL (None: the bundled)

    # --- SandboxApp ------------------------------------------------------
    def route(self, request: Request) -> Call | Response:
        if request.method in ("GET", "HEAD"):
            if any(key.lower() == "wsdl" for key in request.query):
                return Response(200, self._wsdl(), CONTENT_TYPE)
            return self._not_allowed()
        if request.method != "POST":
            return self._not_allowed()
        if not self._authenticated(request.query):
            return self._fault("Client.Authentication", "Authentication failed: unknown ident or wrong secret")
        try:
            parsed = self.codec.parse(request.body, HANDLERS.keys())
        except SoapFault as fault:
            return self._fault(fault.code, fault.message, fault.status)
        handler = HANDLERS[parsed.operation.name]
        return Call(parsed.operation.name, handler.write, lambda: self._run(handler, parsed))

    def error_response(self, status: int, message: str, with_http_200: bool = False) -> Response:
        return self._fault("Server", message, 200 if with_http_200 else status)

    def _seeded(self) -> MplusStore:
        if self.seeder is None:
            return seed(self.world)
        store = MplusStore()
        self.seeder(store)
        return store

    def reset(self) -> None:
        with self.lock:
            self.store = self._seeded()
            self.served_wsdl, self._wsdl_cache = None, None

    def control(self, request: Request) -> Response | None:
        # The till's own acts (no API operation creates a receipt or closes a shift): ring up a receipt or an
        # invoice, close a workplace's shift (till.py). The body is JSON; the stored record comes back.
        path = request.path.lower().rstrip("/")
        if path in ("/_sandbox/till/sale", "/_sandbox/till/close") and request.method == "POST":
            try:
                body = json.loads(request.body or b"{}")
                with self.lock:
                    stored = ring_up(self, body) if path.endswith("sale") else close_shift(self, body)
            except Rejected as exc:
                return Response.json({"error": exc.message}, 400)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                return Response.json({"error": f"{type(exc).__name__}: {exc}"}, 400)
            return Response.json(stored)
        # POST /_sandbox/wsdl with a WSDL as the body: ?wsdl serves it from now on, as a server of another version
        # would (the doctor compares it with the bundled one); an empty body serves the bundled WSDL again.
        if path == "/_sandbox/wsdl" and request.method == "POST":
            with self.lock:
                self.served_wsdl, self._wsdl_cache = (request.body or None), None
            return Response.json({"wsdl": "custom" if self.served_wsdl else "bundled"})
        return super().control(request)

    def extra_stats(self) -> dict:
        with self.lock:
            return {"sync_markers": dict(self.store.markers), "counts": self.store.counts()}

    # --- helpers ---------------------------------------------------------
    def now(self) -> datetime:
        return self.clock()

    def _run(self, handler: Handler, parsed: ParsedRequest) -> Response:
        try:
            with self.lock:
                data = handler.run(self, parsed.params)
            # Stored dicts are replaced, never mutated, so the reply can be written outside the lock.
            body = self.codec.reply(parsed.operation, data)
        except SoapFault as fault:
            return self._fault(fault.code, fault.message, fault.status)
        except CodecError as exc:
            return self._fault("Server", f"sandbox reply violates the WSDL: {exc}")
        except Exception as exc:  # a sandbox bug must still answer like a server would
            return self._fault("Server", f"internal sandbox error in {handler.name}: {type(exc).__name__}: {exc}")
        return Response(200, body, CONTENT_TYPE, dict(VERSION_HEADER))

    def _authenticated(self, query: dict[str, str]) -> bool:
        ident, secret = query.get("ident", ""), query.get("secret", "")
        return hmac.compare_digest(ident.encode(), self.ident.encode()) and hmac.compare_digest(
            secret.encode(), self.secret.encode()
        )

    def _wsdl(self) -> bytes:
        address = self.base_url + "/"
        if self._wsdl_cache is None or self._wsdl_cache[0] != address:
            source = self.served_wsdl or wsdl_bytes()
            text, n = _ADDRESS.subn(lambda m: m.group(1) + address.encode() + m.group(2), source)
            if n != 1 and self.served_wsdl is None:
                raise RuntimeError("the bundled WSDL has no single <SOAP:address> placeholder to rewrite")
            self._wsdl_cache = (address, text)
        return self._wsdl_cache[1]

    @staticmethod
    def _fault(code: str, message: str, status: int = 500) -> Response:
        return Response(status, fault_body(code, message), CONTENT_TYPE, dict(VERSION_HEADER))

    @staticmethod
    def _not_allowed() -> Response:
        return Response(405, b"Method Not Allowed\n", "text/plain; charset=utf-8", {"Allow": "POST"})
