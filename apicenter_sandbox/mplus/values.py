"""Mplus value conventions: cents, quantity mantissa + decimalPlaces, date structs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def cents(amount: Decimal) -> int:
    return whole(Decimal(amount) * 100)


def whole(value: Decimal) -> int:
    """Rounded half up to an integer (how money is rounded throughout)."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def quantity(value: Decimal) -> tuple[int, int]:
    """(mantissa, decimalPlaces) of a quantity: 12.5 -> (125, 1), 3 -> (3, 0)."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value), 0
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return int(value.scaleb(places)), places


def from_quantity(mantissa: int, places: int | None) -> Decimal:
    # A missing decimalPlaces on input means scale 0 (research/mplus.md §3).
    return Decimal(mantissa).scaleb(-(places or 0))


def mplus_datetime(moment: datetime) -> dict:
    """SoapMplusDateTime: Amsterdam wall clock, timezone = UTC offset in minutes, isdst false (as PHP-NEW writes)."""
    local = moment.replace(tzinfo=AMSTERDAM) if moment.tzinfo is None else moment.astimezone(AMSTERDAM)
    offset = local.utcoffset()
    return {
        "sec": local.second, "min": local.minute, "hour": local.hour, "day": local.day, "mon": local.month,
        "year": local.year, "isdst": False, "timezone": int(offset.total_seconds() // 60) if offset else 0,
    }  # fmt: skip


def mplus_date(day: date) -> dict:
    return {"day": day.day, "mon": day.month, "year": day.year}


def date_of(struct: dict) -> date:
    return date(struct["year"], struct["mon"], struct["day"])


def now() -> datetime:
    return datetime.now(AMSTERDAM).replace(microsecond=0)


def price_other(amount: int, vat_pct: int, from_incl: bool) -> int:
    """The excl. price from an incl. one (or the reverse), in cents, half up."""
    factor = Decimal(100 + vat_pct) / 100
    return whole(Decimal(amount) / factor if from_incl else Decimal(amount) * factor)
