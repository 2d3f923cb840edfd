"""The chaos harness: both sandboxes, one engine on a SQLite store, fault rounds until the flows converge.

Used by the chaos suite (``tests/chaos/test_*.py``), the crash and concurrency tests. Everything runs over
real sockets on 127.0.0.1; the engine is configured from the shipped ``sandbox.toml`` (the same settings and
mapping tables a newcomer gets), with short client timeouts and fast client retries so that a fault costs
milliseconds instead of seconds.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from apicenter_sandbox.demo import sandbox_config_text
from apicenter_sandbox.faults import KINDS
from apicenter_sandbox.runner import Sandboxes, start_sandboxes
from apicenter_sync import config as config_mod
from apicenter_sync.clients.accountview import AccountViewClient
from apicenter_sync.clients.accountview_oauth import AccountViewOAuth
from apicenter_sync.clients.mplus import MplusClient
from apicenter_sync.engine import FLOWS, RUN_ORDER, Engine
from apicenter_sync.flows.base import RunOptions, RunResult
from apicenter_sync.retry import RetryPolicy
from apicenter_sync.store import SqliteStore
from apicenter_sync.store.sqlite_tokens import SqliteTokenStore

ALL_KINDS = tuple(KINDS)  # timeout, reset, http500/502/503/504, http429, slow, error200, lost_reply, expired_token
CLIENT_TIMEOUT = 0.4  # seconds; "timeout" and "slow" faults hold the reply longer than this
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, jitter=0.0)


def config_text(sb: Sandboxes, store_path: str | Path, *, timeout: float | None = None) -> str:
    """The shipped sandbox configuration pointed at these sandboxes and this store file."""
    text = sandbox_config_text(sb).replace('path = "apicenter.sqlite3"', f'path = "{Path(store_path).as_posix()}"')
    if timeout is not None:
        text = text.replace("timeout_seconds = 30", f"timeout_seconds = {timeout}")
        text = text.replace("timeout_seconds = 60", f"timeout_seconds = {timeout}")
    return text


def connect_store(sb: Sandboxes, store: SqliteStore) -> None:
    """OAuth2 authorization code against the sandbox (it consents at once); the tokens go into the store."""
    oauth = AccountViewOAuth(sb.accountview_url, sb.av_client_id, sb.av_client_secret,
                             "http://localhost:8765/apicenter/oauth/callback")  # fmt: skip
    location = httpx.get(oauth.authorization_url("chaos")).headers["location"]
    SqliteTokenStore(store).save(oauth.exchange_code(parse_qs(urlsplit(location).query)["code"][0]))


def post(url: str, path: str, payload: dict | None = None) -> dict:
    reply = httpx.post(f"{url}{path}", json=payload or {}, timeout=10)
    reply.raise_for_status()
    return reply.json()


def stats(url: str) -> dict:
    return httpx.get(f"{url}/_sandbox/stats", timeout=10).json()


class Harness:
    """One engine (SQLite file store, sandbox configuration) against one pair of sandboxes."""

    def __init__(self, sb: Sandboxes, folder: Path, *, client_timeout: float = CLIENT_TIMEOUT,
                 retry: RetryPolicy = FAST_RETRY, max_attempts: int | None = None, extra_config: str = ""):  # fmt: skip
        self.sb = sb
        self.seeded_articles = set(sb.mplus.app.store.article_product)  # what the till sold before any sync
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config_path = self.folder / "apicenter.toml"
        self.config_path.write_text(config_text(sb, self.folder / "apicenter.sqlite3") + "\n" + extra_config,
                                    encoding="utf-8")  # fmt: skip
        self.cfg = config_mod.load(self.config_path)
        self.store = SqliteStore(self.cfg.store_path, self.cfg.backend)
        self.cfg.apply_to(self.store)
        for flow in FLOWS:
            self.store.settings.set("retry_delay_seconds", 0, flow)  # a failed record is due again next round
            if max_attempts is not None:
                self.store.settings.set("max_attempts", max_attempts, flow)
        connect_store(sb, self.store)
        tokens = SqliteTokenStore(self.store)
        av_cfg = self.cfg.accountview
        oauth = AccountViewOAuth(av_cfg.base_url, av_cfg.client_id, av_cfg.client_secret, av_cfg.redirect_uri)
        self.av = AccountViewClient(oauth.api_url, oauth, tokens, timeout=client_timeout, retry=retry)
        self.av.company_id = self.av.companies()[0]["Id"]
        self.mp = MplusClient(sb.mplus_url, sb.mplus_ident, sb.mplus_secret,
                              timeout=(client_timeout, client_timeout), retry=retry)  # fmt: skip
        self.engine = Engine(self.store, self.av, self.mp, self.cfg.profile)

    def run_round(self, on_flow=None) -> list[RunResult]:
        results = []
        for name in RUN_ORDER:
            if on_flow:
                on_flow(name)
            results.append(self.engine.run(name, RunOptions()))
        return results

    def reconcile(self, *, sales_only: bool = False):
        from apicenter_sandbox.reconcile import reconcile

        return reconcile(self.sb, self.store, self.av, self.mp, self.seeded_articles, self.cfg.profile,
                         sales_only=sales_only)  # fmt: skip

    def open_failures(self) -> list:
        return self.store.log.list_lines(failed_only=True, limit=100_000)

    def http_retries(self) -> int:
        return sum(self.av.retries.values()) + sum(self.mp.retries.values())

    def close(self) -> None:
        self.engine.close()
        self.store.close()


@dataclass
class Faults:
    rate: float
    kinds: tuple[str, ...] = ALL_KINDS
    seed: int = 1
    after_write: float = 0.5

    def label(self) -> str:
        return "all" if set(self.kinds) == set(ALL_KINDS) else "+".join(self.kinds)

    def payload(self, salt: int = 0) -> dict:
        return {"rate": self.rate, "kinds": list(self.kinds), "seed": self.seed * 1000 + salt,
                "after_write": self.after_write, "timeout_s": CLIENT_TIMEOUT + 0.1,
                "slow_s": CLIENT_TIMEOUT + 0.2}  # fmt: skip


def set_faults(sb: Sandboxes, faults: Faults | None, salt: int = 0) -> None:
    for i, url in enumerate((sb.accountview_url, sb.mplus_url)):
        post(url, "/_sandbox/faults", faults.payload(salt * 2 + i) if faults else {"rate": 0})


def injected(sb: Sandboxes) -> Counter:
    total: Counter = Counter()
    for url in (sb.accountview_url, sb.mplus_url):
        total.update(stats(url)["faults_injected"])
    return total


def writes(sb: Sandboxes) -> dict[str, Counter]:
    return {
        "accountview": Counter(stats(sb.accountview_url)["writes"]),
        "mplus": Counter(stats(sb.mplus_url)["writes"]),
    }


@dataclass
class ChaosOutcome:
    rounds: int
    converged: bool
    seconds: float
    faults: Counter
    http_retries: int
    flow_retries: int  # records that failed at least once and were retried by a later run
    stops: list[str] = field(default_factory=list)  # runs that stopped (auth, source unreachable…)
    token_expiries: int = 0
    reconnects: int = 0  # AccountView connections lost to rotated refresh tokens whose replies were lost twice


def chaos_rounds(h: Harness, faults: Faults, *, max_rounds: int = 12, changes=None,
                 quiet_rounds: int = 3) -> ChaosOutcome:  # fmt: skip
    """Fault rounds of all five flows until they converge (bounded), then clean rounds until nothing is written.

    Converged = every run of the round finished and the strict reconciliation (faults off) is clean: the only
    open failures are those of records that can never converge, each with its reason.
    ``changes(round_no)`` may edit the source between rounds (returns True when it did), so watermarks are tested
    under faults too.
    """
    rng = random.Random(faults.seed)
    started = time.monotonic()
    stops: list[str] = []
    expiries = reconnects = rounds = 0
    converged = False

    def maybe_expire(_flow: str) -> None:
        nonlocal expiries
        if "expired_token" in faults.kinds and rng.random() < faults.rate:
            expiries += post(h.sb.accountview_url, "/_sandbox/expire-tokens").get("expired_access_tokens", 0)

    for rounds in range(1, max_rounds + 1):
        set_faults(h.sb, faults, salt=rounds)
        results = h.run_round(on_flow=maybe_expire)
        set_faults(h.sb, None)
        stops.extend(f"round {rounds} {r.flow}: {r.error}" for r in results if r.error)
        if any("invalid_grant" in str(r.error or "") for r in results):
            # The reply of a refresh and of its one allowed retry were both lost: the refresh token is dead
            # (docs/reliability.md). A person reconnects AccountView; the state store is untouched by it.
            connect_store(h.sb, h.store)
            reconnects += 1
        if changes and changes(rounds):
            continue  # the source changed: one more round before the state can match
        if all(r.ok for r in results) and h.reconcile().ok:
            converged = True
            break
    faults_seen = injected(h.sb)
    for _ in range(quiet_rounds):  # faults off: until a round writes nothing
        final = h.run_round()
        stops.extend(f"clean round {r.flow}: {r.error}" for r in final if r.error)
        if all(r.ok and not (r.counts["created"] or r.counts["updated"]) for r in final):
            break
    failed_once = {(ln.flow, ln.entity, ln.source_id) for ln in h.store.log.list_lines(action="failed", limit=100_000)}
    open_now = {(ln.flow, ln.entity, ln.source_id) for ln in h.open_failures()}
    return ChaosOutcome(rounds=rounds, converged=converged, seconds=time.monotonic() - started, faults=faults_seen,
                        http_retries=h.http_retries(), flow_retries=len(failed_once - open_now), stops=stops,
                        token_expiries=expiries, reconnects=reconnects)  # fmt: skip


def fresh_sandboxes(size: int, seed: int = 1, orders: int | None = None) -> Sandboxes:
    return start_sandboxes(size=size, seed=seed, orders=orders)
