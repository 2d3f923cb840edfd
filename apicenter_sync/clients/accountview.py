"""Client of the AccountView.Net Web API v3 (REST/JSON, OAuth 2.0) for one company.

One ``httpx.Client`` (keep-alive) per client. Every request goes through :meth:`AccountViewClient._call`, the single
place that adds the bearer token, refreshes it, maps failures (:mod:`.accountview_errors`) and retries transient
ones (:func:`~apicenter_sync.retry.call_with_retry`). Creates (POST) are never repeated once they may have reached
the server: they raise :class:`~.accountview_errors.WriteOutcomeUnknown` (``maybe_applied = True``) and the caller
verifies by key. See docs/clients.md for the contract.

Modules: ``accountview_oauth`` (tokens, token store, OAuth), ``accountview_filters`` (the filter builder),
``accountview_values`` (envelope, exact numbers, dates), ``accountview_errors`` (error mapping).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime

import httpx

from ..errors import AuthError, ConfigError, PermanentError, SyncError, TransientError
from ..i18n import msg
from ..identifiers import check_identifier
from ..profile import ApiProfile
from ..redact import MASK
from ..retry import RetryPolicy, call_with_retry
from . import accountview_errors as errs
from .accountview_filters import Filter, filter_params
from .accountview_oauth import AccountViewOAuth, Tokens, TokenStore
from .accountview_values import build_envelope, clean_row, dumps, wire_book_date
from .counters import CallCounters
from .limits import ACCEPT_ENCODING, CallLimits, HttpReply, bound_httpx_client

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=10, read=60, write=30, pool=10)
DEFAULT_RETRY = RetryPolicy()  # 4 tries, 0.5 s doubling, jitter
DATA_PATH = "/accountviewdata"
BUSINESS_OBJECTS_PATH = "/accountviewsystembusinessobjects"  # [C S1]
SYSTEM_DATA_PATH = "/accountviewsystemdata"  # [C S1]: the data dictionary and other system tables
MAX_PAGE_SIZE = 1000  # the largest page size seen in public clients (research §8)
# A write whose reply never came (a timeout) may still land later: AccountView may finish a request after we gave
# up on it. Its record is looked up again only after this many of our deadlines (docs/reliability.md, Limits).
SETTLE_DEADLINES = 10


class _Stop(Exception):
    """Carries a transient error out of call_with_retry without another try (a create that may have landed)."""

    def __init__(self, error: TransientError):
        super().__init__()
        self.error = error


class AccountViewClient(CallCounters):
    """The Web API of one AccountView.Net company. Thread-safe; share one per connection."""

    def __init__(self, api_url: str, oauth: AccountViewOAuth, token_store: TokenStore, company_id: str | None = None,
                 *, timeout: httpx.Timeout | float = DEFAULT_TIMEOUT, retry: RetryPolicy = DEFAULT_RETRY,
                 verify_tls: bool = True, on_retry: Callable[[int, TransientError, float], None] | None = None,
                 http2: bool = False, profile: ApiProfile | None = None,
                 refresh_margin_s: float = 120.0, fresh_token_s: float = 5.0,
                 max_refused_refreshes: int = 3, limits: CallLimits | None = None):  # fmt: skip
        self.api_url = api_url.rstrip("/")
        self.oauth = oauth
        self.token_store = token_store
        self.company_id = company_id
        self.retry = retry
        self.on_retry = on_retry
        self.refresh_margin_s = refresh_margin_s  # refresh this long before the access token expires
        # A 401 on a token this client got from a refresh less than fresh_token_s ago is taken for propagation lag
        # (the new token not yet known to every API node): retried with backoff, not refreshed again (except on the
        # call's last try). max_refused_refreshes refreshes in a row whose new token was refused at once, with no
        # request accepted in between, mean the access is really refused: AuthError.
        self.fresh_token_s = fresh_token_s
        self.max_refused_refreshes = max_refused_refreshes
        self.use_profile(profile or ApiProfile.default())
        self._http = httpx.Client(timeout=timeout, verify=verify_tls, http2=http2,
                                  headers={"Accept": "application/json", "User-Agent": "apicenter-sync/accountview",
                                           "Accept-Encoding": ACCEPT_ENCODING},
                                  follow_redirects=False)  # fmt: skip
        # One deadline over the whole call and a cap on the reply (limits.py); the OAuth client shares them.
        self.limits = limits or getattr(oauth, "limits", None) or CallLimits()
        bound_httpx_client(self._http)
        CallCounters.__init__(self)
        self._refresh_lock = threading.Lock()  # one refresh at a time: refresh tokens rotate
        self._fresh: tuple[str, float] | None = None  # (access token, time.monotonic()) of this client's last refresh
        self._refused_lock = threading.Lock()
        self._refused_refreshes = 0  # refreshes in a row whose new token got a 401 straight away
        self.capture = None  # a Capture (apicenter_sync.capture): every request/reply pair, redacted

    @property
    def settle_seconds(self) -> float:
        """How long after a write without reply its record must not be looked up again (SETTLE_DEADLINES of the
        shorter of the read timeout and the call's deadline): a lookup sooner may miss a write still under way."""
        read = self._http.timeout.read
        waited = min(read, self.limits.deadline_s) if read else self.limits.deadline_s
        return SETTLE_DEADLINES * waited

    def __repr__(self) -> str:
        return f"AccountViewClient(api_url={self.api_url!r}, company_id={self.company_id!r}, tokens={MASK!r})"

    def use_profile(self, profile: ApiProfile) -> None:
        """Take the lastKey paging key of every table from the API profile (other tables page on its default key)."""
        self.table_keys = profile.accountview.table_keys()
        self.default_key = profile.accountview.default_key.upper()

    # --- lifecycle and counters ------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AccountViewClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


    # --- reads -----------------------------------------------------------------------------
    def companies(self) -> list[dict]:
        """``GET /companies``: ``[{"Id", "Description", "Code"}]``; ``Id`` is what ``company_id`` must be."""
        operation = "GET companies"
        body = self._call("GET", "/companies", operation, company=False)
        if not isinstance(body, list) or not all(isinstance(c, dict) for c in body):
            raise errs.malformed(msg("clients.companies_not_a_list"), operation, is_create=False)
        return [clean_row(c) for c in body]

    def business_objects(self) -> list[dict]:
        """``GET /accountviewsystembusinessobjects``: ``[{"Code", "Description", "InsertAllowed", "UpdateAllowed",
        "DeleteAllowed"}]``."""
        operation = "GET businessobjects"
        body = self._call("GET", BUSINESS_OBJECTS_PATH, operation)
        if not isinstance(body, list) or not all(isinstance(b, dict) for b in body):
            raise errs.malformed(msg("clients.business_objects_not_a_list"), operation, is_create=False)
        return [clean_row(b) for b in body]

    def system_rows(self, system_object: str, table: str, *, filters: Sequence[Filter] = (),
                    page_size: int = MAX_PAGE_SIZE, max_pages: int = 50) -> Iterator[dict]:  # fmt: skip
        """Rows of a system table (``/accountviewsystemdata``, e.g. the data dictionary), paged by page number."""
        base = {"BusinessObject": system_object, "PageSize": str(page_size), **filter_params(filters)}
        operation = f"GET system {system_object.upper()}"
        for number in range(1, max_pages + 1):
            body = self._call("GET", SYSTEM_DATA_PATH, operation, params={**base, "PageNumber": str(number)})
            rows = self._tables(body, operation).get(table.upper(), [])
            yield from rows
            if len(rows) < page_size:
                return

    def refresh_tokens(self) -> Tokens:
        """Refresh the access token now (and store the rotated pair), e.g. to check that refreshing works."""
        return self._refresh(self._current_tokens())

    def iter_pages(self, business_object: str, table: str, *, filters: Sequence[Filter] = (), match_any: bool = False,
                   fields: Sequence[str] | str | None = None, sort: Sequence[str] | str | None = None,
                   descending: bool = False, page_size: int = MAX_PAGE_SIZE, use_last_key: bool | None = None,
                   key: str | None = None, book_date: date | str | None = None,
                   start_after: str | None = None) -> Iterator[dict[str, list[dict]]]:  # fmt: skip
        """Pages of ``business_object`` as ``{table: rows}`` dicts (header and detail tables side by side, e.g. a
        sales order's header and lines), one request per page, fetched as you iterate: memory does not grow with the
        table. ``table`` is the header table; ``page_size`` counts its rows; a shorter page ends the iteration.

        Paging: ``lastKey`` (keyset, robust against inserts while paging) when sorting by the table's key
        (``key``, default from ``table_keys``) or not sorting at all; ``PageNumber`` otherwise. ``use_last_key``
        forces one style. With keyset paging and ``fields``, the key field is added to ``fields``. ``start_after``
        (keyset paging only): begin after the row with this key, where an earlier read stopped."""
        # A wrong call (TypeError: a programmer's mistake, never the data's; flows pass fixed sizes).
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise TypeError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        header = table.upper()
        key = (key or self.table_keys.get(header, self.default_key)).upper()
        sort_fields = [s.strip().upper() for s in ([sort] if isinstance(sort, str) else list(sort or []))]
        by_key = sort_fields in ([], [key])
        keyset = by_key if use_last_key is None else use_last_key
        if keyset and not by_key:
            raise TypeError(f"lastKey paging follows the key {key}; it cannot be combined with sort={sort_fields}")
        if start_after is not None and not keyset:
            raise TypeError("start_after needs lastKey paging")
        field_list = [f.strip() for f in (fields.split(",") if isinstance(fields, str) else list(fields or []))]
        if (
            keyset
            and field_list
            and "*" not in field_list
            and key not in {f.split(".")[-1].upper() for f in field_list}
        ):
            field_list.append(key)  # the next page starts after the last row's key: it must be in the rows
        base: dict[str, str] = {"BusinessObject": business_object, "PageSize": str(page_size)}
        if field_list:
            base["Fields"] = ",".join(field_list)
        if sort_fields:
            base["SortFields"] = ",".join(sort_fields)
        if descending:
            base["SortOrder"] = "Descending"
        if book_date is not None:
            base["BookDate"] = wire_book_date(book_date)
        base.update(filter_params(filters, match_any=match_any))
        operation = f"GET {business_object.upper()}"
        last_key: str | None = start_after
        page_number = 1
        while True:
            params = dict(base)
            if keyset and last_key is not None:
                params["lastKey"] = last_key
            elif not keyset:
                params["PageNumber"] = str(page_number)
            tables = self._tables(self._call("GET", DATA_PATH, operation, params=params), operation)
            rows = tables.get(header)
            if rows is None:
                if tables and any(tables.values()):
                    text = msg("clients.no_table", object=business_object, table=header, tables=list(tables))
                    raise PermanentError(text, system=errs.SYSTEM, operation=operation)
                rows = []
            if rows:
                yield tables
            if len(rows) < page_size:
                return
            if keyset:
                next_key = rows[-1].get(key)
                if next_key in (None, ""):
                    raise PermanentError(msg("clients.rows_without_key", table=header, key=key), system=errs.SYSTEM,
                                         operation=operation)  # fmt: skip
                if str(next_key) == last_key:  # a server that ignores lastKey would make this loop forever
                    raise errs.malformed(msg("clients.paging_stuck", key=key, value=str(next_key)[:100]), operation,
                                         is_create=False)  # fmt: skip
                last_key = str(next_key)
            else:
                page_number += 1

    def paging_key(self, table: str) -> str:
        """The field lastKey paging of ``table`` follows (the profile's key of the table, else its default key)."""
        return self.table_keys.get(table.upper(), self.default_key)

    def first_page(self, business_object: str, *, page_size: int = 1) -> dict[str, list[dict]]:
        """One page of ``business_object`` as ``{table: rows}``, whatever tables it answers with (the doctor learns
        an object's tables this way). One request."""
        operation = f"GET {business_object.upper()}"
        params = {"BusinessObject": business_object, "PageSize": str(page_size), "PageNumber": "1"}
        return self._tables(self._call("GET", DATA_PATH, operation, params=params), operation)

    def iter_rows(self, business_object: str, table: str, **options) -> Iterator[dict]:
        """Rows of ``table`` (usually the header table), streamed page by page; options as :meth:`iter_pages`.
        For a detail table, pass the header table via ``iter_pages`` instead: paging counts header rows."""
        header = table.upper()
        for page in self.iter_pages(business_object, header, **options):
            yield from page.get(header, [])

    def get_one(self, business_object: str, table: str, filters: Sequence[Filter], *, match_any: bool = False,
                fields: Sequence[str] | str | None = None, book_date: date | str | None = None) -> dict | None:  # fmt: skip
        """The first row of ``table`` matching ``filters`` (in key order), or None. One request."""
        pages = self.iter_pages(business_object, table, filters=filters, match_any=match_any, fields=fields,
                                page_size=1, use_last_key=False, book_date=book_date)  # fmt: skip
        first = next(pages, None)
        pages.close()
        return first[table.upper()][0] if first else None

    # --- writes ----------------------------------------------------------------------------
    def create(self, business_object: str, table: str, rows: Sequence[Mapping[str, object]] | Mapping[str, object],
               *, detail_table: str | None = None,
               detail_rows: Sequence[Mapping[str, object]] | Sequence[Sequence[Mapping[str, object]]] | None = None,
               fields_types: Mapping[str, str] | None = None,
               book_date: date | datetime | str | None = None) -> dict[str, list[dict]]:  # fmt: skip
        """POST new records; returns the stored rows as the server echoes them, keyed by table (the server-assigned
        debtor number, invoice number…). Never retried once the request may have reached the server: then
        :class:`WriteOutcomeUnknown` (``maybe_applied``) is raised and the caller must look the record up first."""
        rows = [rows] if isinstance(rows, Mapping) else list(rows)
        doc = build_envelope(business_object, table.upper(), rows, detail_table=detail_table and detail_table.upper(),
                             detail_rows=detail_rows, field_types=fields_types, book_date=book_date)  # fmt: skip
        operation = f"POST {business_object.upper()}"
        body = self._call("POST", DATA_PATH, operation, content=dumps(doc), idempotent=False, is_create=True)
        return self._tables(body, operation)

    def update(self, business_object: str, table: str, row: Mapping[str, object], key_field: str, *,
               fields_types: Mapping[str, str] | None = None,
               book_date: date | datetime | str | None = None) -> dict[str, list[dict]]:  # fmt: skip
        """PUT the fields in ``row`` onto the existing record named by ``row[key_field]``; only these fields change.
        Idempotent, so retried like a read. A missing record raises AccountViewRecordError with status 404."""
        if not any(k.upper() == key_field.upper() and row[k] not in (None, "") for k in row):
            raise TypeError(f"update needs the key {key_field} in the row")  # a wrong call: flows pass a known key
        doc = build_envelope(business_object, table.upper(), [row], field_types=fields_types, book_date=book_date)
        operation = f"PUT {business_object.upper()}"
        return self._tables(self._call("PUT", DATA_PATH, operation, content=dumps(doc), is_write=True), operation)

    # --- the one call path -----------------------------------------------------------------
    def _call(self, method: str, path: str, operation: str, *, params: Mapping[str, str] | None = None,
              content: bytes | None = None, idempotent: bool = True, is_create: bool = False,
              is_write: bool | None = None, company: bool = True) -> object:  # fmt: skip
        """Send one API request with retries; returns the parsed JSON. ``idempotent=False``: transient errors that
        may have been applied are raised at once instead of retried."""
        is_write = is_create if is_write is None else is_write
        tries = 0

        def attempt() -> object:
            nonlocal tries
            tries += 1
            last_try = tries >= self.retry.attempts
            try:
                return self._once(method, path, operation, params, content, company, is_write, is_create, last_try)
            except TransientError as err:
                if not idempotent and getattr(err, "maybe_applied", True):
                    raise _Stop(err) from None
                raise

        try:
            return call_with_retry(attempt, self.retry, on_retry=self._retried(operation))
        except _Stop as stop:
            error = stop.error
        raise error  # outside the handler: nothing chained

    def _retried(self, operation: str) -> Callable[[int, TransientError, float], None]:
        def retried(n: int, err: TransientError, delay: float) -> None:
            self._count_retry(operation)
            log.info("accountview %s: try %d failed (%s), retrying in %.2fs", operation, n, err.message, delay)
            if self.on_retry:
                self.on_retry(n, err, delay)

        return retried

    def _once(self, method: str, path: str, operation: str, params, content, company: bool, is_write: bool,
              is_create: bool, last_try: bool = True) -> object:  # fmt: skip
        tokens = self._current_tokens()
        response = self._send(method, path, operation, params, content, company, tokens, is_create)
        refreshed = False
        if response.status_code == 401 and (last_try or not self._is_fresh(tokens)):
            # Expired or revoked access token: refresh and send again. Safe for a POST too, because a 401 is
            # answered before anything is written. A token refreshed moments ago is not refreshed again (each
            # refresh rotates the refresh token) unless this is the call's last try.
            tokens = self._refresh(tokens)
            refreshed = True
            response = self._send(method, path, operation, params, content, company, tokens, is_create)
        if response.status_code == 401:
            raise self._refused(response, operation, refreshed)
        with self._refused_lock:
            self._refused_refreshes = 0  # the token was accepted
        return self._parse(response, operation, is_write, is_create)

    def _is_fresh(self, tokens: Tokens) -> bool:
        fresh = self._fresh
        return (fresh is not None and fresh[0] == tokens.access_token
                and time.monotonic() - fresh[1] < self.fresh_token_s)  # fmt: skip

    def _refused(self, response: HttpReply, operation: str, refreshed: bool) -> SyncError:
        """A 401 on a token that a refresh has just issued (the refresh itself succeeded; a refused refresh raises
        AuthError in AccountViewOAuth): transient, unless it keeps happening over several refreshes."""
        with self._refused_lock:
            if refreshed:
                self._refused_refreshes += 1
            refused = self._refused_refreshes
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if refreshed and refused >= self.max_refused_refreshes:
            return errs.from_response(401, response.headers, body, operation, is_write=False, is_create=False,
                                      refreshes=refused)  # fmt: skip
        return errs.refused_after_refresh(body, operation)

    def _send(self, method: str, path: str, operation: str, params, content, company: bool, tokens: Tokens,
              is_create: bool) -> HttpReply:  # fmt: skip
        headers = {"Authorization": f"Bearer {tokens.access_token}"}
        if company:
            if not self.company_id:
                raise ConfigError(msg("clients.no_company"),
                                  system=errs.SYSTEM, operation=operation)  # fmt: skip
            # Checked here, on its way into the header: a non-ASCII id is a message, not a UnicodeEncodeError.
            headers["x-company"] = check_identifier(self.company_id, msg("input.field_company_id"), ascii_only=True)
        if content is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        self._count(operation)
        request = self._http.build_request(method, self.api_url + path, params=params, content=content,
                                           headers=headers)  # fmt: skip
        response = errs.send(self._http, request, self.limits, operation, is_create=is_create)
        if self.capture is not None:
            self.capture.accountview(method, path, operation, params, content, response.status_code, response.content)
        return response

    @staticmethod
    def _parse(response: HttpReply, operation: str, is_write: bool, is_create: bool) -> object:
        try:
            body, is_json = (response.json(), True) if response.content else (None, False)
        except ValueError:
            body, is_json = None, False
        if response.status_code != 200:
            raise errs.from_response(response.status_code, response.headers, body, operation,
                                     is_write=is_write, is_create=is_create)  # fmt: skip
        if not is_json:
            raise errs.malformed(msg("clients.not_json"), operation, is_create=is_create)
        if errs.error_fields(body):  # AccountView sometimes answers an error with HTTP 200 (research §5.5)
            raise errs.from_response(200, response.headers, body, operation, is_write=is_write, is_create=is_create)
        return body

    @staticmethod
    def _tables(body: object, operation: str) -> dict[str, list[dict]]:
        """``{"TABLE": [rows]}`` with upper-case table names and right-stripped text."""
        if not isinstance(body, dict):
            raise errs.malformed(msg("clients.not_tables"), operation, is_create=False)
        tables: dict[str, list[dict]] = {}
        for name, rows in body.items():
            if isinstance(rows, dict):  # one row instead of a list: seen guarded against in client code [C S3]
                rows = [rows]
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise errs.malformed(msg("clients.not_rows", table=str(name)[:100]), operation, is_create=False)
            tables[str(name).upper()] = [clean_row(r) for r in rows]
        return tables

    # --- tokens ----------------------------------------------------------------------------
    def _current_tokens(self) -> Tokens:
        tokens = self.token_store.get()
        if tokens is None or not tokens.access_token:
            raise AuthError(msg("clients.not_connected"), system=errs.SYSTEM, operation="token")
        if tokens.expires_within(self.refresh_margin_s):
            tokens = self._refresh(tokens)
        return tokens

    def _refresh(self, stale: Tokens) -> Tokens:
        """Refresh once, save the rotated tokens at once, and let concurrent callers reuse the result."""
        with self._refresh_lock:
            current = self.token_store.get() or stale
            if current.access_token != stale.access_token and not current.expires_within(self.refresh_margin_s):
                return current  # another thread (or process sharing the store) refreshed meanwhile

            # One try only: a transient failure here fails the whole attempt of the API call, and call_with_retry
            # around that tries again, refresh included. If the lost try had rotated the token, the old refresh
            # token is accepted once more within the server's grace window (see AccountViewOAuth.refresh).
            self._count("POST token")
            fresh = self.oauth.refresh(current.refresh_token)
            # Saved before it is used: the old refresh token is dead now, a restart must find the new one.
            self.token_store.save(fresh)
            self._fresh = (fresh.access_token, time.monotonic())
            log.info("accountview: access token refreshed (expires_at=%s)", fresh.expires_at)
            return fresh
