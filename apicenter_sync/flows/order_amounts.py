"""Sale amounts: the value of each line, the reconciliation check, and how amounts go onto AccountView lines.

Everything is Decimal, rounded half up to the cent, the way the till rounds (``units``). A line's value incl. VAT
comes from the till's own numbers first (docs/flows.md, "Line value"):

1. the line total the till computed (``totalInclAmount``; else ``totalExclAmount`` plus the line's VAT);
2. else ``round(quantity × price)`` minus the line's discount amount (``discountAmount``, or ``discountAmountExcl``
   on a VAT-exclusive sale);
3. else minus ``discountPercentage`` of it (rounded half up to the cent, as the till does).

Every ``discountType`` of the WSDL is a rule the till already applied to those numbers, so the line is booked at
that value; a type this version does not know (a newer server) refuses the sale, naming it. Before anything is
sent, the line values must add up to the sale's total to the cent; the document built from them is checked again
with the same formula AccountView is assumed to use, so a document that would not sum to the total is never posted.

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

from ..i18n import Text, msg
from ..models import Order, OrderLine
from .base import record_error

CENT = Decimal("0.01")
PRICE_PLACES = Decimal("0.0001")  # AccountView Y (currency) fields keep 4 decimals
ZERO = Decimal(0)
# Every DiscountType of the WSDL (v67.1.3) and what it means for the line's value: the till applied the rule to
# the line's price, discount and total, so the line is booked at its value after the discount.
DISCOUNT_TYPES = {
    "DISCOUNT-TYPE-NONE": "no discount",
    "DISCOUNT-TYPE-PRICE-GROUP": "the price of the customer's price group",
    "DISCOUNT-TYPE-SALES-PRICE": "a (temporary) sales price",
    "DISCOUNT-TYPE-CUSTOMER-DISCOUNT": "the customer's discount",
    "DISCOUNT-TYPE-BRANCH-PRICE": "the branch's price",
    "DISCOUNT-TYPE-EXTERNAL-DISCOUNT": "a discount given by another system",
    "DISCOUNT-TYPE-SALE-PROMOTION": "a sale promotion",
    "DISCOUNT-TYPE-SALE-PROMOTION-RETOUR": "the return of a promoted article",
    "DISCOUNT-TYPE-SALE-PROMOTION-FREE-ARTICLE": "an article given free by a promotion (booked at its value, "
    "usually 0, with its quantity)",
}


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PricedLine:
    """One sale line with its total incl. VAT, ready to be written."""

    line: OrderLine
    sku: str  # AccountView article code ("" for a booking's line without article)
    total: Decimal  # incl. VAT, after the line discount
    vat_pct: Decimal | None
    is_shipping: bool = False
    rule: str = ""  # where the value came from (the log line's steps)
    is_rounding: bool = False  # the cash-rounding line


def line_value(line: OrderLine, prices_include_vat: bool, label: Text) -> tuple[Decimal, str]:
    """(the line's value incl. VAT, the rule that gave it)."""
    where = msg("orders.amounts.line_of", label=label, line=line.sku or line.description or "-")
    if line.discount_type and line.discount_type not in DISCOUNT_TYPES:
        raise record_error(msg("orders.amounts.discount_type", line=where, type=line.discount_type),
                           source_id=label)  # fmt: skip
    if line.total_incl is not None:
        return line.total_incl, "the till's line total"
    pct = line.vat_pct
    if line.total_excl is not None and pct is not None:
        return money(line.total_excl * (1 + pct / 100)), "the till's line total excl. VAT plus VAT"
    qty = line.quantity
    if prices_include_vat:
        price = line.unit_price_incl
        if price is None:
            raise record_error(msg("orders.amounts.no_price", line=where), source_id=label)
        gross = money(qty * price)
        if line.discount_amount is not None:
            return gross - line.discount_amount, "quantity × price − discount amount"
        if line.discount_pct:
            return gross - money(gross * line.discount_pct / 100), f"quantity × price − {line.discount_pct} %"
        return gross, "quantity × price"
    # VAT-exclusive sale: the line is priced excl. VAT and its VAT is added per line.
    price = line.unit_price_excl if line.unit_price_excl is not None else line.unit_price_incl
    if price is None or pct is None:
        raise record_error(msg("orders.amounts.no_price_or_vat", line=where), source_id=label)
    net = money(qty * price)
    discount = line.discount_amount_excl if line.discount_amount_excl is not None else line.discount_amount
    if discount is not None:
        net, rule = net - discount, "(quantity × price excl. VAT − discount) plus VAT"
    elif line.discount_pct:
        net, rule = net - money(net * line.discount_pct / 100), f"(quantity × price excl. VAT − {line.discount_pct} %) plus VAT"
    else:
        rule = "quantity × price excl. VAT plus VAT"
    return money(net * (1 + pct / 100)), rule


def reconcile(order: Order, lines: list[PricedLine], label: Text) -> Decimal:
    """The sale's total; a record error when the lines do not add up to it to the cent (``label``: "order X")."""
    total = sum((pl.total for pl in lines), ZERO)
    if order.total_incl is None:
        return total  # the source gave no total to compare with (a custom mapping): the lines are the total
    if total != order.total_incl:
        raise record_error(msg("orders.amounts.not_reconciled", label=label, lines=total, total=order.total_incl,
                               difference=order.total_incl - total), source_id=label)  # fmt: skip
    return total


def sales_order_prices(quantity: Decimal, total: Decimal, label: Text, sku: str) -> list[tuple[Decimal, Decimal]]:
    """(quantity, unit price) pairs whose ``round(qty × price, 2)`` add up to ``total`` exactly."""
    if quantity == 0:
        if total != 0:
            raise record_error(msg("orders.amounts.zero_quantity", label=label, sku=sku, total=total), source_id=label)
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
