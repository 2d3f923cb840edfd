"""What the till sells with: the setup wizard pre-selects the sales to book from what the till holds lately."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from apicenter_sandbox.runner import start_sandboxes
from apicenter_sandbox.world import SEED_EPOCH
from apicenter_sync.clients.mplus import MplusClient
from apicenter_sync.flows.order_sources import recent_sales, sales_to_book


@pytest.fixture(scope="module")
def sb():
    with start_sandboxes(size=20) as sandboxes:
        yield sandboxes


def ring(sb, **sale) -> dict:
    reply = httpx.post(sb.mplus_url + "/_sandbox/till/sale", json=sale)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_the_till_says_which_sales_it_holds(sb):
    article = next(int(a.sku) for a in sb.world.articles if a.in_mplus and a.sku.isdigit())
    client = MplusClient(sb.mplus_url, sb.mplus_ident, sb.mplus_secret)
    try:
        # The seeded web-shop orders of the first days: orders only, and so orders are booked.
        seeded = recent_sales(client, SEED_EPOCH.date() + timedelta(days=3), days=10)
        assert seeded["order"] > 0 and seeded["receipt"] == seeded["invoice"] == 0
        assert sales_to_book(seeded) == ["order"]
        # A shop selling at the till today: receipts (cash in/out is no sale) and an invoice, no recent order.
        ring(sb, lines=[{"articleNumber": article, "quantity": "1"}], payments=[{"method": "PIN"}])
        ring(sb, kind="cash_in", payments=[{"method": "CASH", "amount": 1000}])
        ring(sb, kind="invoice", lines=[{"articleNumber": article, "quantity": "2"}], payments=[{"method": "PIN"}])
        today = recent_sales(client, date.today())
        assert today == {"order": 0, "receipt": 1, "invoice": 1}
        assert sales_to_book(today) == ["receipt", "invoice"]
        # A till without any sale yet: receipts, what a till sells with.
        assert sales_to_book(recent_sales(client, date(2020, 1, 1))) == ["receipt"]
    finally:
        client.close()
