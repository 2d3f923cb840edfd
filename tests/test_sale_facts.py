"""What Sales from the Till shows of a sale, read from the till's own records (the sandbox till over SOAP)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync.clients.mplus import MplusClient
from apicenter_sync.flows.sale_facts import sale_facts


@pytest.fixture(scope="module")
def sb():
    with start_sandboxes(size=20) as sandboxes:
        yield sandboxes


def test_a_receipt_rung_up_at_the_till_shows_its_number_day_branch_and_total(sb):
    article = next(a for a in sb.world.articles if a.in_mplus and a.sku.isdigit())
    reply = httpx.post(sb.mplus_url + "/_sandbox/till/sale",
                       json={"lines": [{"articleNumber": int(article.sku), "quantity": "2"}],
                             "payments": [{"method": "PIN"}]})  # fmt: skip
    assert reply.status_code == 200, reply.text
    client = MplusClient(sb.mplus_url, sb.mplus_ident, sb.mplus_secret)
    try:
        receipt = client.get_receipt(reply.json()["receiptId"])
    finally:
        client.close()
    facts = sale_facts("receipt", receipt)
    assert facts.number and facts.number == receipt["transactionString"] and facts.number != receipt["receiptId"]
    assert facts.day == date.today() and facts.branch == str(receipt["financialBranchNumber"])
    assert facts.total == Decimal(receipt["totalInclAmount"]) / 100 and facts.total > 0


def test_numbers_of_orders_and_closings_are_year_and_number():
    assert sale_facts("order", {"orderNumber": {"year": 2026, "number": 17}}).number == "2026-17"
    assert sale_facts("order", {"orderNumber": {}, "extOrderId": "WEB-9"}).number == "WEB-9"
    assert sale_facts("closing", {"cashCountNumber": {"year": 2026, "number": 3}}).number == "2026-3"
    assert sale_facts("closing", {"cashCountId": "c-1"}).number == "c-1"


def test_till_dates_customers_and_amounts():
    facts = sale_facts("invoice", {"financialDate": {"day": 5, "mon": 12, "year": 2026}, "totalInclAmount": -12101,
                                   "relationName": "Bakker BV", "relationNumber": 42})  # fmt: skip
    assert (facts.day, facts.total, facts.customer) == (date(2026, 12, 5), Decimal("-121.01"), "Bakker BV (42)")
    assert sale_facts("receipt", {"entryTimestamp": "2026-12-06T10:00:00"}).day == date(2026, 12, 6)
    broken = sale_facts("receipt", {"financialDate": {"day": 31, "mon": 2, "year": 2026}, "totalInclAmount": "9.5"})
    assert (broken.day, broken.total) == (None, None), "shown as unknown, never as a wrong day or amount"


def test_other_records_have_no_sale_facts():
    assert sale_facts("article", {"transactionString": "x"}) is None
    assert sale_facts("receipt", None) is None
