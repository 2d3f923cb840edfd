"""Pure rules of the B2B-prices flow: AccountView price-list rows and group discounts → one ``priceGroupList``.

Kept apart from the flow so the mapping can be read (and tested) without any I/O.
The MplusKASSA ``PriceGroup`` type carries ``priceGroupNumber``, ``priceIncl``/
``priceExcl`` (cents), ``discountPercentage`` (xsd:int) and ``minimumAmount``
(xsd:int). One entry per price group and staffel step; the group discount of the
article's article group rides on every entry of that price group, or on an entry
of its own when the price list has no price for the article.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from ..i18n import msg
from ..models import Discount, PriceListPrice
from ..units import to_cents
from .base import record_error

ENTRY_FIELDS = ("priceGroupNumber", "priceIncl", "priceExcl", "discountPercentage", "minimumAmount")


def whole_percent(pct: Decimal | int | str | None) -> int:
    """Mplus keeps a whole percentage (xsd:int): 2.5 % becomes 3 % (half up, as the customers flow does)."""
    return int(Decimal(str(pct or 0)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def staffel_threshold(min_qty: Decimal | None) -> int | None:
    """``minimumAmount`` of a staffel row, None for the base price (from 1 piece on).

    ``minimumAmount`` is an integer: a fractional threshold (2.5 kg) rounds up, the first whole quantity at
    which the AccountView price applies."""
    if min_qty is None or min_qty <= 1:
        return None
    return int(min_qty.to_integral_value(rounding=ROUND_CEILING))


def price_field(price: PriceListPrice, include_vat: bool, sku: str) -> tuple[str, int]:
    """Which PriceGroup price (``priceIncl``/``priceExcl``) and its cents.

    A row mapped to one of the two is sent as that one; with the default mapping (@price_list_item.price → price_excl)
    the setting ``prices_include_vat`` says whether the figure is entered including VAT."""
    incl, excl = price.price_incl, price.price_excl
    if incl is None and excl is None:
        raise record_error(msg("prices.row_without_price", price_list=price.price_list, sku=sku), source_id=sku)
    if incl is not None and (excl is None or include_vat):
        return "priceIncl", to_cents(incl)
    return ("priceIncl" if include_vat else "priceExcl"), to_cents(excl)


def price_group_list(
    sku: str,
    prices: Iterable[tuple[int, PriceListPrice]],
    discounts: Iterable[tuple[int, Discount]],
    include_vat: bool,
) -> list[dict[str, Any]]:
    """The article's whole ``priceGroupList``: ``prices`` and ``discounts`` come paired with their Mplus group."""
    entries: dict[tuple[int, int], dict[str, Any]] = {}
    origin: dict[tuple[int, int], str] = {}
    for group, price in prices:
        step = staffel_threshold(price.min_qty)
        key = (group, step or 0)
        field, cents = price_field(price, include_vat, sku)
        entry: dict[str, Any] = {"priceGroupNumber": group, field: cents}
        if step:
            entry["minimumAmount"] = step
        known = entries.get(key)
        if known is not None and known != entry:
            # Two price lists mapped to one price group (or a duplicated staffel row) would silently overwrite
            # each other in the till: make the conflict visible instead.
            raise record_error(msg("prices.lists_conflict", sku=sku, first=origin[key], second=price.price_list,
                                   group=group, quantity=step or 1), source_id=sku)  # fmt: skip
        entries[key] = entry
        origin[key] = price.price_list
    for group, pct in _group_discounts(sku, discounts).items():
        if not pct:
            continue
        steps = [entry for (g, _), entry in entries.items() if g == group]
        if not steps:
            entries[(group, 0)] = {"priceGroupNumber": group}
            steps = [entries[(group, 0)]]
        for entry in steps:
            entry["discountPercentage"] = pct
    return [entries[key] for key in sorted(entries)]


def _group_discounts(sku: str, discounts: Iterable[tuple[int, Discount]]) -> dict[int, int]:
    found: dict[int, int] = {}
    source: dict[int, str] = {}
    for group, discount in discounts:
        pct = whole_percent(discount.pct)
        if not 0 <= pct <= 100:
            raise record_error(msg("prices.group_discount_out_of_range", group=discount.customer_group,
                                   article_group=discount.article_group, discount=discount.pct), source_id=sku)  # fmt: skip
        if group in found and found[group] != pct:
            raise record_error(msg("prices.discounts_conflict", sku=sku, first=source[group],
                                   second=discount.customer_group, group=group), source_id=sku)  # fmt: skip
        found[group], source[group] = pct, discount.customer_group or ""
    return found


def same_entries(current: Iterable[dict] | None, wanted: list[dict]) -> bool:
    """Whether MplusKASSA already holds ``wanted`` (compared on the fields this flow sends, in any order).

    Fields the server adds (a computed ``priceIncl`` next to the ``priceExcl`` sent, a description) do not
    count, so an article already right is not written again after the state store was lost."""
    keys = {k for entry in wanted for k in entry}
    have = sorted(_norm(entry, keys) for entry in current or ())
    return have == sorted(_norm(entry, keys) for entry in wanted)


def _norm(entry: dict, keys: set[str]) -> tuple:
    return tuple((k, entry.get(k)) for k in ENTRY_FIELDS if k in keys and entry.get(k) is not None)
