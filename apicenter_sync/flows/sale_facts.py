"""What the till says about a sale, as a bookkeeper finds it: the receipt, invoice or order number, the day, the
branch, the total and the customer.

Read from the sale as the orders flow read it (the MplusKASSA client's dict of an order, receipt, invoice or till
closing) when its log line is written, and kept with the line: the line's payload is purged after the payload
retention, these facts are not (the customer is personal data and goes with the payload).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..units import UnitsError, from_cents

SALE_ENTITIES = ("order", "receipt", "invoice", "closing")  # the orders flow's log and binding entities


@dataclass(frozen=True)
class SaleFacts:
    number: str = ""
    day: date | None = None
    branch: str = ""
    total: Decimal | None = None
    customer: str = ""


def sale_facts(entity: str, record: Any) -> SaleFacts | None:
    """The facts of sale ``record`` of kind ``entity`` (order, receipt, invoice, closing); None when it is not a
    sale read from the till (another entity, or no dict)."""
    if entity not in SALE_ENTITIES or not isinstance(record, dict):
        return None
    branch = record.get("financialBranchNumber") or record.get("branchNumber") or record.get("entryBranchNumber")
    name = str(record.get("relationName") or (record.get("invoiceAddress") or {}).get("name") or "").strip()
    relation = record.get("relationNumber")
    return SaleFacts(
        number=_number(entity, record),
        day=_day(record.get("financialDate") or record.get("entryTimestamp")),
        branch=str(branch) if branch not in (None, "", 0) else "",
        total=_euros(record.get("totalInclAmount")),
        customer=f"{name} ({relation})" if name and relation else name or (str(relation) if relation else ""),
    )


def _number(entity: str, record: dict) -> str:
    if entity in ("receipt", "invoice"):
        return str(record.get("transactionString") or "").strip()
    if entity == "order":
        return _yearly(record.get("orderNumber")) or str(record.get("extOrderId") or "").strip()
    if entity == "closing":
        return _yearly(record.get("cashCountNumber")) or str(record.get("cashCountId") or "").strip()
    return ""


def _yearly(number: Any) -> str:
    """MplusKASSA's {year, number}: "2026-17"."""
    if isinstance(number, dict) and number.get("number"):
        return f"{number['year']}-{number['number']}" if number.get("year") else str(number["number"])
    return str(number).strip() if isinstance(number, str | int) and not isinstance(number, bool) else ""


def _day(value: Any) -> date | None:
    """A date or date-time (as the client reads it), its ISO text (as a log line keeps it), or MplusKASSA's
    {day, mon, year}."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    if not isinstance(value, dict):
        return None
    value = value.get("date") if isinstance(value.get("date"), dict) else value
    try:
        return date(int(value["year"]), int(value["mon"]), int(value["day"]))
    except (KeyError, TypeError, ValueError):
        return None


def _euros(cents: Any) -> Decimal | None:
    try:
        return from_cents(cents)
    except UnitsError:  # shown as no total, not a wrong one
        return None
