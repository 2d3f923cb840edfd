"""The orders flow on every sale a till makes: receipts, invoices, till closings, line values and discounts,
payments and cash rounding, waiting for master data, delivery addresses.

Sales are made the way a till makes them: through the MplusKASSA sandbox's till endpoints (``/_sandbox/till/sale``,
``/_sandbox/till/close``, which price lines as the till does) and its SOAP operations (``createOrderV3``,
``payOrder``); everything is read back over SOAP and checked in the AccountView sandbox over HTTP.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from test_flow_orders import Env, dj_total, line_of, so_total

from apicenter_sandbox.mplus.schema import load_model
from apicenter_sandbox.mplus.values import mplus_date, mplus_datetime, quantity
from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync.clients.accountview import Filter
from apicenter_sync.errors import RecordError
from apicenter_sync.flows.order_amounts import DISCOUNT_TYPES, line_value
from apicenter_sync.i18n import references
from apicenter_sync.models import OrderLine

OTHER, ROUNDING, DEPOSIT = "DIVERS", "AFROND", "STATIEGELD"


@pytest.fixture
def env():
    with start_sandboxes(size=100) as sb:
        e = Env(sb)
        for sku, text in ((OTHER, "Diversen"), (ROUNDING, "Kasafronding"), (DEPOSIT, "Statiegeld")):
            e.av.create("AK1", "ARTICLE", {"ART_CODE": sku, "ART_DESC1": text})
        s = e.store.settings
        s.set("other_line_article", OTHER, "orders")
        s.set("cash_rounding_article", ROUNDING, "orders")
        s.set("default_debtor_mode", "when_no_customer", "orders")  # anonymous till sales
        s.set("default_debtor_number", "10001", "orders")
        e.store.mappings.set_table("bpe_articles", {"DEP-1": DEPOSIT})
        e.store.mappings.set_table("payment_method_condition",
                                   {"ACCOUNT": "14", "CASH": "0", "PIN": "0", "GIFTCARD": "0", "IDEAL": "0"})  # fmt: skip
        yield e
        e.close()


def articles(env: Env, pct: int) -> list[int]:
    """Articles both systems know, at a VAT rate."""
    w = env.sb.world
    rates = {v.code: v.pct for v in w.vat_codes}
    return [int(a.sku) for a in w.articles if a.in_mplus and a.in_accountview and a.sku.isdigit()
            and a.sku not in (w.edge["shipping_article"],) and rates[a.vat_code] == pct]  # fmt: skip


def ring(env: Env, **sale) -> dict:
    reply = httpx.post(env.sb.mplus_url + "/_sandbox/till/sale", json=sale)
    assert reply.status_code == 200, reply.text
    return reply.json()


def close_shift(env: Env, **request) -> dict:
    reply = httpx.post(env.sb.mplus_url + "/_sandbox/till/close", json=request)
    assert reply.status_code == 200, reply.text
    return reply.json()


def paid(sale: dict) -> Decimal:
    return Decimal(sum(p["amount"] for p in sale["paymentList"]["payment"])) / 100


def total(sale: dict) -> Decimal:
    return Decimal(sale["totalInclAmount"]) / 100


def seeded_waiting(env: Env) -> set[str]:
    """The seeded order that waits for an article the books lack (the world's edge case)."""
    return {env.sb.world.edge["order_missing_sku"]}


def receipts_setting(env: Env, kinds: str = "receipt") -> None:
    env.store.settings.set("source_document_type", kinds, "orders")


# --- receipts, one document each ---------------------------------------------------------------------------------
def test_receipts_of_every_shape_are_booked_once_to_the_cent(env):
    high, low = articles(env, 21), articles(env, 9)
    relation = env.add_relation(name="Kim de Vries", email="kim@vries.example", country="NL")
    sales = {
        "percent": ring(env, lines=[{"articleNumber": high[0], "quantity": "2", "discountPercentage": 15},
                                    {"articleNumber": low[0], "quantity": "1.5"}],
                        payments=[{"method": "CASH"}]),  # fmt: skip
        "return": ring(env, kind="credit_receipt", lines=[{"articleNumber": high[1], "quantity": "-1"}],
                       payments=[{"method": "PIN"}]),  # fmt: skip
        "mixed": ring(env, lines=[{"articleNumber": high[2], "quantity": "1"},
                                  {"articleNumber": low[1], "quantity": "-2", "discountAmount": 10}],
                      payments=[{"method": "PIN"}]),  # fmt: skip
        "text_and_deposit": ring(env, lines=[
            {"articleNumber": 0, "text": "Reparatie", "price": 1250, "vatCode": 2, "quantity": "1"},
            {"articleNumber": 0, "text": "Statiegeld krat", "price": 390, "vatCode": 0, "bpeId": "DEP-1", "quantity": "2"},
            {"articleNumber": 0, "text": "Bedankt voor uw bezoek", "price": 0, "vatCode": 0, "quantity": "1"},
        ], payments=[{"method": "PIN"}]),  # fmt: skip
        "gift_card_and_pin": ring(env, relationNumber=relation,
                                  lines=[{"articleNumber": high[3], "quantity": "3", "discountAmount": 199}],
                                  payments=[{"method": "GIFTCARD", "amount": 1000}, {"method": "PIN"}]),  # fmt: skip
        "free_article": ring(env, lines=[
            {"articleNumber": high[4], "quantity": "2"},
            {"articleNumber": high[4], "quantity": "1", "discountPercentage": 100,
             "discountType": "DISCOUNT-TYPE-SALE-PROMOTION-FREE-ARTICLE"}], payments=[{"method": "CASH"}]),  # fmt: skip
        "zero_price": ring(env, lines=[{"articleNumber": high[5], "quantity": "1", "price": 0}],
                           payments=[]),  # fmt: skip
        "on_account": ring(env, relationNumber=relation, lines=[{"articleNumber": low[2], "quantity": "4"}],
                           payments=[{"method": "ACCOUNT"}]),  # fmt: skip
    }
    cash_in = ring(env, kind="cash_in", lines=[], payments=[{"method": "CASH", "amount": 5000}])
    receipts_setting(env)
    result = env.run()
    assert result.ok and not result.failures, result.failures
    assert result.counts["created"] == len(sales)
    for name, sale in sales.items():
        header, lines = env.one_document(sale["receiptId"])
        # The document is worth what was paid: the till's total, plus the cash rounding on a line of its own.
        expected = paid(sale) if sale["paymentList"]["payment"] else total(sale)
        assert so_total(lines) == expected, (name, lines)
        rounding = [ln for ln in lines if ln["ART_CODE"] == ROUNDING]
        assert sum(Decimal(str(ln["ART_PX"])) for ln in rounding) == paid(sale) - total(sale) if rounding else True
    skipped = {ln.source_id: ln.error for ln in env.store.log.list_lines(flow="orders", action="skipped")}
    assert "not a sale" in skipped[cash_in["receiptId"]]
    # The percentage discount came from the till's own numbers: 15 % of 2 pieces, rounded half up.
    percent = env.one_document(sales["percent"]["receiptId"])[1]
    assert any(ln["ART_CODE"] == ROUNDING for ln in percent) == (paid(sales["percent"]) != total(sales["percent"]))
    # Lines without an article went onto the configured articles; the text line without an amount was left out.
    text_lines = env.one_document(sales["text_and_deposit"]["receiptId"])[1]
    assert sorted(ln["ART_CODE"] for ln in text_lines) == sorted([OTHER, DEPOSIT])
    # Several payments: the largest decides the payment condition; the relation became the debtor.
    gift_header = env.one_document(sales["gift_card_and_pin"]["receiptId"])[0]
    assert gift_header["RPL_INV"] != "10001" and env.debtors("kim@vries.example")
    # A second run writes nothing.
    before = env.writes()
    again = env.run()
    assert again.ok and not again.counts.get("created") and env.writes() == before


def test_receipts_stream_is_incremental_and_each_receipt_lands_once(env):
    high = articles(env, 21)
    receipts_setting(env)
    first = [ring(env, lines=[{"articleNumber": high[i], "quantity": "1"}], payments=[{"method": "PIN"}])
             for i in range(3)]  # fmt: skip
    assert env.run().counts["created"] == 3
    later = ring(env, lines=[{"articleNumber": high[4], "quantity": "2"}], payments=[{"method": "PIN"}])
    second = env.run()
    assert second.counts == Counter({"created": 1})
    for sale in [*first, later]:
        assert len(env.documents(sale["receiptId"])) == 1
    assert env.store.watermarks.get("orders", "receipt").value == str(later["syncMarker"])


def test_receipt_lines_that_cannot_be_booked_name_the_line_and_the_rest_goes_on(env):
    high = articles(env, 21)
    receipts_setting(env)
    good = ring(env, lines=[{"articleNumber": high[0], "quantity": "1"}], payments=[{"method": "PIN"}])
    env.store.mappings.set_table("bpe_articles", {})
    env.store.settings.set("other_line_article", "", "orders")
    no_article = ring(env, lines=[{"articleNumber": 0, "text": "Statiegeld", "price": 25, "vatCode": 0,
                                   "bpeId": "DEP-9", "quantity": "1"}], payments=[{"method": "CASH", "amount": 25}])  # fmt: skip
    short_paid = ring(env, lines=[{"articleNumber": high[1], "quantity": "1"}],
                      payments=[{"method": "PIN", "amount": 100}])  # fmt: skip
    result = env.run()
    errors = dict(result.failures)
    assert "line 1 (Statiegeld)" in errors[no_article["receiptId"]]
    assert "“Deposits (BPE) → articles” (row BPE DEP-9)" in errors[no_article["receiptId"]]
    assert ("table", "bpe_articles") in references(errors[no_article["receiptId"]])
    assert len(env.documents(good["receiptId"])) == 1
    waiting = line_of(env, no_article["receiptId"], "failed")[0]
    assert waiting.wait == "mapping" and waiting.retry_at is not None
    # Partly paid: not a finished sale (default rule), so it is not booked and says why.
    assert "only paid receipts" in line_of(env, short_paid["receiptId"], "skipped")[0].error
    env.store.mappings.set_table("bpe_articles", {"DEP-9": DEPOSIT})
    assert env.run().counts["created"] == 1
    assert [ln["ART_CODE"] for ln in env.one_document(no_article["receiptId"])[1]] == [DEPOSIT]


# --- invoices ----------------------------------------------------------------------------------------------------
def pay_order(env: Env, order_id: str, method: str, amount: int) -> dict:
    reply = env.mp.call("payOrder", idempotent=False, request={"orderId": order_id, "prepay": False,
                                                               "paymentList": {"payment": [{"method": method,
                                                                                            "amount": amount}]}})  # fmt: skip
    assert reply["result"] == "PAY-ORDER-RESULT-OK", reply
    return reply


def test_invoices_are_booked_once_and_an_invoice_of_an_order_is_not_booked_twice(env):
    high = articles(env, 21)
    relation = env.add_relation(name="Bouwbedrijf Jansen", email="inkoop@jansen.example", country="NL")
    created = env.mp.create_order({"extOrderId": "WEB-INV-1", "relationNumber": relation,
                                   "lineList": {"line": [{"articleNumber": high[0], "data": {"quantity": "3",
                                                                                            "discountPercentage": 10}}]}},
                                  str(uuid.uuid4()))  # fmt: skip
    order_total = created["order"]["totalInclAmount"]
    invoice_of_order = pay_order(env, created["orderId"], "PIN", order_total)["invoiceId"]
    own = ring(env, kind="invoice", relationNumber=relation, lines=[{"articleNumber": high[1], "quantity": "2"}],
               payments=[{"method": "ACCOUNT"}])  # fmt: skip
    env.store.settings.set("source_document_type", "order, invoice", "orders")
    result = env.run()
    assert result.ok and set(dict(result.failures)) <= seeded_waiting(env), result.failures
    header, lines = env.one_document("WEB-INV-1")
    assert so_total(lines) == Decimal(order_total) / 100
    assert len(env.one_document(own["invoiceId"])[1]) == 1
    assert not env.documents(invoice_of_order)
    skipped = line_of(env, invoice_of_order, "skipped")[0]
    assert skipped.entity == "invoice" and "WEB-INV-1" in skipped.error
    # Invoices only: the invoice of the order is the sale now, booked once.
    env.store.settings.set("source_document_type", "invoice", "orders")
    assert env.run(full=True).ok
    assert len(env.documents(invoice_of_order)) == 1 and len(env.documents(own["invoiceId"])) == 1


def test_a_failed_invoice_is_read_again_by_its_id(env):
    high = articles(env, 21)
    env.store.settings.set("source_document_type", "invoice", "orders")
    env.store.mappings.set_table("payment_method_condition", {})
    env.store.settings.set("order_type", "booking", "orders")
    invoice = ring(env, kind="invoice", lines=[{"articleNumber": high[0], "quantity": "1"}],
                   payments=[{"method": "PIN"}])  # fmt: skip
    first = env.run()
    assert "revenue account" in dict(first.failures)[invoice["invoiceId"]]
    env.store.mappings.set_table("revenue_account_by_vat_code", {"2": "8000"})
    second = env.run()
    assert second.counts["created"] == 1, second.failures
    header, lines = env.one_document(invoice["invoiceId"], "DJ2P", "DJ_PAGE", "DJ_LINE")
    assert dj_total(lines) == total(invoice)


# --- per till closing -----------------------------------------------------------------------------------------------
def closing_setup(env: Env) -> None:
    receipts_setting(env)
    s = env.store.settings
    s.set("receipt_booking", "per_closing", "orders")
    s.set("cash_rounding_account", "8900", "orders")
    env.store.mappings.set_table("revenue_account_by_vat_code", {"2": "8000", "1": "8010", "0": "8000"})
    env.store.mappings.set_table("payment_method_account", {"CASH": "1000", "PIN": "1100", "GIFTCARD": "1400",
                                                            "ACCOUNT": "1300"})  # fmt: skip


def page_of(env: Env, cash_count_id: str) -> tuple[dict, list[dict]]:
    return env.one_document(cash_count_id, "DJ2P", "DJ_PAGE", "DJ_LINE")


def test_a_till_closing_is_one_balanced_booking_reconciled_to_its_receipts(env):
    closing_setup(env)
    high, low = articles(env, 21), articles(env, 9)
    shift = [
        ring(env, lines=[{"articleNumber": high[0], "quantity": "2", "discountPercentage": 10},
                         {"articleNumber": low[0], "quantity": "0.75"}], payments=[{"method": "CASH"}]),  # fmt: skip
        ring(env, lines=[{"articleNumber": high[1], "quantity": "1"}],
             payments=[{"method": "GIFTCARD", "amount": 500}, {"method": "PIN"}]),  # fmt: skip
        ring(env, kind="credit_receipt", lines=[{"articleNumber": low[1], "quantity": "-1"}],
             payments=[{"method": "CASH"}]),  # fmt: skip
    ]
    ring(env, kind="cash_in", lines=[], payments=[{"method": "CASH", "amount": 10000}])
    other_workplace = ring(env, workplace=2, lines=[{"articleNumber": high[2], "quantity": "1"}],
                           payments=[{"method": "PIN"}])  # fmt: skip
    closing = close_shift(env, workplace=1)
    second = close_shift(env, workplace=2)
    result = env.run()
    assert result.ok and not result.failures, result.failures
    assert result.counts["created"] == 2
    header, lines = page_of(env, closing["cashCountId"])
    assert header["DJ_CODE"] == "MEM"
    assert dj_total(lines) == 0  # balanced: revenue (credit) against payments (debit)
    by_account = defaultdict(Decimal)
    for ln in lines:
        by_account[ln["ACCT_NR"]] += Decimal(str(ln["AMOUNT"]))
    receipts_paid = defaultdict(Decimal)
    for sale in shift:
        for p in sale["paymentList"]["payment"]:
            receipts_paid[p["method"]] += Decimal(p["amount"]) / 100
    assert by_account["1000"] == receipts_paid["CASH"]  # the cash in of 100.00 is money, not a sale
    assert by_account["1100"] == receipts_paid["PIN"] and by_account["1400"] == receipts_paid["GIFTCARD"]
    revenue = -(by_account["8000"] + by_account["8010"] + by_account.get("8900", Decimal(0)))
    assert revenue == sum(paid(s) for s in shift)
    assert -by_account["8010"] == sum(
        Decimal(ln["data"]["totalInclAmount"]) / 100 for s in shift for ln in s["lineList"]["line"]
        if ln["data"]["vatPercentage"] == 9
    )  # fmt: skip
    assert dj_total(page_of(env, second["cashCountId"])[1]) == 0
    # The receipts are bound to their page: booking receipts one by one later never books them twice.
    before = env.writes()
    assert env.run().counts.get("created", 0) == 0 and env.writes() == before
    env.store.settings.set("receipt_booking", "each", "orders")
    assert env.run().counts.get("created", 0) == 0
    for sale in [*shift, other_workplace]:
        assert not env.documents(sale["receiptId"])


def test_a_closing_that_does_not_match_its_receipts_is_refused_naming_the_method(env):
    closing_setup(env)
    high = articles(env, 21)
    sale = ring(env, lines=[{"articleNumber": high[0], "quantity": "1"}], payments=[{"method": "PIN"}])
    closing = close_shift(env)
    app = env.sb.mplus.app
    with app.lock:
        stored = app.store.cash_counts[closing["cashCountId"]]
        stored["cashCountLineList"]["cashCountLine"][0]["addedAmount"] += 700
    result = env.run()
    error = dict(result.failures)[closing["cashCountId"]]
    assert "does not match its receipts" in error
    assert f"PIN: the closing added {paid(sale) + Decimal('7.00')}, its receipts paid {paid(sale)}" in error
    assert not env.documents(closing["cashCountId"], "DJ2P", "DJ_PAGE")


def test_a_closing_waits_for_a_payment_method_account(env):
    closing_setup(env)
    env.store.mappings.set_table("payment_method_account", {"CASH": "1000"})
    high = articles(env, 21)
    ring(env, lines=[{"articleNumber": high[0], "quantity": "1"}], payments=[{"method": "PIN"}])
    closing = close_shift(env)
    first = env.run()
    assert "PIN" in dict(first.failures)[closing["cashCountId"]]
    assert line_of(env, closing["cashCountId"], "failed")[0].wait == "mapping"
    env.store.mappings.set_table("payment_method_account", {"CASH": "1000", "PIN": "1100"})
    assert env.run().counts["created"] == 1
    assert dj_total(page_of(env, closing["cashCountId"])[1]) == 0


# --- line values: the till's numbers first ------------------------------------------------------------------------
def add_raw_order(env: Env, ext: str, lines: list[dict], total_cents: int, *, vat_method="VAT-METHOD-INCLUSIVE",
                  payments: list[dict] | None = None) -> str:  # fmt: skip
    """An order exactly as given (the till's fields only, nothing filled in)."""
    app = env.sb.mplus.app
    now = app.now()
    order_id = str(uuid.uuid4())
    order = {
        "orderId": order_id, "extOrderId": ext, "orderType": "ORDER-TYPE-SALES-ORDER", "entryBranchNumber": 1,
        "employeeNumber": 1, "entryTimestamp": mplus_datetime(now), "financialDate": mplus_date(now.date()),
        "financialBranchNumber": 1, "workplaceNumber": 1, "totalInclAmount": total_cents, "vatMethod": vat_method,
        "deliveryState": "ORDER-DELIVERY-STATE-COMPLETE", "cancelState": "ORDER-CANCEL-STATE-NOTHING",
        "completeState": "ORDER-COMPLETE-STATE-COMPLETE", "orderNumber": {"year": now.year, "number": 9100},
        "lineList": {"line": lines},
        "paymentList": {"payment": payments if payments is not None else [{"method": "PIN", "amount": total_cents}]},
    }  # fmt: skip
    with app.lock:
        app.store.orders[order_id] = {**order, "syncMarker": app.store.touch("order", order_id, None)}
        app.store.order_by_ext[ext] = order_id
    return ext


def raw_line(article: int, qty: str, price: int, pct: int, **data) -> dict:
    mantissa, places = quantity(Decimal(qty))
    return {"articleNumber": article, "text": f"Artikel {article}",
            "data": {"quantity": mantissa, "decimalPlaces": places, "price": price, "vatPercentage": pct, **data}}  # fmt: skip


def test_a_percentage_discount_without_amount_is_applied(env):
    """The sale of the issue: 2 × 14.99 at 15 % off is 25.48, not 29.98."""
    high = articles(env, 21)
    ref = add_raw_order(env, "PCT-1", [raw_line(high[0], "2", 1499, 21, discountPercentage=15)], 2548)
    result = env.run()
    assert result.ok and ref not in dict(result.failures)
    assert so_total(env.one_document(ref)[1]) == Decimal("25.48")


def test_line_values_follow_the_tills_totals_then_amounts_then_percentages(env):
    high = articles(env, 21)
    lines = [
        raw_line(high[0], "3", 1000, 21, totalInclAmount=2700, discountAmount=999),  # the till's total wins
        raw_line(high[1], "1.25", 800, 21, discountAmount=100),  # 10.00 − 1.00
        raw_line(high[2], "2", 333, 21, discountPercentage=12),  # 6.66 − 0.80 (0.7992 rounded half up)
    ]
    ref = add_raw_order(env, "VAL-1", lines, 2700 + 900 + 586)
    assert env.run().ok
    assert so_total(env.one_document(ref)[1]) == Decimal("41.86")


def test_a_vat_exclusive_sale_adds_vat_per_line(env):
    high, low = articles(env, 21), articles(env, 9)
    lines = [raw_line(high[0], "2", 1000, 21, discountAmountExcl=200),  # (20.00 − 2.00) × 1.21 = 21.78
             raw_line(low[0], "1", 1000, 9)]  # 10.90  # fmt: skip
    ref = add_raw_order(env, "EXCL-1", lines, 2178 + 1090, vat_method="VAT-METHOD-EXCLUSIVE")
    assert env.run().ok
    assert so_total(env.one_document(ref)[1]) == Decimal("32.68")


def test_foreign_currency_and_informative_lines(env):
    high = articles(env, 21)
    foreign = add_raw_order(env, "FX-1", [raw_line(high[0], "1", 1000, 21, priceType="PRICE-TYPE-EXCHANGE-RATE-SELL")],
                            1000)  # fmt: skip
    subtotal = {"articleNumber": 0, "text": "Subtotaal", "lineKind": "LINE-KIND-SUBTOTAL",
                "data": {"quantity": 1, "decimalPlaces": 0, "price": 1000, "vatPercentage": 21}}  # fmt: skip
    informative = add_raw_order(env, "SUB-1", [raw_line(high[1], "1", 1000, 21), subtotal], 1000)
    result = env.run()
    errors = dict(result.failures)
    assert "foreign currency" in errors[foreign] and "PRICE-TYPE-EXCHANGE-RATE-SELL" in errors[foreign]
    assert so_total(env.one_document(informative)[1]) == Decimal("10.00")


def test_a_line_total_that_does_not_add_up_is_refused_naming_both_totals(env):
    high = articles(env, 21)
    ref = add_raw_order(env, "BAD-1", [raw_line(high[0], "2", 1499, 21, discountPercentage=15)], 2998)
    error = dict(env.run().failures)[ref]
    assert "add up to 25.48" in error and "29.98" in error
    assert line_of(env, ref, "failed")[0].retry_at is None  # a person must look at it


def test_every_discount_type_of_the_wsdl_is_known_and_a_new_one_is_refused_by_name():
    wsdl = load_model().enums["DiscountType"]
    assert set(DISCOUNT_TYPES) == set(wsdl)
    line = OrderLine(sku="1", quantity=Decimal(1), unit_price_incl=Decimal(10), total_incl=Decimal(9),
                     discount_type="DISCOUNT-TYPE-LOYALTY-POINTS")  # fmt: skip
    with pytest.raises(RecordError, match="DISCOUNT-TYPE-LOYALTY-POINTS"):
        line_value(line, True, "receipt R1")


# --- waiting, visibly -------------------------------------------------------------------------------------------
def test_a_sale_waiting_for_articles_is_retried_with_backoff_for_wait_days_then_refused(env):
    missing = int(env.sb.world.edge["missing_sku"])
    receipts_setting(env)
    s = env.store.settings
    s.set("retry_delay_seconds", 60, "orders")
    s.set("max_attempts", 2, "orders")
    sale = ring(env, lines=[{"articleNumber": missing, "quantity": "1"}], payments=[{"method": "PIN"}])
    rid = sale["receiptId"]
    start = datetime.now(UTC)
    moments = []
    for hours in (0, 1, 2, 3, 4, 5):  # far more tries than max_attempts: a waiting sale counts days, not tries
        env.store.clock = lambda h=hours: start + timedelta(hours=h)
        result = env.run()
        line = line_of(env, rid, "failed")[0]
        assert line.wait == "articles" and "999001" in line.error, line
        moments.append((line.created_at, line.retry_at))
    delays = [(retry - created).total_seconds() for created, retry in moments]
    assert delays[:4] == [60, 120, 240, 480] and max(delays) <= 3600
    assert result.counts["waiting"] == 1 and line.attempts == 6
    assert line.waiting_since == moments[0][0]
    env.store.clock = lambda: start + timedelta(days=7, hours=1)
    gave_up = env.run()
    assert gave_up.counts["refused"] == 1
    refused = line_of(env, rid, "failed")[0]
    assert refused.retry_at is None and refused.wait is None and "refused after waiting 7 days" in refused.error
    assert refused.state == "failed"  # it stays visible as an open failure a person can retry or ignore
    env.store.clock = lambda: start + timedelta(days=8)
    assert not env.run().counts.get("failed")  # no more automatic retries
    env.av.create("AK1", "ARTICLE", {"ART_CODE": str(missing), "ART_DESC1": "Cadeaubon"})
    env.store.log.mark_retry([refused.id])
    assert env.run().counts["created"] == 1
    assert len(env.documents(rid)) == 1


# --- delivery addresses ------------------------------------------------------------------------------------------
def test_an_orders_delivery_address_reaches_the_sales_order_and_is_reused(env):
    high = articles(env, 21)
    relation = env.add_relation(name="Eva Smit", email="eva@smit.example", country="NL", address="Dorpsstraat 3",
                                zipcode="3511 AA", city="Utrecht")  # fmt: skip
    refs = []
    for n in range(2):
        ref = env.add_order(f"DEL-{n}", [(str(high[n]), 1, "10.00", "0", 21)], relation=relation)
        order_id = env.sb.mplus.app.store.order_by_ext[ref]
        with env.sb.mplus.app.lock:
            order = env.sb.mplus.app.store.orders[order_id]
            order["deliveryAddress"] = {"name": "Eva Smit", "address": "Havenweg 12 B", "zipcode": "1011 AB",
                                        "city": "Amsterdam", "country": "NL"}  # fmt: skip
        refs.append(ref)
    same = env.add_order("DEL-SAME", [(str(high[2]), 1, "10.00", "0", 21)], relation=relation)
    result = env.run()
    assert result.ok and set(dict(result.failures)) <= seeded_waiting(env), result.failures
    codes = {env.one_document(ref)[0]["DEL_CODE"] for ref in refs}
    assert len(codes) == 1 and "" not in codes
    debtor = env.one_document(refs[0])[0]["RPL_DEL"]
    rows = list(env.av.iter_rows("ADDR", "DEL_ADDR", filters=[Filter.equal("SUB_NR", debtor)]))
    assert [r["ADDRESS1"] for r in rows] == ["Havenweg 12 B"] and rows[0]["REC_ID"] in codes
    assert not env.one_document(same)[0].get("DEL_CODE")  # delivered to the billing address: none
