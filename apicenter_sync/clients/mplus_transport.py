"""HTTP for the Mplus client: keep-alive ``http.client`` connections behind a zeep Transport, credentials kept out
of logs.

Why the standard library and not requests (or httpx, the project's HTTP library for AccountView): every Mplus
write is one small SOAP POST, and per call http.client costs the client process about a fifth of the CPU of
requests and a quarter of httpx's (bench/http_stack_bench.py, bench/README.md "HTTP stack"). What we need from a
library is little and is here: a pool of keep-alive connections, the call limits, TLS verification.

- **Pool** (:class:`ConnectionPool`, what :func:`make_session` returns and ``MplusClient.session`` holds): idle
  connections per address. A call takes one (or opens one) and gives it back once its reply is read to the end, so
  calls in a row share one connection and calls from several threads each get their own; at most ``size`` idle
  ones are kept per address. An idle connection the server has closed is noticed before it is used (it is
  readable) and replaced; a connection that fails while a request is on it is never retried here: the error goes
  to the client, whose retry rules know whether the request may be sent again.
- **Limits** (:mod:`.limits`): one deadline for the whole call: connect, the TLS handshake, sending, and every read
  of the status line, headers and body each get at most the time left (a server dripping one byte a second cannot
  hold the call); the body is streamed up to the byte cap (counted decoded: gzip and deflate are asked for and
  inflated in bounded steps by :func:`.limits.decoded`, one layer only);
  no redirect is followed (a 3xx comes back as it is; the client refuses it).
- **Errors** are raised as requests' exception classes (ConnectTimeout, ReadTimeout, ConnectionError, SSLError…),
  which the client maps (:mod:`.mplus_errors`), plus DeadlineExceeded and ReplyTooLarge.
- **Environment**: proxies (``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``, http:// proxies) and the CA bundle
  (``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, else certifi's) are taken from the environment as the requests-based
  transport did, once per address.

The credentials travel as ``ident``/``secret`` query parameters on every POST (that is how Mplus authenticates);
they are added to the request target here, never written into the address zeep knows, and never put into an
error message (those name host and port only). Nothing here logs.
"""

from __future__ import annotations

import base64
import http.client
import io
import logging
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

import requests
import requests.certs
import requests.utils
from urllib3.exceptions import MaxRetryError, NewConnectionError
from zeep import Plugin
from zeep.wsdl import Document
from zeep.wsdl.utils import etree_to_string

from ..i18n import msg
from ..mplus_wsdl import OfflineTransport, zeep_settings
from ..redact import redact_text
from .limits import (
    ACCEPT_ENCODING,
    CallLimits,
    DeadlineExceeded,
    HttpReply,
    ReplyTooLarge,
    UnreadableBody,
    deadline_scope,
    decoded,
    left_or_raise,
    read_capped,
)

USER_AGENT = "apicenter-sync/mplus-client"
_CHUNK = 64 * 1024


class SoapActionPlugin(Plugin):
    """Sends ``SOAPAction: <operation>`` like the official clients (the WSDL itself declares "")."""

    def egress(self, envelope, http_headers, operation, binding_options):
        http_headers["SOAPAction"] = operation.name
        return envelope, http_headers


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_text(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        return True


_filter_lock = threading.Lock()
_filter_installed = False


def install_log_redaction() -> None:
    """Mask ident/secret in urllib3's request-line debug log (idempotent). The transport no longer goes through
    urllib3, but zeep and other code in the process may, with an address someone pasted with its query."""
    global _filter_installed
    with _filter_lock:
        if not _filter_installed:
            logging.getLogger("urllib3.connectionpool").addFilter(_RedactingFilter())
            _filter_installed = True


def split_address(url: str) -> str:
    """The service address: scheme://host:port/path without query or fragment; path "/" when empty."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(msg("clients.not_http_url", url=redact_text(url)[:200]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


# --- connections whose every read is bounded by the call's deadline ---------------------------------------------
class _BoundedReader(io.RawIOBase):
    """The socket file http.client reads the reply from, each receive waiting at most the read timeout cut to the
    time left of the call: the deadline holds for the status line, the headers and the body alike."""

    def __init__(self, raw: io.RawIOBase, sock: socket.socket, read_timeout: float | None):
        self._raw = raw  # the socket's own file: while it is open the socket stays open (http.client relies on it)
        self._sock = sock
        self._read_timeout = read_timeout

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self._sock.settimeout(left_or_raise(self._read_timeout))
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Response(http.client.HTTPResponse):
    def __init__(self, sock, read_timeout, **kwargs):
        super().__init__(sock, **kwargs)
        self.fp = io.BufferedReader(_BoundedReader(self.fp.detach(), sock, read_timeout), _CHUNK)


class _Bounded:
    read_timeout: float | None = None  # set before each request

    def response_class(self, sock, **kwargs):  # http.client calls self.response_class(sock, method=…)
        return _Response(sock, self.read_timeout, **kwargs)


class _HTTPConnection(_Bounded, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_Bounded, http.client.HTTPSConnection):
    def connect(self) -> None:
        # As http.client does it, but the handshake gets the time left after the TCP connect, not a fresh timeout.
        http.client.HTTPConnection.connect(self)
        self.sock.settimeout(left_or_raise(self.timeout))
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._tunnel_host or self.host)


def _is_dropped(conn: http.client.HTTPConnection) -> bool:
    """An idle keep-alive connection is readable only when the server closed it (or sent something unasked)."""
    sock = conn.sock
    if sock is None:
        return True
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        if hasattr(select, "poll"):  # not select(): it fails on descriptors above 1023, common in a busy Odoo
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class ConnectionPool:
    """Idle keep-alive connections per address (scheme, host, port); thread-safe. See the module docstring."""

    def __init__(self, size: int = 10):
        self.size = size
        self._idle: dict[tuple, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self.opened = 0  # connections opened so far (tests read it)
        self._closed = False

    def take(self, key: tuple) -> http.client.HTTPConnection | None:
        """The most recently used idle connection to ``key`` that is still open, or None."""
        while True:
            with self._lock:
                idle = self._idle.get(key)
                conn = idle.pop() if idle else None
            if conn is None or not _is_dropped(conn):
                return conn
            conn.close()

    def open(self, route: _Route) -> http.client.HTTPConnection:
        """A new, not yet connected, connection along ``route``."""
        with self._lock:
            self.opened += 1
        return route.connect()

    def give_back(self, key: tuple, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.size and not self._closed:  # a call that ends after close() keeps nothing open
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
            self._closed = True
        for conn in conns:
            conn.close()

    def merge_environment_settings(self, url, proxies, stream, verify, cert) -> dict:
        """Proxies and CA bundle for ``url`` from the environment: ``requests.Session.merge_environment_settings``
        (same signature, same result), what the requests-based transport used."""
        proxies = dict(proxies or {})
        for scheme, proxy in requests.utils.get_environ_proxies(url, no_proxy=proxies.get("no_proxy")).items():
            proxies.setdefault(scheme, proxy)
        if verify is True or verify is None:
            verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or verify
        return {"proxies": proxies, "stream": stream, "verify": verify, "cert": cert}


def make_session(pool_size: int = 10) -> ConnectionPool:
    """The connection pool of one client (the name is the requests-era one: MplusClient.session holds it)."""
    return ConnectionPool(pool_size)


@lru_cache(maxsize=8)
def _tls_context(verify: bool | str) -> ssl.SSLContext:
    """One context per trust setting (loading a CA bundle takes milliseconds; a context is shared by threads)."""
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    where = requests.certs.where() if verify is True else verify
    if os.path.isdir(where):
        return ssl.create_default_context(capath=where)
    return ssl.create_default_context(cafile=where)


@dataclass(frozen=True)
class _Route:
    """How requests to one address go: the pool key, a factory of new connections, the request target."""

    key: tuple
    host: str  # host:port, for error messages (never the target: it holds the credentials)
    target: str
    connect: Callable[[], http.client.HTTPConnection]  # a new connection, not yet connected
    headers: dict


def _route(address: str, query: str, settings: dict) -> _Route:
    parts = urlsplit(address)
    https = parts.scheme == "https"
    host, port = parts.hostname, parts.port or (443 if https else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if query:
        target += ("&" if parts.query else "?") + query
    verify = settings.get("verify", True)
    context = _tls_context(verify if isinstance(verify, str) else bool(verify)) if https else None
    headers: dict[str, str] = {}
    proxy = requests.utils.select_proxy(address, settings.get("proxies") or {})
    if not proxy:
        factory = (lambda: _HTTPSConnection(host, port, context=context)) if https else (
            lambda: _HTTPConnection(host, port))  # fmt: skip
    else:
        p = urlsplit(proxy if "://" in proxy else "http://" + proxy)
        if p.scheme != "http":
            raise requests.exceptions.InvalidProxyURL(msg("clients.proxy_not_http", scheme=p.scheme[:20]))
        auth = {}
        if p.username:
            token = base64.b64encode(f"{unquote(p.username)}:{unquote(p.password or '')}".encode()).decode()
            auth = {"Proxy-Authorization": f"Basic {token}"}
        proxy_host, proxy_port = p.hostname, p.port or 80
        if https:  # a CONNECT tunnel through the proxy, TLS to the server inside it

            def factory():
                conn = _HTTPSConnection(proxy_host, proxy_port, context=context)
                conn.set_tunnel(host, port, headers=auth)
                return conn
        else:  # plain HTTP: the proxy gets the whole URL
            factory = lambda: _HTTPConnection(proxy_host, proxy_port)  # noqa: E731
            target = f"http://{host}:{port}{target}"
            headers = auth
    return _Route((parts.scheme, host, port, proxy), f"{host}:{port}", target, factory, headers)


class MplusTransport(OfflineTransport):
    """zeep Transport for calls: a pool of keep-alive connections, (connect, read) timeouts, the call limits, TLS
    verification, auth params.

    Document loading stays offline (inherited); the live WSDL is fetched explicitly by :func:`load_live_document`.
    """

    def __init__(self, session: ConnectionPool, auth: dict[str, str], timeout, verify_tls: bool = True,
                 limits: CallLimits | None = None):  # fmt: skip
        if not isinstance(session, ConnectionPool):
            raise TypeError("session must be a ConnectionPool from make_session(); the transport no longer uses "
                            "requests sessions")  # fmt: skip
        super().__init__(timeout=timeout, operation_timeout=timeout)  # zeep's own requests Session stays unused
        self.pool = session
        self._auth = auth
        self._query = urlencode(auth)
        self.limits = limits or CallLimits()
        self.verify_tls = verify_tls
        self._routes: dict[tuple[str, str], _Route] = {}  # (address, query) -> route, environment read once
        self._headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}

    def post(self, address, message, headers):
        # zeep's own post() logs the address and the body at DEBUG; this one logs nothing and adds the credentials.
        if isinstance(message, str):
            message = message.encode("utf-8")
        return self._send("POST", address, self._query, message, headers)

    def post_xml(self, address, envelope, headers):
        return self.post(address, etree_to_string(envelope), headers)

    def get_wsdl(self, address: str) -> bytes:
        reply = self._send("GET", address, urlencode({**self._auth, "wsdl": ""}), None, {})
        if reply.is_redirect or reply.status_code >= 400:
            status = reply.status_code
            text = msg("clients.wsdl_redirect", status=status) if reply.is_redirect else msg("clients.wsdl_http",
                                                                                               status=status)
            raise requests.HTTPError(text, response=reply)
        return reply.content

    def _route(self, address: str, query: str) -> _Route:
        route = self._routes.get((address, query))
        if route is None:
            settings = self.pool.merge_environment_settings(address, {}, None, self.verify_tls, None)
            route = self._routes[(address, query)] = _route(address, query, settings)
        return route

    def _send(self, method: str, address: str, query: str, body: bytes | None, headers) -> HttpReply:
        """One request within the limits: the whole call by the deadline, the reply streamed up to the cap, no
        redirect followed. Raises requests errors, DeadlineExceeded, ReplyTooLarge, UnreadableBody."""
        route = self._route(address, query)
        timeout = self.operation_timeout
        connect_timeout, read_timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        with deadline_scope(self.limits.deadline_s) as deadline:
            conn = self.pool.take(route.key)
            sent = False
            try:
                if conn is None:
                    conn = self.pool.open(route)
                    conn.timeout = left_or_raise(connect_timeout)
                    conn.connect()
                sent = True  # from here on the server may have the request
                conn.read_timeout = read_timeout
                conn.sock.settimeout(left_or_raise(read_timeout))  # bounds sending; reads are bounded per receive
                conn.request(method, route.target, body, {**self._headers, **route.headers, **headers})
                response = conn.getresponse()
                chunks = decoded(iter(lambda: response.read(_CHUNK), b""), response.getheader("Content-Encoding"))
                content = read_capped(chunks, self.limits.max_reply_bytes, deadline)
            except BaseException as exc:
                if conn is not None:
                    conn.close()  # not read to its end: the connection is dropped, not pooled
                passed_on = DeadlineExceeded | ReplyTooLarge | UnreadableBody  # the client maps these itself
                if isinstance(exc, Exception) and not isinstance(exc, passed_on):
                    self._raise(exc, route, sent, deadline)
                raise
        if conn.sock is not None and not response.will_close:
            self.pool.give_back(route.key, conn)
        else:
            conn.close()
        return HttpReply(response.status, response.msg, content)

    @staticmethod
    def _raise(exc: Exception, route: _Route, sent: bool, deadline: float):
        """``exc`` as the requests error the client maps (what requests raised for the same failure)."""
        where = route.host
        if time.monotonic() >= deadline:
            raise DeadlineExceeded(sent=sent) from None
        if isinstance(exc, requests.RequestException):
            raise exc
        if not sent:
            if isinstance(exc, TimeoutError):
                raise requests.ConnectTimeout(where) from None  # the client says what timed out, in words
            if isinstance(exc, ssl.SSLError):
                error = redact_text(" ".join(str(exc).split()))[:300]
                raise requests.exceptions.SSLError(msg("clients.tls_failed", host=where, error=error)) from None
            # The shape requests gave a failed connect (urllib3's NewConnectionError inside MaxRetryError): the
            # client reads it as "never sent", so even a write that must not be repeated is retried.
            reason = NewConnectionError(None, f"cannot connect to {where}: {exc}")
            raise requests.ConnectionError(MaxRetryError(None, where, reason)) from None
        if isinstance(exc, TimeoutError):
            raise requests.ReadTimeout(where) from None  # the client says what timed out, in words
        if isinstance(exc, OSError | http.client.HTTPException):
            raise requests.ConnectionError(f"{where}: {type(exc).__name__}: {exc}") from None
        raise exc


def load_live_document(transport: MplusTransport, address: str) -> Document:
    """The WSDL the server itself serves at ``address?wsdl`` (parsed each time; cache it per address)."""
    content = transport.get_wsdl(address)
    # A file-like source: zeep reads it instead of fetching; the SOAP-encoding import still gets the local stub.
    return Document(io.BytesIO(content), transport, base=address, settings=zeep_settings())
