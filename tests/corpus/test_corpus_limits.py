"""Hostile servers: a reply dripped one byte at a time, a redirect to another host, a reply too large, nesting too
deep. Each ends the call with the client's specific error, quickly, without following or swallowing anything.
Cases: README.md ("Hostile servers")."""

from __future__ import annotations

import gzip
import socket
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from apicenter_sync.clients.accountview import AccountViewClient
from apicenter_sync.clients.accountview_errors import AccountViewError, ReplyTooLargeError
from apicenter_sync.clients.accountview_oauth import AccountViewOAuth, MemoryTokenStore, Tokens
from apicenter_sync.clients.limits import CallLimits
from apicenter_sync.clients.mplus import MplusClient
from apicenter_sync.clients.mplus_errors import ReplyTooLargeError as MplusReplyTooLargeError
from apicenter_sync.connect import authorize
from apicenter_sync.errors import AuthError, PermanentError, TransientError
from apicenter_sync.retry import RetryPolicy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: http_requests
from http_requests import read_request  # noqa: E402

ONCE = RetryPolicy(attempts=1)
MiB = 1024 * 1024


class RawServer:
    """A TCP server on 127.0.0.1: every request (head and body read) is answered by ``handler(conn)``, which
    writes whatever bytes it likes, as slowly as it likes."""

    def __init__(self, handler: Callable[[socket.socket], None]):
        self.handler = handler
        self.requests: list[bytes] = []
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            request = read_request(conn)
            if request is None:
                return
            head, body, _ = request
            self.requests.append(head + b"\r\n\r\n" + body)
            self.handler(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._sock.close()


def drip(payload: bytes, every: float) -> Callable[[socket.socket], None]:
    def handler(conn: socket.socket) -> None:
        for i in range(len(payload)):
            conn.sendall(payload[i : i + 1])
            time.sleep(every)

    return handler


def reply(status: str, body: bytes, ctype: str = "application/json", extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n{extra}"
            "Connection: close\r\n\r\n").encode() + body  # fmt: skip


def answer(data: bytes) -> Callable[[socket.socket], None]:
    return lambda conn: conn.sendall(data)


@pytest.fixture(name="server")
def server_fixture():
    """``server(handler)``: a RawServer, closed after the test."""
    servers: list[RawServer] = []

    def start(handler) -> RawServer:
        servers.append(RawServer(handler))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def av_client(url: str, limits: CallLimits, read_timeout: float = 2.0) -> AccountViewClient:
    oauth = AccountViewOAuth(url, "client", "client-secret", "http://localhost/cb", limits=limits)
    tokens = MemoryTokenStore(Tokens("access-token", "refresh-token", None))
    return AccountViewClient(oauth.api_url, oauth, tokens, "1", timeout=httpx.Timeout(read_timeout), retry=ONCE,
                             limits=limits)  # fmt: skip


def mplus_client(url: str, limits: CallLimits, read_timeout: float = 2.0) -> MplusClient:
    return MplusClient(url, "ident", "mplus-secret", timeout=(read_timeout, read_timeout), retry=ONCE, limits=limits)


JSON_OK = reply("200 OK", b'[{"Id": "1", "Description": "x", "Code": "X"}]')
SOAP_OK = reply("200 OK", b"<x/>" * 10, "text/xml")


# --- slow drip: one deadline for the whole call -----------------------------------------------------------------
@pytest.mark.parametrize("where", ["headers", "body"])
def test_slow_drip_accountview_ends_at_the_call_deadline(server, where):
    # Every single read gets a byte long before the 2 s read timeout; only the deadline (1 s) can end the call.
    head, _, body = JSON_OK.partition(b"\r\n\r\n")
    handler = drip(JSON_OK, 0.2) if where == "headers" else (
        lambda conn: (conn.sendall(head + b"\r\n\r\n"), drip(body, 0.2)(conn)))  # fmt: skip
    srv = server(handler)
    client = av_client(srv.url, CallLimits(deadline_s=1.0))
    started = time.monotonic()
    with pytest.raises(TransientError, match=r"no complete reply within the call deadline of 1 s "
                                             r"\(setting Call Deadline Seconds\)"):  # fmt: skip
        client.companies()
    assert time.monotonic() - started < 2.5
    client.close()


@pytest.mark.parametrize("where", ["headers", "body"])
def test_slow_drip_mplus_ends_at_the_call_deadline(server, where):
    head, _, body = SOAP_OK.partition(b"\r\n\r\n")
    handler = drip(SOAP_OK, 0.2) if where == "headers" else (
        lambda conn: (conn.sendall(head + b"\r\n\r\n"), drip(body, 0.2)(conn)))  # fmt: skip
    srv = server(handler)
    client = mplus_client(srv.url, CallLimits(deadline_s=1.0))
    started = time.monotonic()
    with pytest.raises(TransientError, match=r"no complete reply within the call deadline of 1 s") as err:
        client.api_version()
    assert time.monotonic() - started < 2.5
    assert err.value.maybe_applied  # the request was sent: a write may have landed
    client.close()


# --- redirects: never followed ---------------------------------------------------------------------------------
def test_redirect_is_never_followed_by_accountview(server):
    elsewhere = server(answer(JSON_OK))
    srv = server(answer(reply("307 Temporary Redirect", b"", extra=f"Location: {elsewhere.url}/api/v3/companies\r\n")))
    client = av_client(srv.url, CallLimits())
    with pytest.raises(AccountViewError, match=r"redirect refused: HTTP 307 to 127\.0\.0\.1:\d+; API calls never "
                                                r"follow redirects") as err:  # fmt: skip
        client.companies()
    assert not err.value.transient
    assert elsewhere.requests == []  # the bearer token never went there
    client.close()


def test_redirect_is_never_followed_by_mplus(server):
    elsewhere = server(answer(SOAP_OK))
    srv = server(answer(reply("308 Permanent Redirect", b"", extra=f"Location: {elsewhere.url}/\r\n")))
    client = mplus_client(srv.url, CallLimits())
    with pytest.raises(PermanentError, match=r"redirect refused: HTTP 308 to 127\.0\.0\.1:\d+; API calls never "
                                             r"follow redirects \(check \[mplus\] url\)"):  # fmt: skip
        client.api_version()
    assert elsewhere.requests == []  # neither the SOAP body nor ident/secret went to the other host
    with pytest.raises(PermanentError, match="HTTP 308"):
        client.live_wsdl()
    assert elsewhere.requests == []
    client.close()


def test_token_endpoint_redirect_is_refused(server):
    elsewhere = server(answer(JSON_OK))
    srv = server(answer(reply("302 Found", b"", extra=f"Location: {elsewhere.url}/token\r\n")))
    oauth = AccountViewOAuth(srv.url, "client", "client-secret", "http://localhost/cb")
    with pytest.raises(AccountViewError, match="redirect refused: HTTP 302"):
        oauth.refresh("refresh-token")
    assert elsewhere.requests == []  # the client secret and the refresh token stayed here


# --- huge replies: capped while streaming ----------------------------------------------------------------------
def endless(head: bytes, chunk: bytes = b"[" * 65536) -> Callable[[socket.socket], None]:
    """A head announcing 200 MB, then a body that never ends (the connection is held open)."""

    def handler(conn: socket.socket) -> None:
        conn.sendall(head)
        while True:
            conn.sendall(chunk)

    return handler


def test_huge_reply_is_refused_at_the_cap_while_streaming_accountview(server):
    srv = server(endless(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 209715200\r\n\r\n"))
    client = av_client(srv.url, CallLimits(deadline_s=30, max_reply_bytes=2 * MiB))
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ReplyTooLargeError, match=r"larger than 2,097,152 bytes \(setting Max Reply Bytes\)"):
            client.companies()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10  # stopped at the cap, not at the end (there is none) or the deadline
    assert peak < 16 * MiB
    client.close()


def test_huge_reply_is_refused_at_the_cap_while_streaming_mplus(server):
    srv = server(endless(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 209715200\r\n\r\n",
                         b"<a>" * 20000))  # fmt: skip
    client = mplus_client(srv.url, CallLimits(deadline_s=30, max_reply_bytes=2 * MiB))
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(MplusReplyTooLargeError, match=r"larger than 2,097,152 bytes \(setting Max Reply Bytes\)"):
            client.api_version()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10
    assert peak < 16 * MiB
    client.close()


# --- deep nesting: the malformed-reply error, never a raw RecursionError ----------------------------------------
def test_deeply_nested_json_is_a_malformed_reply(server):
    srv = server(answer(reply("200 OK", b"[" * 200_000 + b"]" * 200_000)))
    client = av_client(srv.url, CallLimits())
    with pytest.raises(TransientError, match="malformed reply: companies is not a JSON array of objects|"
                                             "malformed reply: the body is not JSON"):  # fmt: skip
        client.companies()
    client.close()


@pytest.mark.parametrize(("depth", "detail"), [(600, "the XML is nested too deeply"), (5000, "Excessive depth")])
def test_deeply_nested_xml_is_a_malformed_reply(server, depth, detail):
    # Article groups nest (subGroupList): 600 levels parse, but reading them would exceed Python's recursion
    # limit; 5000 exceed the parser's own depth limit.
    ns = 'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns="urn:mplusqapi"'
    group = "<ns:articleGroups><ns:groupNumber>1</ns:groupNumber><ns:name>x</ns:name><ns:text/><ns:subGroupList>"
    nested = group * depth + "</ns:subGroupList><ns:sortOrder>1</ns:sortOrder></ns:articleGroups>" * depth
    body = (f"<SOAP-ENV:Envelope {ns}><SOAP-ENV:Body><ns:GetArticleGroupsResponse><ns:articleGroupList>{nested}"
            "</ns:articleGroupList></ns:GetArticleGroupsResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>").encode()  # fmt: skip
    srv = server(answer(reply("200 OK", body, "text/xml")))
    client = mplus_client(srv.url, CallLimits())
    with pytest.raises(TransientError, match=f"malformed reply: .*{detail}"):
        client.article_groups()
    client.close()


# --- compressed replies: one layer, inflated in bounded steps ---------------------------------------------------
def _zeros_gzip(size: int) -> bytes:
    """gzip of ``size`` zero bytes, compressed in pieces (the zeros never exist in memory at once)."""
    pack = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    piece = b"\0" * MiB
    return b"".join(pack.compress(piece) for _ in range(size // MiB)) + pack.flush()


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    single = _zeros_gzip(256 * MiB)  # ~250 KB that inflate to 256 MiB
    return {"gzip": single, "gzip, gzip": gzip.compress(single, 9)}  # the second: ~1 KB


def _encoded(body: bytes, encoding: str, ctype: str) -> bytes:
    return reply("200 OK", body, ctype, extra=f"Content-Encoding: {encoding}\r\n")


def _peak(call) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


BOMB_TARGETS = {  # system -> (client, content type, the cap's error, a call)
    "accountview": (av_client, "application/json", ReplyTooLargeError, lambda client: client.companies()),
    "mplus": (mplus_client, "text/xml", MplusReplyTooLargeError, lambda client: client.api_version()),
}


@pytest.mark.parametrize("system", BOMB_TARGETS)
@pytest.mark.parametrize("encoding", ["gzip", "gzip, gzip"])
def test_a_compression_bomb_is_stopped_at_the_cap_while_it_inflates(server, bombs, system, encoding):
    # Before: httpx inflated each chunk whole, every layer of "gzip, gzip" (2.1 GB of memory for 2.6 KB).
    make, ctype, too_large, call_api = BOMB_TARGETS[system]
    srv = server(answer(_encoded(bombs[encoding], encoding, ctype)))
    client = make(srv.url, CallLimits(max_reply_bytes=2 * MiB))
    expected = (r"larger than 2,097,152 bytes" if encoding == "gzip" else
                r"malformed reply: the reply's Content-Encoding 'gzip, gzip' is refused: only identity or one layer")
    error = too_large if encoding == "gzip" else TransientError

    def call():
        with pytest.raises(error, match=expected):
            call_api(client)

    assert _peak(call) < 16 * MiB
    client.close()


def test_the_token_endpoint_refuses_two_layers_too(server, bombs):
    srv = server(answer(_encoded(bombs["gzip, gzip"], "gzip, gzip", "application/json")))
    oauth = AccountViewOAuth(srv.url, "client", "client-secret", "http://localhost/cb")
    with pytest.raises(TransientError, match="Content-Encoding 'gzip, gzip' is refused"):
        oauth.refresh("refresh-token")
    oauth.close()


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "deflate, gzip"])
def test_other_encodings_are_refused_not_guessed(server, encoding):
    srv = server(answer(_encoded(b"\x8b\x00garbage", encoding, "application/json")))
    client = av_client(srv.url, CallLimits())
    with pytest.raises(TransientError, match=f"Content-Encoding '{encoding}' is refused"):
        client.companies()
    client.close()


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "x-gzip", "identity"])
def test_one_layer_of_gzip_or_deflate_is_read(server, encoding):
    body = b'[{"Id": "1", "Description": "x", "Code": "X"}]'
    packed = {"gzip": gzip.compress, "x-gzip": gzip.compress, "deflate": zlib.compress}.get(encoding, bytes)(body)
    srv = server(answer(_encoded(packed, encoding, "application/json")))
    client = av_client(srv.url, CallLimits())
    assert client.companies()[0]["Code"] == "X"
    assert b"accept-encoding: gzip, deflate" in srv.requests[0].lower()  # never br or zstd
    client.close()
    soap = (b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns="urn:mplusqapi">'
            b"<SOAP-ENV:Body><ns:getApiVersionResponse><ns:majorNumber>1</ns:majorNumber><ns:minorNumber>2"
            b"</ns:minorNumber><ns:revisionNumber>3</ns:revisionNumber></ns:getApiVersionResponse></SOAP-ENV:Body>"
            b"</SOAP-ENV:Envelope>")  # fmt: skip
    packed = {"gzip": gzip.compress, "x-gzip": gzip.compress, "deflate": zlib.compress}.get(encoding, bytes)(soap)
    srv = server(answer(_encoded(packed, encoding, "text/xml")))
    mplus = mplus_client(srv.url, CallLimits())
    assert mplus.api_version()["version"] == "1.2.3"
    mplus.close()


# --- the authorize page of `connect`: the same deadline and cap --------------------------------------------------
def test_connect_ends_at_the_call_deadline_on_a_dripping_authorize_page(server):
    # Before: a bare httpx.get with a read timeout only; one byte every 0.2 s held `connect accountview` (and the
    # Odoo wizard) for as long as the server liked.
    page = reply("200 OK", b"<html>" + b"x" * 5000 + b"</html>", "text/html")
    srv = server(drip(page, 0.2))
    oauth = AccountViewOAuth(srv.url, "client", "client-secret", "http://localhost/cb", limits=CallLimits(deadline_s=1))
    outcome: list = []

    def connect() -> None:
        try:
            authorize(oauth, MemoryTokenStore())
        except Exception as exc:  # noqa: BLE001 - what it ended with is the result
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "connect still hangs on the dripping authorize page"
    assert time.monotonic() - started < 3
    (error,) = outcome
    assert isinstance(error, AuthError)
    assert "no complete reply within the call deadline of 1 s" in str(error)
    assert f"{srv.url}/ams/authorize.aspx?" in str(error)  # where a person can log in instead
    oauth.close()


def test_connect_reads_the_authorize_page_within_the_reply_cap(server):
    srv = server(endless(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 209715200\r\n\r\n"))
    oauth = AccountViewOAuth(srv.url, "client", "client-secret", "http://localhost/cb",
                             limits=CallLimits(deadline_s=30, max_reply_bytes=MiB))  # fmt: skip
    started = time.monotonic()
    with pytest.raises(ReplyTooLargeError, match=r"larger than 1,048,576 bytes"):
        authorize(oauth, MemoryTokenStore())
    assert time.monotonic() - started < 10
    oauth.close()
