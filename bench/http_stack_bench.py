"""Client CPU per keep-alive call of each HTTP stack: the standard library, urllib3, requests, httpx, and ours.

    .venv/bin/python -m bench.http_stack_bench            # 3000 calls per stack, best of 3 rounds
    .venv/bin/python -m bench.http_stack_bench --quick    # 500 calls, one round (a smoke test)

A local HTTP/1.1 keep-alive server runs in a separate process, so the CPU time of this process
(``time.process_time``: user + system, every thread) is the client's alone. It answers a POST with a small SOAP
envelope (what MplusKASSA gets) and a GET with a small JSON array (what AccountView gets). Every stack sends the
same request over one persistent connection; the server counts TCP connections, and the table shows them (1 per
stack means the stack kept its connection alive).

"ours" rows are the stacks as the clients use them: the Mplus transport (``MplusTransport.post``, with the call
deadline, the reply cap and no redirects) and the AccountView path (an ``httpx.Client`` under
``bound_httpx_client`` sent through ``send_httpx``). Figures and the choice they led to: bench/README.md,
"HTTP stack".
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SOAP_REQUEST = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/'
    b'envelope/"><soap-env:Body><ns0:getApiVersion xmlns:ns0="urn:mplusqapi"/></soap-env:Body></soap-env:Envelope>'
)
SOAP_REPLY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/'
    b'envelope/" xmlns:ns="urn:mplusqapi"><SOAP-ENV:Body><ns:getApiVersionResponse><majorNumber>67</majorNumber>'
    b"<minorNumber>1</minorNumber><revisionNumber>3</revisionNumber></ns:getApiVersionResponse></SOAP-ENV:Body>"
    b"</SOAP-ENV:Envelope>"
)
JSON_REPLY = json.dumps([{"Id": "1", "Code": "X", "Description": "one small row"}]).encode()
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
AUTH = {"ident": "bench-ident", "secret": "bench-secret"}


# --- the server (its own process) ---------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client says otherwise
    # Head and body leave in one segment (flushed after each request), no Nagle: else a delayed ACK of the
    # client (40 ms) would be most of every call's wall time.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    connections = 0

    def setup(self):
        type(self).connections += 1
        super().setup()

    def _answer(self, body: bytes, ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(SOAP_REPLY, "text/xml; charset=utf-8")

    def do_GET(self):
        if self.path == "/_connections":
            self._answer(str(type(self).connections).encode(), "text/plain")
        else:
            self._answer(JSON_REPLY, "application/json")

    def log_message(self, *args):
        pass


def serve() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def connections(port: int) -> int:
    """TCP connections the server accepted so far (this question's own included)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/_connections")
    count = int(conn.getresponse().read())
    conn.close()
    return count


# --- the stacks: each a factory returning (one call, close) -------------------------------------------------------
Stack = Callable[[str], tuple[Callable[[], bytes], Callable[[], None]]]


def http_client_post(base: str):
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    path = "/?ident=bench-ident&secret=bench-secret"

    def call() -> bytes:
        conn.request("POST", path, SOAP_REQUEST, SOAP_HEADERS)
        return conn.getresponse().read()

    return call, conn.close


def http_client_get(base: str):
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)

    def call() -> bytes:
        conn.request("GET", "/api/v3/companies?top=1", headers={"Accept": "application/json"})
        return conn.getresponse().read()

    return call, conn.close


def urllib3_post(base: str):
    import urllib3

    host, port = base.removeprefix("http://").split(":")
    pool = urllib3.HTTPConnectionPool(host, int(port), maxsize=1, retries=False, timeout=60)

    def call() -> bytes:
        return pool.request(
            "POST", "/?ident=bench-ident&secret=bench-secret", body=SOAP_REQUEST, headers=SOAP_HEADERS
        ).data

    return call, pool.close


def requests_post(base: str):
    import requests

    session = requests.Session()

    def call() -> bytes:
        return session.post(base + "/", data=SOAP_REQUEST, headers=SOAP_HEADERS, params=AUTH, timeout=60).content

    return call, session.close


def requests_get(base: str):
    import requests

    session = requests.Session()

    def call() -> bytes:
        return session.get(base + "/api/v3/companies", params={"top": "1"}, timeout=60).content

    return call, session.close


def httpx_post(base: str):
    import httpx

    client = httpx.Client(timeout=60)

    def call() -> bytes:
        return client.post(base + "/", content=SOAP_REQUEST, headers=SOAP_HEADERS, params=AUTH).content

    return call, client.close


def httpx_get(base: str):
    import httpx

    client = httpx.Client(timeout=60, headers={"Accept": "application/json"})

    def call() -> bytes:
        return client.get(base + "/api/v3/companies", params={"top": "1"}).content

    return call, client.close


def ours_mplus(base: str):
    from apicenter_sync.clients.limits import CallLimits
    from apicenter_sync.clients.mplus_transport import MplusTransport, make_session

    session = make_session(1)
    transport = MplusTransport(session, dict(AUTH), timeout=(10.0, 60.0), limits=CallLimits())
    address = base + "/"

    def call() -> bytes:
        return transport.post(address, SOAP_REQUEST, SOAP_HEADERS).content

    return call, session.close


def ours_accountview(base: str):
    import httpx

    from apicenter_sync.clients.limits import CallLimits, bound_httpx_client, send_httpx

    # As AccountViewClient builds it (accountview.py): keep-alive client, deadline backend, redirects off.
    client = httpx.Client(timeout=httpx.Timeout(10.0, read=60.0), follow_redirects=False,
                          headers={"Accept": "application/json", "User-Agent": "apicenter-sync/accountview"})  # fmt: skip
    bound_httpx_client(client)
    limits = CallLimits()
    headers = {"Authorization": "Bearer bench-token", "x-company": "1"}

    def call() -> bytes:
        request = client.build_request("GET", base + "/api/v3/companies", params={"top": "1"}, headers=headers)
        return send_httpx(client, request, limits).content

    return call, client.close


STACKS: list[tuple[str, str, Stack]] = [
    ("POST SOAP (Mplus)", "http.client", http_client_post),
    ("POST SOAP (Mplus)", "urllib3", urllib3_post),
    ("POST SOAP (Mplus)", "requests.Session", requests_post),
    ("POST SOAP (Mplus)", "httpx.Client", httpx_post),
    ("POST SOAP (Mplus)", "ours: MplusTransport.post", ours_mplus),
    ("GET JSON (AccountView)", "http.client", http_client_get),
    ("GET JSON (AccountView)", "requests.Session", requests_get),
    ("GET JSON (AccountView)", "httpx.Client", httpx_get),
    ("GET JSON (AccountView)", "ours: httpx + send_httpx", ours_accountview),
]


# --- measuring ------------------------------------------------------------------------------------------------
def measure(call: Callable[[], bytes], calls: int, rounds: int) -> dict:
    """Best of ``rounds`` (least disturbed by other processes): CPU, user, system and wall µs per call."""
    for _ in range(min(100, calls)):  # warm up: connection open, caches filled
        call()
    best: dict | None = None
    for _ in range(rounds):
        usage, cpu, wall = resource.getrusage(resource.RUSAGE_SELF), time.process_time(), time.perf_counter()
        for _ in range(calls):
            call()
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        after = resource.getrusage(resource.RUSAGE_SELF)
        row = {
            "cpu_us": cpu / calls * 1e6,
            "user_us": (after.ru_utime - usage.ru_utime) / calls * 1e6,
            "sys_us": (after.ru_stime - usage.ru_stime) / calls * 1e6,
            "wall_us": wall / calls * 1e6,
        }
        if best is None or row["cpu_us"] < best["cpu_us"]:
            best = row
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 calls, one round")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated substrings of stack names to run")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve()
    calls, rounds = (500, 1) if args.quick else (args.calls, args.rounds)

    server = subprocess.Popen([sys.executable, "-m", "bench.http_stack_bench", "--serve"], stdout=subprocess.PIPE)
    try:
        port = int(server.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        print(f"{calls} keep-alive calls per stack, best of {rounds}; server in process {server.pid}, "
              f"client CPU = this process only\n")  # fmt: skip
        print("| request | stack | CPU µs/call | user | sys | ×http.client | wall µs/call | connections |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        baseline: dict[str, float] = {}
        wanted = [w for w in args.only.split(",") if w]
        for request, name, stack in STACKS:
            if wanted and not any(w in name for w in wanted) and name != "http.client":
                continue
            before = connections(port)
            call, close = stack(base)
            try:
                row = measure(call, calls, rounds)
            finally:
                close()
            opened = connections(port) - before - 1
            baseline.setdefault(request, row["cpu_us"])
            print(f"| {request} | {name} | {row['cpu_us']:.0f} | {row['user_us']:.0f} | {row['sys_us']:.0f} | "
                  f"{row['cpu_us'] / baseline[request]:.2f} | {row['wall_us']:.0f} | {opened} |", flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait()
    print(f"\nPython {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
