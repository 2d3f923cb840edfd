"""The sales the orders flow reads from MplusKASSA: orders, receipts and invoices, and when each one is booked.

Each source is a stream of its own (its sync marker is its watermark), its own log and binding entity, and its
own datamapper (``orders``, ``receipts``, ``invoices``: all three fill the canonical ``Order``). A sale's
reference in AccountView (the document's reference field, and the key against double booking) is the order's
``extOrderId`` (its ``orderId`` without one, or always with ``mplus.order_reference = orderId``), a receipt's
``receiptId``, an invoice's ``invoiceId``.

When a sale is booked (the default rules; the mapping table ``order_status`` overrides them per state):

- order: completed (``completeState`` COMPLETE) and not cancelled; a cancelled order is skipped whatever the
  table says of its other states (only a row for its ``cancelState`` decides otherwise), and one cancelled after it
  was booked fails for a person to reverse its booking;
- receipt: a sale (``RECEIPT-TYPE-RECEIPT`` or ``-CREDIT-RECEIPT``) that is paid (``RECEIPT-STATE-PAID`` or
  ``-HANDLED``); cash in/out and payment-method transfers move money, not goods, and are not booked;
- invoice: finalized.

A receipt or an invoice made from an order (its ``orderIds``) is skipped when orders are read too: the order is
the sale, and booking both would book it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ..i18n import Text, msg, table_ref

ORDER_STATUS = "order_status"  # Mplus state (any state field of the sale) -> send | skip
COMPLETE = "ORDER-COMPLETE-STATE-COMPLETE"
NOT_CANCELLED = ("", "ORDER-CANCEL-STATE-NOTHING")
SALE_RECEIPTS = ("RECEIPT-TYPE-RECEIPT", "RECEIPT-TYPE-CREDIT-RECEIPT")
PAID_RECEIPTS = ("RECEIPT-STATE-PAID", "RECEIPT-STATE-HANDLED")
CLOSING = "closing"  # the stream and entity of till closings (receipt_booking = per_closing)


class NothingSold(Exception):
    """A sale without a line that sells something (only text lines, a total of 0): skipped, not failed."""


@dataclass(frozen=True)
class Source:
    kind: str  # stream, log entity and binding entity
    id_field: str
    mapping: str  # the datamapper of its records
    states: tuple[str, ...]  # the fields whose values order_status may name
    label: str


SOURCES = {
    "order": Source("order", "orderId", "orders", ("cancelState", "completeState", "deliveryState"), "order"),
    "receipt": Source("receipt", "receiptId", "receipts", ("receiptType", "state"), "receipt"),
    "invoice": Source("invoice", "invoiceId", "invoices", ("invoiceType", "state"), "invoice"),
}


def kind_of(record: dict) -> str:
    """Which source a record came from (by the id it carries)."""
    if "cashCountId" in record:
        return CLOSING
    if "receiptId" in record:
        return "receipt"
    if "invoiceId" in record:
        return "invoice"
    return "order"


def ids_of(record: dict, field: str) -> list[str]:
    """The ids of an ``IdList`` field (``orderIds``: ``{"id": [...]}``)."""
    value = record.get(field) or {}
    ids = value.get("id") if isinstance(value, dict) else value
    return [str(i) for i in ids or () if str(i).strip()]


def cancel_state(order: dict) -> str:
    """The order's ``cancelState`` when it is cancelled (in part or in whole: called off at the till, cancelOrder),
    else ""."""
    state = str(order.get("cancelState") or "")
    return "" if state in NOT_CANCELLED else state


def status_decision(kind: str, record: dict, table: dict[str, str]) -> tuple[bool, Text]:
    """(book it?, why): the first state of the record that ``table`` (order_status) names decides; else the
    default rule of its source."""
    source = SOURCES[kind]
    states = [str(record.get(f) or "") for f in source.states]
    cancel = cancel_state(record) if kind == "order" else ""
    if cancel and cancel not in table:
        # Called off at the till: never booked, whatever the table says of its other states (a table sending open
        # orders must not book a cancelled one). Only a row for the cancel state itself decides otherwise.
        return False, msg("orders.status.cancelled", state=cancel)
    for state in states:
        if state and state in table:
            verdict = table[state].strip().lower()
            verdict_text = msg("orders.status.send") if verdict == "send" else msg("orders.status.skip")
            return verdict == "send", msg("orders.status.by_table", state=state, verdict=verdict_text,
                                          table=table_ref(ORDER_STATUS))  # fmt: skip
    if kind == "order":
        _, complete, _ = states
        if complete != COMPLETE:
            return False, msg("orders.status.not_complete", state=complete or "-")
        return True, msg("orders.status.complete", state=complete)
    if kind == "receipt":
        receipt_type, state = states
        if receipt_type not in SALE_RECEIPTS:
            return False, msg("orders.status.not_a_sale", type=receipt_type or "-")
        if state not in PAID_RECEIPTS:
            return False, msg("orders.status.not_paid", state=state or "-")
        return True, msg("orders.status.paid", type=receipt_type, state=state)
    if not record.get("finalized"):
        return False, msg("orders.status.not_finalized")
    return True, msg("orders.status.finalized", state=states[0] or "-")


# What the till sells with: the setup asks which sales to book, pre-selected from what the till holds lately.
RECENT_DAYS = 30


def recent_sales(mplus, today, days: int = RECENT_DAYS, limit: int = 50) -> dict[str, int]:
    """How many orders, sale receipts and invoices (at most ``limit`` read of each) the till holds with a financial
    date in the last ``days`` days up to ``today``. Read-only: three get… calls. Cash in/out receipts move money,
    not goods, and are not counted."""
    since = today - timedelta(days=days)
    found = {}
    for kind in ("order", "receipt", "invoice"):
        items = mplus.sales_between(kind, since, today, limit)
        if kind == "receipt":
            items = [r for r in items if r.get("receiptType") in SALE_RECEIPTS]
        found[kind] = len(items)
    return found


def sales_to_book(found: dict[str, int]) -> list[str]:
    """The kinds to book for a till that holds ``found`` (``recent_sales``): those it has; a receipt or invoice made
    from an order is skipped while orders are read, so both never book one sale twice. Nothing found: receipts,
    what a till sells with."""
    kinds = [kind for kind in ("order", "receipt", "invoice") if found.get(kind)]
    return kinds or ["receipt"]
