"""The Mplus transport's connections: one keep-alive connection for calls in a row, one per thread for calls side
by side, a dropped idle connection replaced, gzip unpacked under the cap, proxies from the environment.
(Deadline, slow drip, redirects and oversized replies: tests/corpus/test_corpus_limits.py.)"""

from __future__ import annotations

import gzip
import socket
import ssl
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from http_requests import read_request

from apicenter_sync.clients import mplus_errors as errs
from apicenter_sync.clients.limits import CallLimits, ReplyTooLarge
from apicenter_sync.clients.mplus_transport import MplusTransport, make_session, split_address

REPLY = b"<x>ok</x>"


class KeepAliveServer:
    """HTTP/1.1 on 127.0.0.1 that keeps connections open; counts TCP connections and requests per connection.
    ``delay`` holds each reply (so that calls from threads overlap); ``body``/``extra`` shape the reply."""

    def __init__(self, body: bytes = REPLY, extra: bytes = b"", delay: float = 0.0, tls: ssl.SSLContext | None = None):
        self.body, self.extra, self.delay, self.tls = body, extra, delay, tls
        self.connections = 0
        self.requests: list[bytes] = []
        self.open_socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://localhost:{self._sock.getsockname()[1]}/"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self.open_socks.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._exchange(self.tls.wrap_socket(conn, server_side=True) if self.tls else conn)
        except OSError:  # a client that refused our certificate, a dropped connection
            conn.close()

    def _exchange(self, conn: socket.socket) -> None:
        data = b""
        with conn:
            while True:
                request = read_request(conn, data)
                if request is None:
                    return
                head, _, data = request
                with self._lock:
                    self.requests.append(head)
                if self.delay:
                    threading.Event().wait(self.delay)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n%s\r\n%s"
                             % (len(self.body), self.extra, self.body))  # fmt: skip

    def drop_all(self) -> None:
        """Close every connection from the server's side (as a server does with idle keep-alive connections)."""
        with self._lock:
            for conn in self.open_socks:
                conn.shutdown(socket.SHUT_RDWR)
            self.open_socks.clear()

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def server():
    servers: list[KeepAliveServer] = []

    def start(**kwargs) -> KeepAliveServer:
        servers.append(KeepAliveServer(**kwargs))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def transport(limits: CallLimits | None = None, pool_size: int = 10) -> MplusTransport:
    return MplusTransport(make_session(pool_size), {"ident": "id", "secret": "s3cret"}, timeout=(2.0, 2.0),
                          limits=limits)  # fmt: skip


def test_calls_in_a_row_share_one_keep_alive_connection(server):
    srv = server()
    t = transport()
    for _ in range(20):
        reply = t.post(srv.url, b"<soap/>", {"Content-Type": "text/xml"})
        assert reply.status_code == 200 and reply.content == REPLY
    assert srv.connections == 1 and len(srv.requests) == 20 and t.pool.opened == 1
    assert all(h.startswith(b"POST /?ident=id&secret=s3cret HTTP/1.1") for h in srv.requests)
    t.pool.close()


def test_calls_from_threads_each_get_a_connection_and_give_it_back(server):
    srv = server(delay=0.05)  # replies overlap: 4 threads need 4 connections at once
    t = transport()

    def call(i: int) -> bytes:
        return t.post(srv.url, b"<soap n='%d'/>" % i, {}).content

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(call, range(40))) == [REPLY] * 40
    assert 2 <= srv.connections <= 4 and len(srv.requests) == 40
    before = srv.connections
    for i in range(5):  # afterwards, in a row: pooled connections are reused, none opened
        call(i)
    assert srv.connections == before
    t.pool.close()


def test_pool_keeps_at_most_its_size_idle(server):
    srv = server(delay=0.05)
    t = transport(pool_size=1)
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda i: t.post(srv.url, b"x", {}), range(6)))
    assert sum(len(idle) for idle in t.pool._idle.values()) == 1
    t.pool.close()


def test_an_idle_connection_the_server_closed_is_replaced_before_use(server):
    srv = server()
    t = transport()
    t.post(srv.url, b"x", {})
    srv.drop_all()
    threading.Event().wait(0.05)
    assert t.post(srv.url, b"x", {}).content == REPLY  # no error: the dead connection was noticed, not used
    assert srv.connections == 2
    t.pool.close()


def test_gzip_reply_is_unpacked_and_capped_on_its_unpacked_size(server):
    body = b"<a>" * 100_000
    srv = server(body=gzip.compress(body), extra=b"Content-Encoding: gzip\r\n")
    t = transport()
    assert t.post(srv.url, b"x", {}).content == body
    assert b"accept-encoding: gzip" in srv.requests[0].lower()
    small = transport(CallLimits(max_reply_bytes=100_000))
    with pytest.raises(ReplyTooLarge):
        small.post(srv.url, b"x", {})
    t.pool.close()
    small.pool.close()


def test_http_proxy_from_the_environment_gets_the_whole_url(server, monkeypatch):
    proxy = server()
    monkeypatch.setenv("HTTP_PROXY", f"http://user:pw@localhost:{proxy.url.split(':')[2].rstrip('/')}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    t = transport()
    assert t.post("http://mplus.example:34567/", b"x", {}).content == REPLY
    head = proxy.requests[0].decode()
    assert head.startswith("POST http://mplus.example:34567/?ident=id&secret=s3cret HTTP/1.1")
    assert "Proxy-Authorization: Basic dXNlcjpwdw==" in head
    t.pool.close()


@pytest.fixture
def self_signed(tmp_path):
    """A certificate for localhost signed by itself, and a server context with it."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                        str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                       check=True, capture_output=True)  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"openssl cannot make a test certificate: {exc}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return cert, context


def test_tls_is_verified_unless_turned_off(server, self_signed, monkeypatch):
    cert, context = self_signed
    srv = server(tls=context)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    strict = transport()
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED") as refused:
        strict.post(srv.url, b"x", {})
    # What a person reads: the client's words in their language, the TLS library's own words inside.
    error = errs.from_transport(refused.value, "getBranches")
    dutch = error.text().render("nl")
    assert "de beveiligde verbinding (TLS) met localhost:" in dutch and "CERTIFICATE_VERIFY_FAILED" in dutch
    assert str(error).startswith("mplus getBranches: connection dropped before the reply: the secure connection")
    lax = MplusTransport(make_session(), {"ident": "id", "secret": "s"}, timeout=(2.0, 2.0), verify_tls=False)
    assert [lax.post(srv.url, b"x", {}).content for _ in range(3)] == [REPLY] * 3
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # a CA bundle from the environment, as with requests
    trusting = transport()
    assert [trusting.post(srv.url, b"x", {}).content for _ in range(3)] == [REPLY] * 3
    assert srv.connections == 3  # the refused one, then one keep-alive connection each
    for t in (strict, lax, trusting):
        t.pool.close()


class TunnelProxy:
    """An HTTP proxy that answers CONNECT host:port and then relays bytes both ways; records the CONNECT heads."""

    def __init__(self):
        self.heads: list[str] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(4096)
        self.heads.append(head.decode())
        host, port = head.split()[1].decode().rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pipe(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            for s in (src, dst):
                s.close()

        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    def close(self) -> None:
        self._sock.close()


def test_https_through_a_proxy_goes_in_a_connect_tunnel(server, self_signed, monkeypatch):
    cert, context = self_signed
    srv = server(tls=context)
    proxy = TunnelProxy()
    monkeypatch.setenv("HTTPS_PROXY", f"http://user:pw@127.0.0.1:{proxy.port}")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    t = transport()
    assert [t.post(srv.url, b"x", {}).content for _ in range(3)] == [REPLY] * 3
    assert len(proxy.heads) == 1 and srv.connections == 1  # one tunnel, kept alive
    assert proxy.heads[0].startswith(f"CONNECT localhost:{srv.url.split(':')[2].rstrip('/')} HTTP/1.")
    assert "Proxy-Authorization: Basic dXNlcjpwdw==" in proxy.heads[0]
    assert "s3cret" not in proxy.heads[0]  # the credentials travel inside the TLS tunnel only
    t.pool.close()
    proxy.close()


def test_a_wrong_address_or_proxy_is_told_in_the_reader_s_language(monkeypatch):
    with pytest.raises(ValueError) as caught:
        split_address("ftp://host/x?ident=a&secret=s3cret")
    assert caught.value.args[0].render("nl") == (
        "het MplusKASSA-adres ftp://host/x?ident=***&secret=*** is geen http://- of https://-URL met een host")
    monkeypatch.setenv("HTTP_PROXY", "socks5://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    t = transport()
    with pytest.raises(requests.exceptions.InvalidProxyURL) as caught:
        t.post("http://example.invalid/", b"x", {})
    error = errs.from_transport(caught.value, "getBranches")
    assert error.text().render("pl") == (
        "mplus getBranches: błąd transportu InvalidProxyURL: serwer proxy musi być typu http://, a nie socks5://")
    t.pool.close()
