"""The MplusKASSA choices of the API profile, each against the sandboxes: the SKU in the PLU, the order reference,
the branches read, the VAT look-up by the till's code and revenue accounts by turnover group."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import httpx
import pytest
from flow_fixtures import Env as CatalogueEnv
from test_flow_orders import Env as OrdersEnv

from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync.clients.accountview import Filter
from apicenter_sync.engine import Engine
from apicenter_sync.i18n import references
from apicenter_sync.profile import ApiProfile


def with_profile(env, **mplus) -> ApiProfile:
    profile = ApiProfile.from_overrides({"mplus": mplus})
    env.engine = Engine(env.store, env.av, env.mp, profile)
    if isinstance(env, OrdersEnv):  # anonymous till sales go to the default debtor
        env.store.settings.set("default_debtor_mode", "when_no_customer", "orders")
        env.store.settings.set("default_debtor_number", "10001", "orders")
    return profile


@pytest.fixture
def sb():
    with start_sandboxes(size=60) as sandboxes:
        yield sandboxes


def till_articles(store) -> list[dict]:
    return [a for p in store.products.values() for a in p["articleList"]["article"]]


def test_sku_in_the_plu_matches_the_till_by_plu_and_generates_numbers_for_the_rest(sb):
    env = CatalogueEnv(sb)
    try:
        with_profile(env, sku_field="pluNumber")
        mstore = env.mstore
        # The till already carries the SKU as the PLU of what it sells, under its own article numbers.
        sold = till_articles(mstore)
        for article in sold:
            article["pluNumber"] = str(article["articleNumber"])
        before = {a["articleNumber"] for a in sold}
        assert env.run("products").counts["failed"] == 0  # non-numeric SKUs too: they get a number
        skus = [str(r["ART_CODE"]).strip() for r in env.av_rows("ARTICLE")]
        plus = Counter(a.get("pluNumber") for a in till_articles(mstore))
        assert all(plus[sku] == 1 for sku in skus), "every AccountView article exactly once, found by its PLU"
        new = [a for a in till_articles(mstore) if a["articleNumber"] not in before]
        assert new and all(a["articleNumber"] >= 900_000_000_000 and a["pluNumber"] == a["extArticleId"] for a in new)
        assert {a["articleNumber"] for a in till_articles(mstore)} >= before  # nothing renumbered
        stock = env.run("stock")
        assert stock.counts["failed"] == 0 and stock.counts["updated"] > 0  # through the bindings, not the SKU
        generated = next(a for a in new if env.stock_rows(a["extArticleId"]))
        assert env.mplus_stock(generated["articleNumber"], 1) is not None
        assert env.run("prices").counts["failed"] == 0
        assert env.run("products").counts["created"] + env.run("products").counts["updated"] == 0  # stable
    finally:
        env.close()


def test_a_sale_line_is_booked_on_the_sku_of_its_plu(sb):
    env = OrdersEnv(sb)
    try:
        with_profile(env, sku_field="pluNumber")
        skus = [str(r["ART_CODE"]).strip() for r in env.av.iter_rows("AK1", "ARTICLE") if str(r["ART_CODE"]).isdigit()]
        till = till_articles(sb.mplus.app.store)
        first, second = till[0]["articleNumber"], till[1]["articleNumber"]
        by_plu, by_binding = skus[-1], skus[-2]  # other SKUs than the till's numbers
        env.store.bindings.upsert("article", by_binding, target_id=str(second), payload_hash="")
        env.add_order("PLU-1", [(first, 1, "10.00", "0", 21), (second, 2, "5.00", "0", 21)])
        order = sb.mplus.app.store.orders[sb.mplus.app.store.order_by_ext["PLU-1"]]
        order["lineList"]["line"][0]["pluNumber"] = by_plu
        env.add_order("PLU-2", [(till[2]["articleNumber"], 1, "3.00", "0", 21)])  # no PLU, not bound: waits
        result = env.run()
        _, lines = env.one_document("PLU-1")
        assert sorted(str(ln["ART_CODE"]).strip() for ln in lines) == sorted([by_plu, by_binding])
        waiting = [f for f in result.failures if f[0] == "PLU-2"]
        assert waiting and "has no PLU and no AccountView article is linked" in waiting[0][1]
    finally:
        env.close()


def test_the_order_reference_can_be_the_tills_order_id(sb):
    env = OrdersEnv(sb)
    try:
        with_profile(env, order_reference="orderId")
        result = env.run()
        assert result.ok and result.counts["created"] > 0
        app = sb.mplus.app.store
        booked = [str(h.get("COMMENT1") or "").strip() for p in env.av.iter_pages("SO1", "SO_HDR")
                  for h in p["SO_HDR"] if h.get("INP_USR") == "API"]  # fmt: skip
        assert booked and all(ref in app.orders for ref in booked), "the references are orderIds"
        assert len(booked) == len(set(booked))
        writes = httpx.get(sb.accountview_url + "/_sandbox/stats").json()["total_writes"]
        assert env.run().counts["created"] == 0
        assert httpx.get(sb.accountview_url + "/_sandbox/stats").json()["total_writes"] == writes
    finally:
        env.close()


def test_only_the_configured_branches_are_read(sb):
    env = OrdersEnv(sb)
    try:
        app = sb.mplus.app.store
        branch_two = {o.get("extOrderId") for o in app.orders.values() if o.get("financialBranchNumber") == 2}
        assert branch_two and len(branch_two) < len(app.orders)
        with_profile(env, branches=[2])
        env.run()
        seen = {ln.source_id for ln in env.store.log.list_lines(flow="orders", limit=10_000)}
        assert seen and seen <= branch_two
    finally:
        env.close()


def test_vat_by_the_tills_code_and_revenue_by_turnover_group(sb):
    env = OrdersEnv(sb)
    try:
        with_profile(env, vat_lookup="code", revenue_lookup="turnover_group")
        env.store.settings.set("order_type", "booking", "orders")
        env.store.mappings.set_table("vat_code_mplus_av", {"2": "2", "1": "1", "0": "0"})
        env.store.mappings.set_table("turnover_group_revenue_account", {"102": "8300", "101": "8010"})
        env.store.mappings.set_table("revenue_account_by_vat_code", {"2": "8000", "1": "8010", "0": "8000"})
        till = {a["vatCode"]: a for a in till_articles(sb.mplus.app.store) if a["articleNumber"] < 900000}
        high, low = till[2]["articleNumber"], till[1]["articleNumber"]
        env.add_order("TG-1", [(high, 1, "12.10", "0", 21), (low, 1, "10.90", "0", 9)])
        orders = sb.mplus.app.store.orders
        for line in orders[sb.mplus.app.store.order_by_ext["TG-1"]]["lineList"]["line"]:
            line["data"].update(vatCode={high: 2, low: 1}[line["articleNumber"]],
                                turnoverGroup={high: 102, low: 101}[line["articleNumber"]])  # fmt: skip
        env.add_order("TG-2", [(low, 1, "10.90", "0", 9)])
        orders[sb.mplus.app.store.order_by_ext["TG-2"]]["lineList"]["line"][0]["data"].update(vatCode=7)
        result = env.run()
        _, rows = env.one_document("TG-1", "DJ2P", "DJ_PAGE", "DJ_LINE")
        accounts = {(str(r["VAT_CODE"]).strip(), str(r["ACCT_NR"]).strip(), Decimal(str(r["AMOUNT"]))) for r in rows}
        assert accounts == {("2", "8300", Decimal("12.1")), ("1", "8010", Decimal("10.9"))}
        failure = next(error for ref, error in result.failures if ref == "TG-2")
        assert "MplusKASSA VAT code 7" in failure and ("table", "vat_code_mplus_av") in references(failure)
        assert not list(env.av.iter_rows("DJ2P", "DJ_PAGE", filters=[Filter.equal("COMMENT1", "TG-2")]))
    finally:
        env.close()
