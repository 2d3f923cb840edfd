"""Both sandboxes in a process of their own (``apicenter-sandbox --json``), for benchmarks and for a real Odoo
server that must not share a process, or a GIL, with them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from types import SimpleNamespace

import httpx


class SandboxProcess:
    def __init__(self, size: int, latency_ms: float, orders: int | None = None):
        cmd = [sys.executable, "-m", "apicenter_sandbox.cli", "--size", str(size), "--latency-ms", str(latency_ms),
               "--accountview-port", "0", "--mplus-port", "0", "--json"]  # fmt: skip
        if orders is not None:
            cmd += ["--orders", str(orders)]
        started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        text = ""
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"apicenter-sandbox exited early (code {self.proc.wait()})")
            text += line
            try:
                self.info = json.loads(text)
                break
            except json.JSONDecodeError:
                continue
        self.ready_s = time.perf_counter() - started
        self.pid = self.proc.pid
        self.av_url = self.info["accountview"]["url"]
        self.mp_url = self.info["mplus"]["url"]

    def reset(self) -> None:
        for url in (self.av_url, self.mp_url):
            httpx.post(f"{url}/_sandbox/reset", timeout=300).raise_for_status()

    def rows(self, table: str) -> int:
        return httpx.get(f"{self.av_url}/_sandbox/stats", timeout=60).json()["rows"].get(table, 0)

    def touch(self, table: str, count: int) -> int:
        reply = httpx.post(f"{self.av_url}/_sandbox/touch", json={"table": table, "count": count}, timeout=60)
        reply.raise_for_status()
        return len(reply.json()["touched"])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    @property
    def credentials(self):
        """URLs and credentials with the attribute names of ``runner.Sandboxes``."""
        av, mp = self.info["accountview"], self.info["mplus"]
        return SimpleNamespace(accountview_url=av["url"], av_client_id=av["client_id"],
                               av_client_secret=av["client_secret"], mplus_url=mp["url"], mplus_ident=mp["ident"],
                               mplus_secret=mp["secret"])  # fmt: skip

    def stats(self) -> dict:
        """``GET /_sandbox/stats`` of both: ``{"accountview": …, "mplus": …}``."""
        return {name: httpx.get(f"{url}/_sandbox/stats", timeout=60).json()
                for name, url in (("accountview", self.av_url), ("mplus", self.mp_url))}  # fmt: skip

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
