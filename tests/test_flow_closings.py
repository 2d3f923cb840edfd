"""Till closings booked once, whatever happens: closings with nothing to book, lost replies of a closing's page or
of a receipt's own document, switching ``receipt_booking`` in both directions, refusals that stay final, and page
totals of refund-only and mixed shifts. Sales are rung up at the MplusKASSA sandbox's till; everything is read back
over SOAP and checked in the AccountView sandbox over HTTP.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources

import httpx
import pytest
from test_flow_orders import Env, dj_total
from test_flow_sales import ROUNDING, articles, close_shift, closing_setup, paid, ring

from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync.flows.base import Batch, Flow, Outcome, synced
from apicenter_sync.flows.order_closings import NOTHING_TO_BOOK
from apicenter_sync.store import SqliteStore


@pytest.fixture
def env():
    with start_sandboxes(size=60) as sb:
        e = Env(sb)
        e.av.create("AK1", "ARTICLE", {"ART_CODE": ROUNDING, "ART_DESC1": "Kasafronding"})
        e.store.settings.set("cash_rounding_article", ROUNDING, "orders")
        e.store.settings.set("default_debtor_mode", "when_no_customer", "orders")
        e.store.settings.set("default_debtor_number", "10001", "orders")
        e.store.mappings.set_table("payment_method_condition", {"CASH": "0", "PIN": "0", "ACCOUNT": "14"})
        closing_setup(e)
        yield e
        e.close()


def faults(env: Env, **config) -> None:
    httpx.post(env.sb.accountview_url + "/_sandbox/faults", json=config or {"rate": 0}).raise_for_status()


def pages(env: Env, ref: str) -> list[dict]:
    return [h for p in env.documents(ref, "DJ2P", "DJ_PAGE") for h in p["DJ_PAGE"]]


def page_lines(env: Env, ref: str) -> list[dict]:
    return [ln for p in env.documents(ref, "DJ2P", "DJ_PAGE") for ln in p.get("DJ_LINE", [])]


def open_lines(env: Env, ref: str) -> list:
    return [ln for ln in env.store.log.list_lines(source_id=ref, limit=100) if ln.state in ("failed", "retry")]


def sale(env: Env, article: int, method: str = "PIN", **extra) -> dict:
    return ring(env, lines=[{"articleNumber": article, "quantity": "1"}], payments=[{"method": method}], **extra)


def test_closings_with_nothing_to_book_are_recorded_and_never_stop_the_batch(env):
    high = articles(env, 21)
    for workplace in (1, 2):  # a till that only had its cash float put in
        ring(env, workplace=workplace, kind="cash_in", lines=[], payments=[{"method": "CASH", "amount": 5000}])
    float_only = [close_shift(env, workplace=1), close_shift(env, workplace=2)]
    sold = sale(env, high[0], workplace=3)
    booked = close_shift(env, workplace=3)
    result = env.run()
    assert result.ok and not result.failures, (result.error, result.failures)
    assert result.counts["created"] == 1 and result.counts["skipped"] == 2
    for closing in float_only:
        line = env.store.log.list_lines(source_id=closing["cashCountId"], limit=1)[0]
        assert line.action == "skipped" and "no sales to book" in line.error
        binding = env.store.bindings.get("closing", closing["cashCountId"])
        assert binding.state == "synced" and binding.target_id is None and binding.payload_hash == NOTHING_TO_BOOK
        assert not pages(env, closing["cashCountId"])
    assert dj_total(page_lines(env, booked["cashCountId"])) == 0
    assert env.store.watermarks.get("orders", "closing").value  # the position moved
    again = env.run()
    assert again.ok and not again.counts  # nothing is read twice
    assert env.store.bindings.get("receipt", sold["receiptId"]).target_id.endswith(sold["receiptId"])


class _Conflicting(Flow):
    """Three records of one batch, two of which would bind the same target."""

    name, entity = "products", "article"

    def read_batches(self):
        yield Batch([{"id": "a"}, {"id": "b"}, {"id": "c"}], stream="article", watermark="2024-01-01T00:00:00")

    def fetch_by_ids(self, source_ids, entity):
        return []

    def source_id(self, record):
        return record["id"]

    def process(self, record):
        target = "T-1" if record["id"] in ("a", "b") else "T-2"
        return Outcome("article", record["id"], "created", target_id=target,
                       bindings=[synced("article", record["id"], target, "h")])  # fmt: skip


def test_a_binding_that_would_point_at_a_taken_target_fails_its_record_and_the_batch_commits():
    store = SqliteStore(":memory:")
    result = _Conflicting(store, None, None).run()
    assert result.ok, result.error
    assert result.counts["created"] == 2 and result.counts["failed"] == 1
    (failed_id, error), = result.failures
    assert failed_id == "b" and "could not be recorded" in error and "T-1" in error
    assert store.bindings.get("article", "a").target_id == "T-1" and store.bindings.get("article", "b") is None
    assert store.bindings.get("article", "c").target_id == "T-2"
    assert store.watermarks.get("products", "article").value == "2024-01-01T00:00:00"
    line = store.log.list_lines(source_id="b", limit=1)[0]
    assert line.state == "failed" and line.retry_at is None  # a person looks; nothing is written twice
    store.close()


@pytest.mark.parametrize("fault", ["lost_reply", "http503"])
def test_an_unfinished_closing_is_settled_before_its_receipts_are_booked_one_by_one(env, fault):
    """The closing's POST failed — after AccountView stored the page (lost reply) or before (503) — and the shop
    switches back to booking each receipt: every receipt is booked once, on the page or on its own."""
    high = articles(env, 21)
    shift = [sale(env, high[0]), sale(env, high[1], "CASH")]
    closing = close_shift(env)
    ref = closing["cashCountId"]
    env.store.settings.set("retry_delay_seconds", 3600, "orders")  # the closing's own retry is not due next run
    faults(env, rate=1, kinds=[fault], operations=["POST DJ2"], after_write=1.0 if fault == "lost_reply" else 0.0)
    first = env.run()
    faults(env)
    assert ref in dict(first.failures)
    assert env.store.bindings.get("closing", ref).state == "pending"
    env.store.settings.set("receipt_booking", "each", "orders")
    second = env.run()
    assert second.ok, second.error
    for receipt in shift:
        own = env.documents(receipt["receiptId"])
        on_page = env.store.bindings.get("receipt", receipt["receiptId"])
        if fault == "lost_reply":
            assert not own and on_page.target_id.endswith(":" + receipt["receiptId"])
        else:
            assert len(own) == 1 and on_page.state == "synced" and ":" not in on_page.target_id
    assert len(pages(env, ref)) == (1 if fault == "lost_reply" else 0)
    assert not open_lines(env, ref)  # the closing's failure is closed, with what happened
    assert env.store.bindings.get("closing", ref).state == ("synced" if fault == "lost_reply" else "failed")
    # Back to per closing: nothing is booked again.
    env.store.settings.set("receipt_booking", "per_closing", "orders")
    assert not env.run().counts.get("created")
    assert len(pages(env, ref)) == (1 if fault == "lost_reply" else 0)


def test_receipts_whose_own_reply_was_lost_stay_off_their_closings_page(env):
    high = articles(env, 21)
    env.store.settings.set("receipt_booking", "each", "orders")
    env.store.settings.set("retry_delay_seconds", 3600, "orders")  # the receipts' own retries are not due yet
    alone = [sale(env, high[0]), sale(env, high[1])]
    faults(env, rate=1, kinds=["lost_reply"], operations=["POST SO1"], after_write=1.0)
    first = env.run()
    faults(env)
    assert {r["receiptId"] for r in alone} <= set(dict(first.failures))
    env.store.settings.set("receipt_booking", "per_closing", "orders")
    later = sale(env, high[2])
    closing = close_shift(env)
    result = env.run()
    assert result.ok and result.counts["created"] == 1, (result.error, result.failures)
    by_account: dict[str, Decimal] = {}
    for ln in page_lines(env, closing["cashCountId"]):
        by_account[ln["ACCT_NR"]] = by_account.get(ln["ACCT_NR"], Decimal(0)) + Decimal(str(ln["AMOUNT"]))
    assert by_account["1100"] == paid(later)  # only the receipt that was not booked on its own
    for receipt in alone:
        assert len(env.documents(receipt["receiptId"])) == 1
        assert env.store.bindings.get("receipt", receipt["receiptId"]).state == "synced"
    # Their own retries come due: found bound, nothing posted again.
    env.store.settings.set("retry_delay_seconds", 0, "orders")
    for line in env.store.log.list_lines(failed_only=True, limit=100):
        env.store.log.mark_retry([line.id])
    assert not env.run().counts.get("created")
    assert all(len(env.documents(r["receiptId"])) == 1 for r in alone)
    assert not env.documents(later["receiptId"])


def test_a_refused_closing_is_final_and_stays_dismissed_after_ignore(env):
    high = articles(env, 21)
    env.store.settings.set("max_attempts", 2, "orders")
    sale(env, high[0])
    ring(env, lines=[{"articleNumber": high[1], "quantity": "1", "priceType": "PRICE-TYPE-EXCHANGE-RATE-SELL"}],
         payments=[{"method": "PIN"}])  # fmt: skip
    refused = close_shift(env)["cashCountId"]
    sale(env, high[2], workplace=2)
    waiting = close_shift(env, workplace=2)["cashCountId"]
    app = env.sb.mplus.app
    with app.lock:
        app.store.cash_counts[waiting]["isFinalized"] = False
    for _ in range(5):
        env.run()
    line = open_lines(env, refused)[0]
    assert "foreign currency" in line.error and line.attempts == 1 and line.retry_at is None
    unfinished = open_lines(env, waiting)[0]
    assert "not finalized" in unfinished.error and unfinished.attempts == 2  # max_attempts, not one per run
    env.store.log.mark_ignored([line.id], note="booked by hand")
    for _ in range(2):
        env.run()
    assert not open_lines(env, refused)
    assert [ln.state for ln in env.store.log.list_lines(source_id=refused, limit=10)] == ["ignored"]
    assert not pages(env, refused)


def test_page_totals_of_refund_only_and_mixed_shifts(env):
    high = articles(env, 21)
    refund = ring(env, kind="credit_receipt", lines=[{"articleNumber": high[0], "quantity": "-1", "price": 12101}],
                  payments=[{"method": "PIN"}])  # fmt: skip
    refunds_only = close_shift(env)["cashCountId"]
    sold = ring(env, workplace=2, lines=[{"articleNumber": high[1], "quantity": "1", "price": 5000}],
                payments=[{"method": "PIN"}])  # fmt: skip
    back = ring(env, workplace=2, kind="credit_receipt",
                lines=[{"articleNumber": high[2], "quantity": "-1", "price": 2000}], payments=[{"method": "CASH"}])  # fmt: skip
    mixed = close_shift(env, workplace=2)["cashCountId"]
    result = env.run()
    assert result.ok and result.counts["created"] == 2, result.failures
    assert paid(refund) == Decimal("-121.01")
    assert Decimal(str(pages(env, refunds_only)[0]["PAGE_AMT"])) == Decimal("-121.01")
    assert dj_total(page_lines(env, refunds_only)) == 0
    assert Decimal(str(pages(env, mixed)[0]["PAGE_AMT"])) == paid(sold) + paid(back) == Decimal("30.00")
    assert dj_total(page_lines(env, mixed)) == 0


def test_the_shipped_sandbox_configuration_books_closings():
    """apicenter_sandbox/sandbox.toml's settings and mapping tables as a newcomer gets them, per closing."""
    shipped = tomllib.loads((resources.files("apicenter_sandbox") / "sandbox.toml").read_text(encoding="utf-8"))
    with start_sandboxes(size=40) as sb:
        e = Env(sb)
        try:
            for table, rows in shipped["mappings"].items():
                e.store.mappings.set_table(table, rows)
            for name, value in shipped["settings"]["orders"].items():
                e.store.settings.set(name, value, "orders")
            e.store.settings.set("source_document_type", "receipt", "orders")
            e.store.settings.set("receipt_booking", "per_closing", "orders")
            high = articles(e, 21)
            shift = [sale(e, high[0], "CASH"), sale(e, high[1]), sale(e, articles(e, 9)[0])]
            closing = close_shift(e)
            result = e.run()
            assert result.ok and result.counts["created"] == 1, (result.error, result.failures)
            assert dj_total(page_lines(e, closing["cashCountId"])) == 0
            assert Decimal(str(pages(e, closing["cashCountId"])[0]["PAGE_AMT"])) == sum(paid(s) for s in shift)
        finally:
            e.close()
