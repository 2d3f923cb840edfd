"""Shared fixtures of the AccountView → MplusKASSA flow tests (products, customers, stock).

Both sandboxes run in-process on free ports (real sockets); one pair per test module, reset to the seeded
world before every test. Every test gets a fresh in-memory state store, a freshly connected AccountView
client (OAuth authorization-code flow against the sandbox), an Mplus client and an :class:`Engine`.

Import what a test module needs::

    from flow_fixtures import Env, env_fixture, sandboxes_fixture  # noqa: F401 - pytest fixtures "env", "sandboxes"
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apicenter_sandbox.runner import Sandboxes, start_sandboxes
from apicenter_sync.clients.accountview import AccountViewClient
from apicenter_sync.clients.accountview_oauth import AccountViewOAuth
from apicenter_sync.clients.mplus import MplusClient
from apicenter_sync.engine import Engine
from apicenter_sync.flows.base import RunOptions, RunResult
from apicenter_sync.retry import RetryPolicy
from apicenter_sync.store import SqliteStore
from apicenter_sync.store.sqlite_tokens import SqliteTokenStore
from apicenter_sync.units import to_cents

SIZE = 60  # articles (30 debtors); the smallest world that holds every edge case the flows need

VAT_CODES = {"0": "0", "1": "1", "2": "2", "4": "4", "5": "5"}
WAREHOUSES = {"HOOFD": "1", "WINKEL": "2"}
PRICE_GROUPS = {"MKB": "2", "HOR": "3"}
FAST_RETRY = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05, jitter=0.0)


class Env:
    """One test's view of both systems: the engine, the clients and in-process access to the sandboxes."""

    def __init__(self, sb: Sandboxes, *, client_timeout: float = 5.0):
        self.sb = sb
        self.world = sb.world
        self.store = SqliteStore(":memory:")
        self.store.mappings.set_table("vat_code_av_mplus", VAT_CODES)
        self.store.mappings.set_table("warehouse_branch", WAREHOUSES)
        self.store.mappings.set_table("customer_group_price_group", PRICE_GROUPS)
        for flow in ("products", "customers", "stock"):
            self.store.settings.set("retry_delay_seconds", 0, flow)
        tokens = SqliteTokenStore(self.store)
        oauth = AccountViewOAuth(sb.accountview_url, sb.av_client_id, sb.av_client_secret, "http://localhost/cb")
        reply = httpx.get(oauth.authorization_url("state-1"))
        code = parse_qs(urlsplit(reply.headers["location"]).query)["code"][0]
        tokens.save(oauth.exchange_code(code))
        self.av = AccountViewClient(oauth.api_url, oauth, tokens, timeout=client_timeout, retry=FAST_RETRY)
        self.av.company_id = self.av.companies()[0]["Id"]
        self.mp = MplusClient(sb.mplus_url, sb.mplus_ident, sb.mplus_secret, timeout=(client_timeout, client_timeout),
                              retry=FAST_RETRY)  # fmt: skip
        self.engine = Engine(self.store, self.av, self.mp)

    # --- running ------------------------------------------------------------------------------------------
    def run(self, flow: str, **options) -> RunResult:
        result = self.engine.run(flow, RunOptions(**options))
        assert result.error is None, f"{flow} stopped: {result.error}"
        return result

    def set(self, flow: str | None, **settings) -> None:
        for name, value in settings.items():
            self.store.settings.set(name, value, flow)

    # --- the sandboxes -----------------------------------------------------------------------------------
    @property
    def av_app(self):
        return self.sb.accountview.app

    @property
    def mp_app(self):
        return self.sb.mplus.app

    @property
    def mstore(self):
        """The Mplus sandbox's storage (products, relations, stock, article groups)."""
        return self.mp_app.store

    def writes(self) -> Counter:
        """Writes per entity the Mplus sandbox counted (GET /_sandbox/stats)."""
        return Counter(httpx.get(f"{self.sb.mplus_url}/_sandbox/stats").json()["writes"])

    def faults_injected(self) -> Counter:
        """Faults both sandboxes injected so far, per kind."""
        total: Counter = Counter()
        for url in (self.sb.accountview_url, self.sb.mplus_url):
            total.update(httpx.get(f"{url}/_sandbox/stats").json()["faults_injected"])
        return total

    def faults(self, rate: float, **options) -> None:
        """Fault injection on both sandboxes (rate 0 = off)."""
        for url in (self.sb.accountview_url, self.sb.mplus_url):
            httpx.post(f"{url}/_sandbox/faults", json={"rate": rate, **options}).raise_for_status()

    # --- AccountView data --------------------------------------------------------------------------------
    def av_rows(self, table: str) -> list[dict]:
        """Copies of the stored rows of an AccountView table, with the defaults of fields a row leaves out."""
        t = self.av_app.tables[table]
        return [{**t.schema.defaults, **row} for row in t.rows.values()]

    def article_row(self, sku: str) -> dict:
        return next(r for r in self.av_rows("ARTICLE") if str(r["ART_CODE"]).strip() == sku)

    def change_article(self, sku: str, **fields) -> None:
        """PUT through the AccountView API (bumps CNG_DATE, as a user's edit would)."""
        self.av.update("AK1", "ARTICLE", {"ART_CODE": sku, **fields}, "ART_CODE")

    def delete_article(self, sku: str) -> None:
        """A user deletes the article in AccountView."""
        table = self.av_app.tables["ARTICLE"]
        key = next(k for k, r in table.rows.items() if str(r["ART_CODE"]).strip() == sku)
        table.delete(key)

    def change_debtor(self, number: str, **fields) -> None:
        self.av.update("AR1", "CONTACT", {"SUB_NR": number, **fields}, "SUB_NR")

    def stock_rows(self, sku: str) -> list[dict]:
        return [r for r in self.av_rows("ART_STOCK") if str(r["ART_CODE"]).strip() == sku]

    def change_stock(self, sku: str, warehouse: str, **fields) -> None:
        row = next(r for r in self.stock_rows(sku) if str(r["WH_CODE"]).strip() == warehouse)
        self.av.update("STK1", "ART_STOCK", {"REC_ID": row["REC_ID"], **fields}, "REC_ID")

    # --- Mplus data --------------------------------------------------------------------------------------
    def mplus_article(self, number: int) -> dict | None:
        return self.mstore.article(int(number))

    def mplus_product_of(self, number: int) -> dict | None:
        return self.mstore.products.get(self.mstore.article_product.get(int(number), -1))

    def relations_with(self, **fields) -> list[dict]:
        def same(a, b) -> bool:
            return str(a or "").strip().lower() == str(b or "").strip().lower()

        return [r for r in self.mstore.relations.values() if all(same(r.get(k), v) for k, v in fields.items())]

    def mplus_stock(self, number: int, branch: int) -> Decimal | None:
        row = self.mstore.stock.get((branch, int(number)))
        if row is None:
            return None
        return Decimal(row["amountFree"]).scaleb(-int(row.get("decimalPlacesFree") or 0))

    def close(self) -> None:
        self.faults(0)
        self.engine.close()
        self.store.close()


def cents(value) -> int:
    return to_cents(Decimal(str(value)))


@pytest.fixture(scope="module", name="sandboxes")
def sandboxes_fixture():
    with start_sandboxes(size=SIZE) as sb:
        yield sb


@pytest.fixture(name="env")
def env_fixture(sandboxes):
    for url in (sandboxes.accountview_url, sandboxes.mplus_url):
        httpx.post(f"{url}/_sandbox/reset").raise_for_status()
    e = Env(sandboxes)
    yield e
    e.close()
