"""Money and quantity conversions, in one place.

Canonical models hold money and quantities as ``Decimal`` in units (9.95 euro,
2.5 kg).  MplusKASSA moves money as integer cents (``995``) and quantities as an
integer mantissa plus ``decimalPlaces`` (``25, 1`` = 2.5).  Every conversion
between the two goes through this module so rounding (ROUND_HALF_UP, the way a
till and a bookkeeper round) and the sanity limits are the same everywhere.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .i18n import Msg, msg

__all__ = [
    "MAX_ABS_UNITS",
    "MAX_DECIMAL_PLACES",
    "UnitsError",
    "from_cents",
    "from_quantity",
    "parse_decimal",
    "to_cents",
    "to_decimal",
    "to_quantity",
]

# No shop sells a trillion of anything; a bigger number is a unit mix-up (cents read
# as units, a barcode in a price field) and must fail loudly instead of being booked.
MAX_ABS_UNITS = Decimal(10) ** 12
# Mplus accepts at most 6 decimals in practice (the PHP client library rounds to 6).
MAX_DECIMAL_PLACES = 6
_LONG_MAX = 2**63 - 1  # xsd:long, the wire type of cents and mantissas
_CENT = Decimal("0.01")


class UnitsError(ValueError):
    """A value cannot be converted to money or a quantity; ``args[0]`` is the message (catalogue area ``units``)."""


def _what(what: str) -> Msg:
    """What a value is meant to be, in words: ``amount`` -> "amount" / "bedrag" / "kwota" (``units.what.<what>``)."""
    return msg(f"units.what.{what}")


def parse_decimal(value: object, *, what: str = "value", decimal_comma: bool = False) -> Decimal:
    """Turn int, Decimal, str (or float, via its shortest repr) into a finite Decimal.

    Bools are rejected: ``True`` as a price is always a mapping mistake.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or value is None:
        raise UnitsError(msg("units.not_a_number", what=_what(what), value=repr(value)))
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, float):
        # repr() gives the shortest string that round-trips, so 0.1 becomes 0.1, not 0.1000000000000000055...
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if decimal_comma:
            text = text.replace(".", "").replace(",", ".")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise UnitsError(msg("units.not_a_number", what=_what(what), value=repr(value))) from None
    else:
        raise UnitsError(msg("units.not_a_number", what=_what(what), value=repr(value)))
    if not result.is_finite():
        raise UnitsError(msg("units.not_finite", what=_what(what), value=repr(value)))
    return result


def _check_range(amount: Decimal, what: str, original: object) -> None:
    if abs(amount) >= MAX_ABS_UNITS:
        raise UnitsError(msg("units.out_of_range", what=_what(what), value=repr(original), limit=f"{MAX_ABS_UNITS:,}"))


def to_decimal(value: object, places: int | None = None, *, decimal_comma: bool = False) -> Decimal:
    """A finite Decimal within the sanity range, rounded half up to ``places`` decimals when given."""
    number = parse_decimal(value, decimal_comma=decimal_comma)
    _check_range(number, "value", value)
    return number if places is None else number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def to_cents(value: object) -> int:
    """9.95 -> 995; 0.005 -> 1 (half up, away from zero); -1.005 -> -101."""
    amount = parse_decimal(value, what="amount")
    _check_range(amount, "amount", value)
    return int(amount.quantize(_CENT, rounding=ROUND_HALF_UP) * 100)


def from_cents(value: object) -> Decimal:
    """995 -> Decimal('9.95').  Accepts int or a string of digits; a fraction of a cent is an error."""
    if isinstance(value, bool) or value is None:
        raise UnitsError(msg("units.not_an_integer", what=_what("cents"), value=repr(value)))
    if isinstance(value, int):
        cents = value
    else:
        number = parse_decimal(value, what="cents")
        if number != number.to_integral_value():
            raise UnitsError(msg("units.not_an_integer", what=_what("cents"), value=repr(value)))
        cents = int(number)
    if abs(cents) > _LONG_MAX:
        raise UnitsError(msg("units.too_large", what=_what("cents"), value=repr(value)))
    amount = Decimal(cents).scaleb(-2)
    _check_range(amount, "amount_in_cents", value)
    return amount.quantize(_CENT)


def to_quantity(value: object, max_places: int = MAX_DECIMAL_PLACES) -> tuple[int, int]:
    """12.5 -> (125, 1); 3 -> (3, 0); 2.500 -> (25, 1); -0.25 -> (-25, 2).

    More than ``max_places`` decimals are rounded half up; trailing zeros are dropped
    so the mantissa is as small as possible.
    """
    amount = parse_decimal(value, what="quantity")
    _check_range(amount, "quantity", value)
    amount = amount.quantize(Decimal(1).scaleb(-max_places), rounding=ROUND_HALF_UP)
    if amount == 0:
        return 0, 0
    sign, digits, exponent = amount.normalize().as_tuple()
    if exponent >= 0:  # whole number, possibly with an exponent like 1E+3
        return int(amount), 0
    mantissa = int("".join(map(str, digits)))
    return (-mantissa if sign else mantissa), -exponent


def from_quantity(mantissa: object, decimal_places: object = None) -> Decimal:
    """(125, 1) -> Decimal('12.5').  A missing ``decimal_places`` means 0 (research/mplus.md §3)."""
    if isinstance(mantissa, int) and not isinstance(mantissa, bool):
        number = mantissa
    elif isinstance(mantissa, str) and mantissa.strip().lstrip("-").isdigit():
        number = int(mantissa)
    else:
        raise UnitsError(msg("units.not_an_integer", what=_what("quantity"), value=repr(mantissa)))
    if decimal_places is None or decimal_places == "":
        places = 0
    elif isinstance(decimal_places, bool):
        raise UnitsError(msg("units.not_an_integer", what=_what("places"), value=repr(decimal_places)))
    else:
        try:
            places = int(decimal_places)
        except (TypeError, ValueError):
            raise UnitsError(msg("units.not_an_integer", what=_what("places"), value=repr(decimal_places))) from None
    if not 0 <= places <= 18:
        raise UnitsError(msg("units.places_out_of_range", what=_what("places"), value=repr(decimal_places)))
    if abs(number) > _LONG_MAX:
        raise UnitsError(msg("units.too_large", what=_what("quantity"), value=repr(mantissa)))
    amount = Decimal(number).scaleb(-places)
    _check_range(amount, "quantity", mantissa)
    return amount
