"""What bounds one API call: a deadline over the whole call and a cap on the size of its reply.

A read timeout bounds each read, not the call: a server that sends one byte every few seconds would hold a call
for as long as it likes, and a reply of any size would be read whole into memory. Both clients therefore:

- give every call one **deadline** (setting ``call_deadline_seconds``): connect, TLS, sending the request, the
  status line, the headers and the whole body must be done by then. The AccountView client (httpx) bounds every
  socket operation by the time left (:class:`DeadlineBackend`, a wrapper of httpcore's network backend); the
  MplusKASSA transport (http.client, ``mplus_transport.py``) does the same with its connections: connect, the TLS
  handshake, sending and every receive get at most :func:`time_left`.
- read the reply **streamed, with a byte cap** (setting ``max_reply_bytes``, default 64 MiB), counted on the
  decoded body and checked after every chunk: a larger reply is refused with :class:`ReplyTooLarge` before it is
  in memory. Both clients take the raw bytes and decode them here (:func:`decoded`): ``identity`` or **one**
  ``gzip``/``deflate`` layer, inflated in steps of at most :data:`INFLATE_STEP` bytes, so the cap is checked while
  a bomb inflates (``Content-Encoding: gzip, gzip`` of 2.6 KB is refused, not inflated to gigabytes); any other
  encoding is refused (:class:`UnreadableBody`).
- never follow a redirect: a 3xx is a permanent error (the request, with its credentials, is not sent again to
  another address).
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore

from ..i18n import msg, setting_ref

DEFAULT_DEADLINE_S = 120.0  # setting call_deadline_seconds
DEFAULT_MAX_REPLY_BYTES = 64 * 1024 * 1024  # setting max_reply_bytes
SIZE_SETTING = "max_reply_bytes"
INFLATE_STEP = 64 * 1024  # at most this many decoded bytes per inflate step: the cap is checked between steps
# What both clients ask for and accept: one layer of these (gzip and deflate are in the standard library; brotli
# and zstd are not asked for, so a server has no reason to send them).
ACCEPT_ENCODING = "gzip, deflate"
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


@dataclass(frozen=True)
class CallLimits:
    deadline_s: float = DEFAULT_DEADLINE_S
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES

    def __post_init__(self):
        # A wrong call (TypeError: a programmer's mistake): the settings they come from have a minimum.
        if self.deadline_s <= 0 or self.max_reply_bytes <= 0:
            raise TypeError("call deadline and reply cap must be positive")


class DeadlineExceeded(Exception):
    """The call's deadline passed before the reply was complete. ``sent``: the request may have reached the
    server (False only when the deadline struck while connecting)."""

    def __init__(self, sent: bool = True):
        super().__init__(msg("clients.deadline_passed"))
        self.sent = sent


class ReplyTooLarge(Exception):
    """The reply is larger than the cap; reading stopped there. ``text``: the client's message."""

    def __init__(self, limit: int):
        self.text = msg("clients.too_large", limit=f"{limit:,}", setting=setting_ref(SIZE_SETTING))
        super().__init__(str(self.text))
        self.limit = limit


class UnreadableBody(ValueError):
    """The body cannot be decoded: a Content-Encoding other than identity or one gzip/deflate layer, or compressed
    data that does not inflate. ``text`` is the client's message (a Msg)."""

    def __init__(self, text):
        super().__init__(str(text))
        self.text = text


def decoded(chunks: Iterable[bytes], content_encoding: str | None) -> Iterator[bytes]:
    """The body of ``chunks`` decoded by its ``Content-Encoding``: identity, or one gzip/deflate layer inflated in
    steps of at most :data:`INFLATE_STEP` bytes. Anything else: :class:`UnreadableBody` (before any byte is read)."""
    layers = [part.strip().lower() for part in (content_encoding or "").split(",")]
    layers = [part for part in layers if part and part != "identity"]
    if not layers:
        return iter(chunks)
    if len(layers) > 1 or layers[0] not in _WBITS:
        shown = " ".join((content_encoding or "").split())[:100]
        raise UnreadableBody(msg("clients.encoding_refused", encoding=shown))
    return _inflate(chunks, layers[0])


def _inflate(chunks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    gzip = encoding != "deflate"
    unpack = None
    complete = ended = False  # complete: the last stream read ended; ended: nothing more is read
    for chunk in chunks:
        pending = b"" if ended else chunk
        while pending:
            if unpack is None:  # the first bytes, or a further gzip member
                if complete and not (gzip and pending[:1] == b"\x1f"):
                    ended = True  # padding after the stream: ignored
                    break
                # "deflate" should be zlib-wrapped (RFC 9110), but some servers send a raw deflate stream.
                raw = not gzip and not _zlib_header(pending)
                unpack = zlib.decompressobj(-zlib.MAX_WBITS if raw else _WBITS[encoding])
                complete = False
            try:
                out = unpack.decompress(pending, INFLATE_STEP)
            except zlib.error as exc:
                detail = str(exc)[:200]
                raise UnreadableBody(msg("clients.body_not_inflating", encoding=encoding, detail=detail)) from None
            if out:
                yield out
            if unpack.eof:
                pending, unpack, complete = unpack.unused_data, None, True
            else:
                pending = unpack.unconsumed_tail
    if unpack is not None:
        raise UnreadableBody(msg("clients.body_cut_short", encoding=encoding))


def _zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


# --- the deadline of the call in progress (per thread: a call's I/O runs in the thread that makes it) -------------
_local = threading.local()


@contextmanager
def deadline_scope(seconds: float) -> Iterator[float]:
    """Within the block, socket operations of this thread end by ``monotonic() + seconds`` (yielded)."""
    previous = getattr(_local, "deadline", None)
    deadline = time.monotonic() + seconds
    _local.deadline = deadline if previous is None else min(previous, deadline)
    try:
        yield _local.deadline
    finally:
        _local.deadline = previous


def current_deadline() -> float | None:
    return getattr(_local, "deadline", None)


def time_left(timeout: float | None) -> float | None:
    """``timeout`` (per operation) cut to the time left before the current deadline; 0 when it has passed."""
    deadline = current_deadline()
    if deadline is None:
        return timeout
    left = max(deadline - time.monotonic(), 0.0)
    return left if timeout is None else min(timeout, left)


def left_or_raise(timeout: float | None, exc: type[Exception] = TimeoutError) -> float | None:
    """``timeout`` cut to the time left of the call; ``exc`` once the deadline has passed (a 0 would mean
    non-blocking to a socket). Every socket operation of both clients takes its timeout from here."""
    left = time_left(timeout)
    if left is not None and left <= 0:
        raise exc(msg("clients.deadline_passed"))
    return left


def read_capped(chunks: Iterable[bytes], limit: int, deadline: float | None = None) -> bytes:
    """Join ``chunks`` into the body; :class:`ReplyTooLarge` past ``limit`` bytes, :class:`DeadlineExceeded` once
    ``deadline`` (monotonic) has passed."""
    buf = bytearray()
    for chunk in chunks:
        buf += chunk
        if len(buf) > limit:
            raise ReplyTooLarge(limit)
        if deadline is not None and time.monotonic() > deadline:
            raise DeadlineExceeded()
    return bytes(buf)


@dataclass
class HttpReply:
    """A reply read whole within the limits: status, headers and the decoded body."""

    status_code: int
    headers: Any
    content: bytes

    def json(self) -> Any:
        """The body as JSON; any parser failure (nesting too deep included) is a ValueError."""
        try:
            return json.loads(self.content)
        except RecursionError:
            raise ValueError(msg("clients.json_too_deep")) from None
        except (UnicodeDecodeError, TypeError) as exc:
            raise ValueError(str(exc)) from None

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status_code < 400


def send_httpx(client, request, limits: CallLimits) -> HttpReply:
    """Send an httpx request and read its reply within ``limits``; never follows a redirect. Raises httpx
    transport errors, :class:`DeadlineExceeded`, :class:`ReplyTooLarge` and :class:`UnreadableBody`."""
    import httpx

    with deadline_scope(limits.deadline_s) as deadline:
        try:
            response = client.send(request, stream=True, follow_redirects=False)
            try:
                # The raw bytes, decoded here: httpx would inflate each chunk whole (and every layer of
                # "gzip, gzip") before the cap could look at it.
                chunks = decoded(response.iter_raw(), response.headers.get("content-encoding"))
                content = read_capped(chunks, limits.max_reply_bytes, deadline)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            if time.monotonic() >= deadline:
                raise DeadlineExceeded(sent=not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)) from None
            raise
    return HttpReply(response.status_code, response.headers, content)


# --- httpx: every socket operation bounded by the time left ---------------------------------------------------
class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, left_or_raise(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, left_or_raise(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        left = left_or_raise(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend with every connect, read and write cut to the time left of the call."""

    def __init__(self, backend: httpcore.NetworkBackend):
        self._backend = backend

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        left = left_or_raise(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        left = left_or_raise(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def bound_httpx_client(client) -> None:
    """Put :class:`DeadlineBackend` under every connection pool of an ``httpx.Client`` (its transport and mounts)."""
    transports = [client._transport, *(t for t in client._mounts.values() if t is not None)]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is not None and not isinstance(backend, DeadlineBackend):
            pool._network_backend = DeadlineBackend(backend)
