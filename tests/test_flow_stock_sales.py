"""Stock that stays right: the till lowers its stock on every sale and return, and the stock flow never puts back
units the till sold that AccountView does not show yet. Sales are rung up at the MplusKASSA sandbox's till, the
orders and stock flows run in every order (with AccountView's stock changing in between), for each booking mode;
after every step the till's figure is at most AccountView's figure minus the sales not yet booked.

Booked as sales orders, sales and returns reach AccountView's stock (the profile's assumption), so the two agree
once everything is booked. Booked without article lines (a booking per receipt or per till closing) they never
do: that combination must drift and the doctor says so (test_doctor_flags_stock_that_must_drift). There a booked
return would lower "AccountView minus not booked" below what the till already holds, whatever the stock flow
sends, so those modes ring up sales only.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import permutations

import pytest
from test_flow_orders import Env, set_dj2
from test_flow_sales import close_shift, closing_setup, receipts_setting, ring

from apicenter_sandbox.mplus.values import from_quantity
from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync.flows.base import RunOptions
from apicenter_sync.i18n import references

MODES = {  # mode -> (settings of the orders flow, returns rung up too)
    "sales order per receipt": ({"order_type": "sales_order", "receipt_booking": "each"}, True),
    "booking per receipt": ({"order_type": "booking", "receipt_booking": "each"}, False),
    "booking per till closing": ({"order_type": "sales_order", "receipt_booking": "per_closing"}, False),
}
STEPS = ("sale", "orders", "stock", "purchase")


@pytest.fixture
def env():
    with start_sandboxes(size=60) as sb:
        e = Env(sb)
        e.store.settings.set("default_debtor_mode", "when_no_customer", "orders")
        e.store.settings.set("default_debtor_number", "10001", "orders")
        e.store.mappings.set_table("warehouse_branch", {"HOOFD": "1", "WINKEL": "2"})
        yield e
        e.close()


def stock_article(env: Env) -> str:
    """An article both systems know and keep stock of, with stock in HOOFD (branch 1)."""
    w = env.sb.world
    for a in w.articles:
        if a.in_mplus and a.in_accountview and a.sku.isdigit() and not a.blocked and a.sku != w.edge["zero_stock"]:
            if any(s.warehouse == "HOOFD" and s.on_hand > 5 for s in a.stock):
                return a.sku
    raise AssertionError("no stock article")


def av_row(env: Env, sku: str) -> dict:
    rows = env.av.iter_rows("STK1", "ART_STOCK")
    return next(r for r in rows if str(r["ART_CODE"]).strip() == sku and str(r["WH_CODE"]).strip() == "HOOFD")


def av_figure(env: Env, sku: str) -> Decimal:
    row = av_row(env, sku)
    return Decimal(str(row["QTY_ONHAND"])) - Decimal(str(row["QTY_RES"]))


def till_figure(env: Env, sku: str) -> Decimal:
    app = env.sb.mplus.app
    with app.lock:
        row = app.store.stock[(1, int(sku))]
        return from_quantity(row["amountFree"], row.get("decimalPlacesFree"))


class Shop:
    def __init__(self, env: Env, sku: str, returns: bool = True):
        self.env, self.sku, self.rung = env, sku, []  # (receiptId, quantity)
        self.n, self.returns = 0, returns

    def sale(self) -> None:
        self.n += 1
        qty = "-1" if self.returns and self.n % 3 == 0 else "2"  # every third a return
        kind = "credit_receipt" if qty.startswith("-") else "receipt"
        sold = ring(self.env, kind=kind, lines=[{"articleNumber": int(self.sku), "quantity": qty}],
                    payments=[{"method": "PIN"}])  # fmt: skip
        self.rung.append((sold["receiptId"], Decimal(qty)))

    def not_booked(self) -> Decimal:
        """What the test knows was sold and not booked: receipts without a booking (own or on a closing's page)."""
        total = Decimal(0)
        for rid, qty in self.rung:
            binding = self.env.store.bindings.get("receipt", rid)
            if binding is None or binding.state != "synced":
                total += qty
        return total

    def shift_open(self) -> bool:
        """A receipt not counted by a closing yet (the till closes no empty shift)."""
        app = self.env.sb.mplus.app
        with app.lock:
            return any(rid not in app.store.counted for rid, _ in self.rung)

    def purchase(self) -> None:
        """AccountView's stock changes (goods received): the row changes, so the stock flow sends it again."""
        row = av_row(self.env, self.sku)
        self.env.av.update("STK1", "ART_STOCK", {"REC_ID": row["REC_ID"],
                                                  "QTY_ONHAND": float(row["QTY_ONHAND"]) + 5}, "REC_ID")  # fmt: skip

    def step(self, name: str, per_closing: bool) -> None:
        if name == "sale":
            self.sale()
        elif name == "purchase":
            self.purchase()
        elif name == "orders":
            if per_closing and self.shift_open():
                close_shift(self.env)
            result = self.env.run()
            assert result.ok and not result.failures, (result.error, result.failures)
        else:
            result = self.env.engine.run("stock", RunOptions())
            assert result.ok and not result.failures, (result.error, result.failures)

    def check(self, where: str) -> None:
        till, books, open_ = till_figure(self.env, self.sku), av_figure(self.env, self.sku), self.not_booked()
        assert till <= books - open_, f"{where}: till {till} > AccountView {books} - not booked {open_}"


@pytest.mark.parametrize("mode", list(MODES))
def test_the_tills_stock_never_exceeds_the_books_minus_sales_not_booked(env, mode):
    settings, returns = MODES[mode]
    receipts_setting(env)
    if settings["receipt_booking"] == "per_closing":
        closing_setup(env)
    if settings["order_type"] == "booking":
        set_dj2(env)
    for name, value in settings.items():
        env.store.settings.set(name, value, "orders")
    sku = stock_article(env)
    shop = Shop(env, sku, returns)
    assert env.engine.run("stock", RunOptions(full=True)).ok
    assert till_figure(env, sku) == av_figure(env, sku)
    per_closing = settings["receipt_booking"] == "per_closing"
    for n, order in enumerate(permutations(STEPS)):
        for name in order:
            shop.step(name, per_closing)
            shop.check(f"{n}:{'>'.join(order)} after {name}")
    # A full re-sync sends every figure again: still none above the books minus what is not booked.
    shop.sale()
    assert env.engine.run("stock", RunOptions(full=True)).ok
    shop.check("full re-sync")
    assert shop.not_booked()
    if settings["order_type"] == "sales_order" and not per_closing:
        # Sales orders move AccountView's stock (profile assumption): once all is booked and sent, they agree.
        shop.step("orders", per_closing)
        shop.step("stock", per_closing)
        assert shop.not_booked() == 0 and till_figure(env, sku) == av_figure(env, sku)


def test_the_stock_flow_says_what_it_subtracted(env):
    receipts_setting(env)
    sku = stock_article(env)
    assert env.engine.run("stock", RunOptions(full=True)).ok
    before = av_figure(env, sku)
    shop = Shop(env, sku)
    shop.sale()
    shop.purchase()
    assert env.engine.run("stock", RunOptions()).ok
    assert till_figure(env, sku) == before + 5 - 2
    line = next(ln for ln in env.store.log.list_lines(flow="stock", limit=50) if ln.source_id == f"{sku}@HOOFD")
    [step] = line.reply["steps"]
    assert f"minus 2 sold at the till and not booked yet: {int(before) + 3}" in step  # whole units here


def test_an_order_delivered_at_the_till_is_not_put_back_before_it_is_booked(env):
    """Orders (the default source) move the till's stock when delivered (the sandbox till, docs/sandbox-mplus.md):
    delivered and not complete, the orders flow does not book it and the stock flow subtracts what it delivered;
    paid and complete, it is booked as a sales order, AccountView's figure shows it and the two agree."""
    import uuid

    w = env.sb.world
    in_seeded_orders = {ln.sku for o in w.orders for ln in o.lines}  # booked by the first run, moving AccountView
    sku = next(a.sku for a in w.articles if a.in_mplus and a.in_accountview and a.sku.isdigit() and not a.blocked
               and a.sku not in in_seeded_orders and any(s.warehouse == "HOOFD" and s.on_hand > 5 for s in a.stock))
    assert env.engine.run("stock", RunOptions(full=True)).ok
    start = till_figure(env, sku)
    relation = next(c.mplus_relation for c in env.sb.world.customers if c.in_mplus)
    created = env.mp.create_order({"extOrderId": "ST-ORDER-1", "relationNumber": relation, "entryBranchNumber": 1,
                                   "lineList": {"line": [{"articleNumber": int(sku), "data": {"quantity": 2}}]}},
                                  str(uuid.uuid4()))  # fmt: skip
    assert till_figure(env, sku) == start  # reserved, still in the shop
    delivered = env.mp.call("deliverOrder", idempotent=False, request={"orderId": created["orderId"]})
    assert delivered["result"] == "DELIVER-ORDER-RESULT-OK"
    assert till_figure(env, sku) == start - 2
    for step in ("orders", "stock", "full"):
        result = env.run() if step == "orders" else env.engine.run("stock", RunOptions(full=step == "full"))
        assert result.ok, result.error
        assert env.store.bindings.get("order", "ST-ORDER-1") is None  # not complete: not booked (bound by reference)
        assert till_figure(env, sku) == av_figure(env, sku) - 2, step
    paid = env.mp.call("payOrder", idempotent=False, request={
        "orderId": created["orderId"], "prepay": False,
        "paymentList": {"payment": [{"method": "PIN", "amount": created["order"]["totalInclAmount"]}]}})  # fmt: skip
    assert paid["result"] == "PAY-ORDER-RESULT-OK"
    assert env.run().ok and env.engine.run("stock", RunOptions()).ok
    assert env.store.bindings.get("order", "ST-ORDER-1").state == "synced"
    assert till_figure(env, sku) == av_figure(env, sku)


def test_an_order_cancelled_at_the_till_is_neither_booked_nor_subtracted(env):
    """An order made at the till and cancelled (cancelOrder, docs/sandbox-mplus.md "Orders and stock") releases its
    reservation and never delivers: the orders flow skips it as cancelled (and says so, in the reader's language),
    nothing reaches AccountView, the stock flow subtracts nothing for it and its floor does not stay on it."""
    import uuid

    from apicenter_sync.flows.stock_sales import floor_stream

    w = env.sb.world
    in_seeded_orders = {ln.sku for o in w.orders for ln in o.lines}
    sku = next(a.sku for a in w.articles if a.in_mplus and a.in_accountview and a.sku.isdigit() and not a.blocked
               and a.sku not in in_seeded_orders and any(s.warehouse == "HOOFD" and s.on_hand > 5 for s in a.stock))
    assert env.engine.run("stock", RunOptions(full=True)).ok
    relation = next(c.mplus_relation for c in w.customers if c.in_mplus)
    created = env.mp.create_order({"extOrderId": "ST-CANCEL-1", "relationNumber": relation, "entryBranchNumber": 1,
                                   "lineList": {"line": [{"articleNumber": int(sku), "data": {"quantity": 2}}]}},
                                  str(uuid.uuid4()))  # fmt: skip
    assert env.run().ok  # read while open: skipped for its state, not booked
    cancelled = env.mp.call("cancelOrder", idempotent=False, orderId=created["orderId"])
    assert cancelled["result"] == "CANCEL-ORDER-RESULT-OK"
    marker = int(env.mp.get_order(created["orderId"])["syncMarker"])
    refused = env.mp.call("payOrder", idempotent=False, request={
        "orderId": created["orderId"], "prepay": False,
        "paymentList": {"payment": [{"method": "PIN", "amount": created["order"]["totalInclAmount"]}]}})  # fmt: skip
    assert refused["result"] == "PAY-ORDER-RESULT-FAILED"
    result = env.run()
    assert result.ok and "ST-CANCEL-1" not in dict(result.failures), result.failures  # a seeded edge order fails
    last = next(ln for ln in env.store.log.list_lines(flow="orders", limit=500) if ln.source_id == "ST-CANCEL-1")
    assert last.action == "skipped" and "cancelled orders are not sent" in last.error
    assert "ORDER-CANCEL-STATE-COMPLETE" in last.error
    assert "geannuleerde orders worden niet verstuurd" in last.error.render("nl")
    assert env.store.bindings.get("order", "ST-CANCEL-1") is None and not env.documents("ST-CANCEL-1")
    for full in (False, True):
        assert env.engine.run("stock", RunOptions(full=full)).ok
        assert till_figure(env, sku) == av_figure(env, sku), "a cancelled order lowered the figure sent to the till"
    assert int(env.store.watermarks.get("orders", floor_stream("order")).value) > marker


def test_the_reconciliation_holds_a_configuration_that_must_drift_to_the_invariant(env):
    """Receipts booked per till closing never reach AccountView's stock (must drift), yet the till's figure of a
    sold article is not skipped: it is held to AccountView's figure minus the sales not booked, and one above is
    flagged (apicenter_sandbox/reconcile.py, as the chaos and corpus runs use it)."""
    from apicenter_sandbox.reconcile import reconcile

    closing_setup(env)
    env.store.mappings.set_table("vat_code_av_mplus", {c: c for c in ("0", "1", "2", "4", "5")})  # to read the rest
    env.store.mappings.set_table("customer_group_price_group", {"MKB": "2", "HOR": "3"})
    sku = stock_article(env)
    seeded = set(env.sb.mplus.app.store.article_product)
    shop = Shop(env, sku, returns=False)
    assert env.engine.run("stock", RunOptions(full=True)).ok
    for step in ("sale", "orders", "stock", "sale"):
        shop.step(step, per_closing=True)
    assert shop.not_booked() == 2  # the second sale: not in a closing yet
    key = f"stock {sku}@HOOFD"
    report = reconcile(env.sb, env.store, env.av, env.mp, seeded)
    assert not [m for m in report.mismatches if m.startswith(key)], report.mismatches
    reply = env.mp.call("updateStock", request={"branchNumber": 1, "articleNumber": int(sku), "amountChanged": 3})
    assert reply["result"] == "UPDATE-STOCK-RESULT-OK"  # the till now holds more than the books minus not booked
    report = reconcile(env.sb, env.store, env.av, env.mp, seeded)
    assert [m for m in report.mismatches if m.startswith(f"{key} amountFree (at most)")], report.mismatches


@pytest.mark.parametrize(
    ("orders", "stock", "drifts"),
    [
        ({"source_document_type": ["receipt"]}, {}, []),
        ({"source_document_type": ["receipt"], "order_type": "booking"}, {}, ["booking"]),
        ({"source_document_type": ["receipt"], "receipt_booking": "per_closing"}, {}, ["per_closing"]),
        ({"source_document_type": ["order"]}, {"stock_figure": "on_hand"}, ["on_hand"]),
    ],
)
def test_doctor_flags_stock_that_must_drift(env, orders, stock, drifts):
    from apicenter_sync.doctor import run_doctor

    for name, value in orders.items():
        env.store.settings.set(name, value, "orders")
    for name, value in stock.items():
        env.store.settings.set(name, value, "stock")
    report = run_doctor(env.engine, systems=("mplus",))
    [check] = [c for c in report.checks if c.id == "mplus.stock_drift"]
    if not drifts:
        assert check.status == "confirmed" and "reach AccountView's stock once booked" in check.detail
        return
    assert check.status == "refuted" and "the till's stock must drift" in check.detail
    assert all(word in check.detail for word in drifts)
    assert {("setting", "order_type"), ("setting", "manage_stock")} <= set(references(check.hint))  # what to choose
    env.store.settings.set("manage_stock", False, "stock")  # stock kept in the till: nothing to flag
    assert not [c for c in run_doctor(env.engine, systems=("mplus",)).checks if c.id == "mplus.stock_drift"]
