"""Order amounts: line totals incl. VAT, the reconciliation check, and how amounts go onto AccountView lines.

Everything is Decimal, rounded half up to the cent, the way the till rounds
(``units``). A line's total incl. VAT is ``round(quantity × unit price) −
line discount`` (the MplusKASSA rule for ``totalInclAmount``). Before anything
is sent, the line totals must add up to the order total to the cent; the
document built from them is checked again with the same formula AccountView
is assumed to use, so a document that would not sum to the order total is
never posted.

A sales-order line has no discount field, so the line discount is folded into its unit price:
``price = line total / quantity`` with 4 decimals (FoxPro currency, ``Y``).
ASSUMPTION (docs/flows.md): AccountView values a sales-order line at
``round(quantity × price, 2)``. When 4 decimals are not enough for that to give
the line total back (|quantity| ≥ 100 or so), the line is split in two on the
same article: ``quantity − 1`` pieces at that price plus one piece carrying the
remainder, so quantity and amount both stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ..models import Order, OrderLine
from .base import record_error

CENT = Decimal("0.01")
PRICE_PLACES = Decimal("0.0001")  # AccountView Y (currency) fields keep 4 decimals
ZERO = Decimal(0)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PricedLine:
    """One order line with its total incl. VAT, ready to be written."""

    line: OrderLine
    sku: str  # AccountView article code ("" for a booking's shipping line without article)
    total: Decimal  # incl. VAT, after the line discount
    vat_pct: Decimal | None
    is_shipping: bool = False


def line_total(line: OrderLine, prices_include_vat: bool, ref: str) -> Decimal:
    """The line's total incl. VAT after its discount, in euro to the cent."""
    qty = line.quantity
    discount = line.discount_amount or ZERO
    if prices_include_vat:
        price = line.unit_price_incl
        if price is None:
            raise record_error(f"order {ref}: line {line.sku} has no price", source_id=ref)
        return money(qty * price) - discount
    # VAT-exclusive order: the line is priced excl. VAT and its VAT is added per line.
    price = line.unit_price_excl if line.unit_price_excl is not None else line.unit_price_incl
    if price is None or line.vat_pct is None:
        raise record_error(f"order {ref}: line {line.sku} has no price or VAT rate", source_id=ref)
    net = money(qty * price) - discount
    return money(net * (1 + line.vat_pct / 100))


def reconcile(order: Order, lines: list[PricedLine], ref: str) -> Decimal:
    """The order total; a record error when the lines do not add up to it to the cent."""
    total = sum((pl.total for pl in lines), ZERO)
    if order.total_incl is None:
        return total  # the source gave no total to compare with (a custom mapping): the lines are the total
    if total != order.total_incl:
        raise record_error(
            f"order {ref}: the lines add up to {total} but the order total is {order.total_incl} "
            f"(difference {order.total_incl - total}); not sent — check the line prices, discounts and the "
            "datamapper",
            source_id=ref,
        )
    return total


def sales_order_prices(quantity: Decimal, total: Decimal, ref: str, sku: str) -> list[tuple[Decimal, Decimal]]:
    """(quantity, unit price) pairs whose ``round(qty × price, 2)`` add up to ``total`` exactly."""
    if quantity == 0:
        if total != 0:
            raise record_error(
                f"order {ref}: line {sku} has quantity 0 but amount {total}; a sales-order line cannot carry it",
                source_id=ref,
            )
        return [(quantity, ZERO)]
    price = (total / quantity).quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)
    if money(quantity * price) == total:
        return [(quantity, price)]
    one = Decimal(1) if quantity > 0 else Decimal(-1)
    rest = quantity - one
    rest_amount = money(rest * price)
    remainder = (total - rest_amount) / one  # the single piece's price, so that one × price = remainder
    return [(rest, price), (one, remainder.quantize(PRICE_PLACES))]


def sales_order_total(rows: list[dict], quantity: str, price: str) -> Decimal:
    """What a stored sales order is worth under the assumed valuation (line rows as sent or read back; ``quantity``
    and ``price`` are the line fields' names)."""
    return sum((money(_dec(r[quantity]) * _dec(r[price])) for r in rows), ZERO)


def booking_total(rows: list[dict], amount: str) -> Decimal:
    """What a stored journal booking is worth: the sum of its line amounts (entered incl. VAT)."""
    return sum((money(_dec(r[amount])) for r in rows), ZERO)


def _dec(value) -> Decimal:
    # Read-back rows hold floats; str() gives their shortest repr, so 49.06 stays 49.06.
    return value if isinstance(value, Decimal) else Decimal(str(value))
