"""Record filters (mapping table ``record_filters``): several conditions with every operator on any profile field,
for products (and the stock that follows them), customers and the till's sales (branch, workplace, state); bad rows
refused with the row named. The flows run against the sandboxes over real sockets."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from flow_fixtures import Env, env_fixture, sandboxes_fixture  # noqa: F401 - fixtures "env", "sandboxes"

from apicenter_sync import mapping_tables
from apicenter_sync.record_filters import Condition, conditions, first_failing, parse, sale_value


def test_every_operator():
    cases = [
        ("group = FIETS", "fiets", True), ("group = FIETS", "TUIN", False),
        ("group != FIETS", "TUIN", True), ("group != FIETS", " Fiets ", False),
        ("price < 10", "9.99", True), ("price < 10", "10", False), ("price > 10", 10.5, True),
        ("group in FIETS, TUIN", "tuin", True), ("group in FIETS, TUIN", "KEUKEN", False),
        ("group not in FIETS, TUIN", "KEUKEN", True), ("group not in FIETS, TUIN", "FIETS", False),
        ("ean empty", "", True), ("ean empty", None, True), ("ean empty", "871", False),
        ("ean not empty", "871", True), ("ean not empty", "  ", False),
        ("blocked = false", False, True), ("blocked = false", True, False), ("blocked = true", "J", True),
        ("changed > 2024-06-01", "2024-07-01T10:00:00", True), ("changed < 2024-06-01", "2024-07-01", False),
        ("price > 0", "", False), ("branch = 2", 2, True), ("branch = 2", "02", True),
    ]  # fmt: skip
    for text, value, holds in cases:
        assert parse("products.x", text).holds(value) is holds, (text, value)


@pytest.mark.parametrize(
    ("key", "text", "problem"),
    [
        ("stock.x", "group = A", "flow one of products, customers, orders"),
        ("products", "group = A", "<flow>.<name>"),
        ("products.x", "group ~ A", "operator one of"),
        ("products.x", "group =", "needs a value"),
        ("products.x", "ean empty 3", "takes no value"),
        ("products.x", "price > cheap", "compares numbers or dates"),
        ("products.x", "group in A, , B", "needs a value"),
    ],
)
def test_a_bad_row_is_refused_with_what_is_wrong(key, text, problem):
    with pytest.raises(ValueError) as caught:
        parse(key, text)
    assert problem in str(caught.value)
    assert mapping_tables.check_row("record_filters", key, text)  # checked on save too
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        conditions({"record_filters": {key: text}}, key.partition(".")[0] or "products")


def test_conditions_of_a_flow_and_the_first_that_fails():
    table = {"record_filters": {"orders.branch": "branch in 1, 2", "orders.workplace": "workplace != 9",
                                "products.group": "group = A"}}  # fmt: skip
    conds = conditions(table, "orders")
    assert [c.name for c in conds] == ["orders.branch", "orders.workplace"]
    sale = {"financialBranchNumber": 2, "workplaceNumber": 9, "state": "RECEIPT-STATE-PAID"}
    assert first_failing(conds, sale_value(sale)) == Condition("orders.workplace", "workplace", "!=", ("9",))
    state = parse("orders.state", "state in RECEIPT-STATE-PAID")
    assert state.holds(sale_value(sale)("state"))


def test_products_with_several_conditions_and_the_stock_that_follows(env: Env):
    rows = {str(r["ART_CODE"]).strip(): r for r in env.av_rows("ARTICLE")}
    numeric = sorted(s for s in rows if s.isdigit())
    groups = sorted({str(rows[s]["AG_CODE"]).strip() for s in numeric})[:2]
    env.store.mappings.set_table("record_filters", {
        "products.group": f"group in {', '.join(groups)}",
        "products.price": "price > 20",
        "products.blocked": "blocked != true",
    })  # fmt: skip
    result = env.run("products")

    def passes(r) -> bool:
        return str(r["AG_CODE"]).strip() in groups and Decimal(str(r["PX_SELL"])) > 20 and not r.get("REC_BLK")

    wanted = {s for s in numeric if passes(rows[s])}
    left_out = {s for s in numeric if not passes(rows[s])}
    assert wanted and left_out
    touched = {ln.source_id for ln in env.store.log.list_lines(flow="products", run_id=result.run_id, limit=5000)
               if ln.entity == "article" and ln.action in ("created", "updated")}  # fmt: skip
    assert touched <= wanted
    for sku in left_out:
        line = env.store.log.list_lines(flow="products", source_id=sku, limit=1)
        assert line and line[0].action == "skipped", sku
    stock = env.run("stock")
    sent = {ln.source_id.split("@")[0] for ln in env.store.log.list_lines(flow="stock", run_id=stock.run_id,
                                                                              limit=5000) if ln.action == "updated"}  # fmt: skip
    assert sent and sent <= wanted  # the stock of an article left out is not sent either


def test_customers_by_country_and_empty_fields(env: Env):
    debtors = env.av_rows("CONTACT")
    env.store.mappings.set_table("record_filters", {"customers.country": "country != NL",
                                                    "customers.mail": "email not empty"})  # fmt: skip
    result = env.run("customers")
    lines = env.store.log.list_lines(flow="customers", run_id=result.run_id, limit=5000)
    done = {ln.source_id for ln in lines if ln.action in ("created", "updated")}
    foreign = {str(d["SUB_NR"]).strip() for d in debtors
               if str(d.get("CNT_CODE") or "").strip() not in ("NL",) and str(d.get("MAIL_BUS") or "").strip()}  # fmt: skip
    assert done and done <= foreign
    skipped = [ln for ln in lines if ln.action == "skipped"]
    assert any("left out by the record filter customers.country (country != NL)" in ln.error for ln in skipped)


def test_sales_by_branch_workplace_and_state(sandboxes):
    from test_flow_orders import Env as OrdersEnv

    e = OrdersEnv(sandboxes)
    try:
        e.store.settings.set("source_document_type", "receipt", "orders")
        e.store.settings.set("default_debtor_mode", "when_no_customer", "orders")
        e.store.settings.set("default_debtor_number", "10001", "orders")
        e.store.mappings.set_table("record_filters", {"orders.branch": "branch in 1", "orders.workplace":
                                                      "workplace not in 3", "orders.state": "state = RECEIPT-STATE-PAID"})  # fmt: skip
        w = sandboxes.world
        article = next(int(a.sku) for a in w.articles if a.in_mplus and a.in_accountview and a.sku.isdigit()
                       and a.stock)  # fmt: skip

        def ring(**sale) -> str:
            reply = httpx.post(
                sandboxes.mplus_url + "/_sandbox/till/sale",
                json={"lines": [{"articleNumber": article, "quantity": "1"}], "payments": [{"method": "PIN"}], **sale},
            )
            assert reply.status_code == 200, reply.text
            return reply.json()["receiptId"]

        booked = ring(workplace=1)
        other_workplace = ring(workplace=3)
        unpaid = ring(workplace=2, payments=[{"method": "PIN", "amount": 1}])
        result = e.run()
        assert result.ok, result.error
        assert e.store.bindings.get("receipt", booked).state == "synced"
        for left, why in ((other_workplace, "orders.workplace (workplace not in 3)"),
                          (unpaid, "orders.state (state = RECEIPT-STATE-PAID)")):  # fmt: skip
            line = e.store.log.list_lines(flow="orders", source_id=left, limit=1)[0]
            assert line.action == "skipped" and why in line.error
            assert not e.documents(left)
    finally:
        e.close()
