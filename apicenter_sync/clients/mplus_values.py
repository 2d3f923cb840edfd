"""Mplus wire conventions, in one place: date structs, text lists, cents and (quantity, decimalPlaces).

Money and quantities go through :mod:`apicenter_sync.units` so rounding is the same in the whole engine;
this module only knows the Mplus *shapes* (which field pairs belong together, how lists are wrapped).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ..units import from_cents, from_quantity, to_cents, to_quantity

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

__all__ = [
    "AMSTERDAM",
    "from_cents",
    "from_mplus_date",
    "from_mplus_datetime",
    "quantity_fields",
    "quantity_of",
    "text_list",
    "to_cents",
    "to_mplus_date",
    "to_mplus_datetime",
    "to_wire",
]


def to_mplus_datetime(moment: datetime) -> dict:
    """SoapMplusDateTime: Europe/Amsterdam wall clock, ``timezone`` = UTC offset in minutes, isdst false.

    This is what the official PHP client writes (research/mplus.md §3). A naive datetime is taken as
    Amsterdam local time.
    """
    local = moment.replace(tzinfo=AMSTERDAM) if moment.tzinfo is None else moment.astimezone(AMSTERDAM)
    offset = local.utcoffset() or timedelta(0)
    return {
        "sec": local.second, "min": local.minute, "hour": local.hour, "day": local.day, "mon": local.month,
        "year": local.year, "isdst": False, "timezone": int(offset.total_seconds() // 60),
    }  # fmt: skip


def from_mplus_datetime(struct: dict) -> datetime:
    """An aware datetime in Europe/Amsterdam. ``timezone`` is read as the UTC offset in minutes."""
    tz = timezone(timedelta(minutes=int(struct.get("timezone") or 0)))
    moment = datetime(
        int(struct["year"]), int(struct["mon"]), int(struct["day"]),
        int(struct.get("hour") or 0), int(struct.get("min") or 0), int(struct.get("sec") or 0), tzinfo=tz,
    )  # fmt: skip
    return moment.astimezone(AMSTERDAM)


def to_mplus_date(day: date) -> dict:
    return {"day": day.day, "mon": day.month, "year": day.year}


def from_mplus_date(struct: dict) -> date:
    return date(int(struct["year"]), int(struct["mon"]), int(struct["day"]))


def text_list(values: Iterable[str] | None) -> dict:
    """A TextList: each value double-wrapped, ``<pluNumbers><text><text>A</text></text></pluNumbers>``.

    An empty list still gives ``{}``, because several TextList elements are required (minOccurs 1)."""
    return {"text": [{"text": str(v)} for v in values or ()]}


def quantity_fields(amount: object, value_key: str = "quantity", places_key: str = "decimalPlaces") -> dict:
    """``{value_key: mantissa, places_key: places}`` for a quantity: 2.5 -> {quantity: 25, decimalPlaces: 1}."""
    mantissa, places = to_quantity(amount)
    return {value_key: mantissa, places_key: places}


def quantity_of(data: dict, value_key: str = "quantity", places_key: str = "decimalPlaces") -> Decimal | None:
    """The Decimal quantity of a mantissa/decimalPlaces pair in ``data`` (a missing decimalPlaces means 0)."""
    mantissa = data.get(value_key)
    return None if mantissa is None else from_quantity(mantissa, data.get(places_key))


def to_wire(value: Any) -> Any:
    """A request value zeep can serialise: datetimes and dates become Mplus structs, at any depth.

    Nothing else is guessed: money must already be cents and quantities mantissa pairs, because the same
    field name is cents on one type and a decimal on another (research/mplus.md §3).
    """
    if isinstance(value, datetime):
        return to_mplus_datetime(value)
    if isinstance(value, date):
        return to_mplus_date(value)
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    return value
