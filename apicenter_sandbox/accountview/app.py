"""The AccountView.Net Web API v3 sandbox: routing, bearer and x-company checks, reads and writes.

Operation names (for ``/_sandbox/stats`` and the ``operations`` filter of fault
injection): ``GET authorize``, ``POST token``, ``GET companies``, ``GET businessobjects``,
``GET systemdata``, and ``GET <BO>`` / ``POST <BO>`` / ``PUT <BO>`` per business object (the sandbox's own codes,
whatever names a variant shows).

``variant`` (``variant.py``): serve the same data as a tenant whose assumed names differ.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from ..faults import KINDS
from ..http import Call, Request, Response, SandboxApp
from ..world import World
from . import assumptions as A
from .envelope import parse_envelope
from .errors import AccountViewError, error_response, from_exception
from .oauth import AccessToken, OAuthServer
from .query import ordered_keys as query_keys
from .query import page_of as query_page
from .query import parse_query, render, render_rows
from .schema import OBJECTS
from .seed import seed
from .store import Store, Table
from .system import business_objects, system_data
from .values import wire_datetime
from .variant import Variant
from .variant import variant as variant_named
from .writes import Writer

API = "/api/v3"


class SandboxClock:
    """Wall-clock time shifted so that it never lies before the seeded change dates.

    The world's change dates lie in 2026; without the shift a machine whose clock is
    earlier would stamp new writes *before* the seeded rows and break every
    ``CNG_DATE`` watermark."""

    def __init__(self, not_before: datetime):
        self.offset = max(timedelta(0), not_before - datetime.now())

    def __call__(self) -> datetime:
        return (datetime.now() + self.offset).replace(microsecond=0)


class AccountViewSandbox(SandboxApp):
    name = "accountview"

    def __init__(self, world: World, *, client_id: str = "sandbox-client", client_secret: str = "sandbox-client-secret",
                 latency_ms: float = 0.0, access_token_ttl_s: int = A.ACCESS_TOKEN_TTL_S,
                 refresh_grace_s: float = A.REFRESH_GRACE_S, clock: Callable[[], datetime] | None = None,
                 variant: str | Variant | None = None, seeder: Callable[[Store], None] | None = None,
                 not_before: datetime | None = None):  # fmt: skip
        super().__init__(latency_ms=latency_ms)
        self.world = world
        self.variant: Variant | None = variant_named(variant) if isinstance(variant, str | None) else variant
        self.seeder = seeder  # instead of the world: what reset() puts in the store (a capture, from_capture.py)
        self.oauth = OAuthServer(client_id, client_secret, access_token_ttl_s, refresh_grace_s)
        self.company = {
            "Id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"apicenter-sandbox:accountview:{world.seed}:{world.size}")),
            "Description": world.company_name,
            "Code": "DEMO",
        }
        last_seeded = not_before or max(
            [a.changed for a in world.articles]
            + [c.changed for c in world.customers]
            + [o.created for o in world.orders]
        )
        self.clock = clock or SandboxClock(last_seeded + timedelta(minutes=1))
        self.store = Store()
        self.edge: dict[str, str] = {}
        self.reset()

    # --- in-process inspection -------------------------------------------------------
    @property
    def tables(self) -> dict[str, Table]:
        return self.store.tables

    def row(self, table: str, key: str) -> dict | None:
        """A stored row with every field filled in, as a GET would show it (without housekeeping keys)."""
        t = self.store[table]
        stored = t.get(key)
        return None if stored is None else {**t.schema.defaults, **stored}

    # --- SandboxApp ------------------------------------------------------------------
    def reset(self) -> None:
        store = Store()
        (self.seeder or (lambda s: seed(s, self.world)))(store)
        with self.lock:
            self.store = store
            self.edge = dict(self.world.edge)

    def extra_stats(self) -> dict:
        with self.lock:
            return {"rows": {name: len(table) for name, table in self.store.tables.items()}}

    def error_response(self, status: int, message: str, with_http_200: bool = False) -> Response:
        return error_response(status, message, None, with_http_200)

    def fault_kinds_for(self, operation: str) -> frozenset[str] | None:
        # The OAuth endpoints take no access token, so none can be "expired" there (client credentials, codes and
        # refresh tokens fail differently); every other kind can strike them.
        if operation in ("POST token", "GET authorize"):
            return frozenset(KINDS) - {"expired_token"}
        return self.fault_kinds

    def control(self, request: Request) -> Response | None:
        if request.path.lower().rstrip("/") == "/_sandbox/expire-tokens" and request.method == "POST":
            return Response.json({"expired_access_tokens": self.oauth.expire_access_tokens()})
        if request.path.lower().rstrip("/") == "/_sandbox/touch" and request.method == "POST":
            try:
                body = json.loads(request.body or b"{}")
                touched = self.touch(str(body.get("table", "")).upper(), int(body.get("count", 0)))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                return Response.json({"error": str(exc)}, 400)
            return Response.json({"touched": touched})
        return super().control(request)

    # Per table: the field a touch changes and how (benchmarks: "1 % of the records changed").
    TOUCH = {
        "ARTICLE": ("PX_SELL", lambda v: round(float(v or 0) + 0.01, 2)),
        "CONTACT": ("TEL_BUS", lambda v: (str(v or "").rstrip() + "9")[-20:]),
        A.STOCK.table: (A.STOCK.fields["on_hand"].name, lambda v: float(v or 0) + 1.0),
    }

    def touch(self, table: str, count: int) -> list[str]:
        """Change ``count`` rows of ``table``, spread evenly over it, as a user's edit would (CNG_DATE, CNG_NR).

        ``POST /_sandbox/touch {"table": "ARTICLE", "count": 1000}``; the keys changed come back. Not counted
        as an API call or write: it stands for edits made in AccountView itself."""
        if table not in self.TOUCH:
            raise ValueError(f"touch knows the tables {', '.join(self.TOUCH)}, not {table!r}")
        field_name, change = self.TOUCH[table]
        with self.lock:
            t = self.store[table]
            keys = sorted(t.rows)
            count = max(0, min(count, len(keys)))
            if not count:
                return []
            step = len(keys) / count
            chosen = [keys[int(i * step)] for i in range(count)]
            now = wire_datetime(self.clock())
            for key in chosen:
                row = t.rows[key]
                changes = {field_name: change(t.value(row, field_name)), "CNG_DATE": now,
                           "CNG_NR": int(row.get("CNG_NR", 0)) + 1}  # fmt: skip
                if table == A.STOCK.table:
                    f = A.STOCK.fields
                    on_hand = changes[field_name]
                    changes[f["available"].name] = on_hand - float(t.value(row, f["reserved"].name) or 0)
                t.update(key, changes)
        return chosen

    def route(self, request: Request) -> Call | Response:
        path = request.path.lower().rstrip("/")
        method = request.method
        if path == "/ams/authorize.aspx" and method == "GET":
            return Call("GET authorize", False, lambda: self.oauth.authorize(request.query))
        if path == f"{API}/token" and method == "POST":
            # A write: a refresh rotates the token, so a lost reply matters (see refresh_grace_s).
            return Call(
                "POST token", True, lambda: self.oauth.token(request.headers.get("content-type", ""), request.body)
            )
        if path == f"{API}/companies":
            if method != "GET":
                return self._error(AccountViewError("not_allowed", f"{method} is not possible on /companies"))
            refused = self._authenticate(request)
            if isinstance(refused, Response):
                return refused
            return Call("GET companies", False, lambda: Response.json([dict(self.company)]))
        if path == f"{API}/accountviewdata":
            return self._data(request)
        if path in (f"{API}/accountviewsystembusinessobjects", f"{API}/accountviewsystemdata"):
            return self._system(request, path.rsplit("/", 1)[-1])
        return self._error(AccountViewError("not_found", f"no such endpoint: {request.method} {request.path}"))

    # --- /accountviewsystembusinessobjects, /accountviewsystemdata --------------------
    def _system(self, request: Request, endpoint: str) -> Call | Response:
        refused = self._company_checked(request)
        if isinstance(refused, Response):
            return refused
        if request.method != "GET":
            return self._error(AccountViewError("not_allowed", f"{request.method} is not possible on /{endpoint}"))
        if endpoint == "accountviewsystembusinessobjects":
            return Call("GET businessobjects", False, lambda: Response.json(business_objects(self.variant)))
        try:
            body = system_data(request.query_ci(), self.variant)
        except AccountViewError as exc:
            return self._error(exc)
        return Call("GET systemdata", False, lambda: Response.json(body))

    # --- /accountviewdata ------------------------------------------------------------
    def _company_checked(self, request: Request) -> AccessToken | Response:
        """The bearer token when the request carries a valid one and this company's x-company, else the error."""
        token = self._authenticate(request)
        if isinstance(token, Response):
            return token
        company = (request.headers.get("x-company") or "").strip()
        if not company:
            return self._error(
                AccountViewError(
                    "bad_request", "header x-company is missing: send the Id of a company from GET /api/v3/companies"
                )
            )
        if company.lower() != self.company["Id"].lower():
            return self._error(AccountViewError("forbidden", f"x-company {company!r} is not a company of this user"))
        return token

    def _data(self, request: Request) -> Call | Response:
        token = self._company_checked(request)
        if isinstance(token, Response):
            return token
        try:
            if request.method == "GET":
                params = request.query_ci()
                if self.variant:
                    params = self.variant.query_in(params, _tables_of)
                query = parse_query(params)
                return Call(f"GET {query.bo.code}", False, lambda: self._read(query))
            if request.method in ("POST", "PUT"):
                if not token.scopes & A.WRITE_SCOPES:
                    raise AccountViewError(
                        "forbidden",
                        f"the access token's scope {token.scope!r} does not allow writes (updateaccountviewdata)",
                    )
                body = self.variant.envelope_in(request.body, _tables_of) if self.variant else request.body
                envelope = parse_envelope(body)
                if self.variant:
                    self.variant.check_lengths(envelope)
                write = "post" if request.method == "POST" else "put"
                return Call(f"{request.method} {envelope.bo.code}", True, lambda: self._write(write, envelope))
        except AccountViewError as exc:
            return self._error(exc)
        return self._error(AccountViewError("not_allowed", f"{request.method} is not possible on /accountviewdata"))

    def _read(self, query) -> Response:
        with self.lock:
            header = self.store[query.bo.header]
            keys = query_page(query_keys(header, query), query)
            body = render(self.store, query, keys)
        if self.variant:
            body = self.variant.tables_out(body)
        return Response(200, json.dumps(body, ensure_ascii=False).encode())

    def _write(self, kind: str, envelope) -> Response:
        try:
            with self.lock:
                writer = Writer(self.store, self.clock)
                written = writer.post(envelope) if kind == "post" else writer.put(envelope)
                body = {}
                for table, keys in written.items():
                    self.stats.write(table, len(keys))
                    body[table] = render_rows(self.store[table], keys, None)
        except AccountViewError as exc:
            return self._error(exc)
        if self.variant:
            body = self.variant.tables_out(body)
        return Response(200, json.dumps(body, ensure_ascii=False).encode())

    def _authenticate(self, request: Request) -> AccessToken | Response:
        checked = self.oauth.check(request.headers.get("authorization"))
        if isinstance(checked, str):
            return self._error(AccountViewError("unauthorized", checked))
        return checked

    def _error(self, exc: AccountViewError) -> Response:
        if self.variant and not getattr(exc, "tenant_names", False):
            exc.message = self.variant.text_out(exc.message)
        return from_exception(exc)


def _tables_of(code: str) -> tuple[str, ...]:
    bo = OBJECTS.get(code.strip().upper())
    return bo.tables if bo else ()
