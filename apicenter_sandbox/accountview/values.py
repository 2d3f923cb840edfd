"""Values on the AccountView wire: lenient coercion by Visual FoxPro type, and date literals.

Stored values are kept in their JSON (wire) form so a GET page is served without
converting anything: C/M/D/T as strings, N/Y/B as floats, I as int, L as bool.
Dates and datetimes are ``YYYY-MM-DDTHH:MM:SS`` without a timezone [C S1]; an ISO
string compares like the moment it names, which keeps date filters cheap.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from .errors import AccountViewError

NUMERIC_TYPES = frozenset("NYBI")
TEXT_TYPES = frozenset("CM")
DATE_TYPES = frozenset("DT")

_FOX_LITERAL = re.compile(r"^\{\^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?\}$")
_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_TRUE = frozenset({"true", "t", "1", "yes", "y", ".t."})
_FALSE = frozenset({"false", "f", "0", "no", "n", ".f.", ""})


def default_for(vfp_type: str):
    """The value an unset field shows on a GET."""
    if vfp_type == "I":
        return 0
    if vfp_type in NUMERIC_TYPES:
        return 0.0
    if vfp_type == "L":
        return False
    return ""


def wire_datetime(moment: datetime) -> str:
    return moment.replace(microsecond=0, tzinfo=None).isoformat()


def wire_date(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def parse_moment(text: str) -> tuple[str, bool] | None:
    """A FoxPro literal ``{^2026-01-05 10:00:00}`` or an ISO date/datetime -> (wire datetime, has_time).

    A timezone suffix is dropped: the sandbox, like an on-premise AccountView, keeps local
    wall-clock time (ASSUMPTION).  Returns None when ``text`` is no date at all."""
    text = text.strip()
    match = _FOX_LITERAL.match(text) or _ISO.match(text)
    if not match:
        return None
    day, clock = match.group(1), match.group(2)
    if clock and clock.count(":") == 1:
        clock += ":00"
    if clock and len(clock) == 7:  # "9:05:00" -> "09:05:00"
        clock = "0" + clock
    try:
        moment = datetime.fromisoformat(f"{day}T{clock or '00:00:00'}")
    except ValueError:
        return None
    return wire_datetime(moment), bool(clock)


def coerce(table: str, name: str, vfp_type: str, length: int, value):
    """Turn a value a client sent into its stored form, or raise an error naming the field.

    Lenient like the real server appears to be [I]: numbers may come as strings,
    booleans as "TRUE"/"False" strings [C S4], dates as ISO or FoxPro literals."""
    where = f"{table}.{name}"
    if value is None:
        return default_for(vfp_type)
    if vfp_type in TEXT_TYPES:
        if isinstance(value, bool):
            value = "TRUE" if value else "FALSE"
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, dict | list):
            raise AccountViewError("bad_value", f"{where}: expected text, got {type(value).__name__}")
        text = str(value)
        if vfp_type == "C":
            text = text.rstrip()  # AccountView pads C fields with spaces; store them trimmed
            if len(text) > length:
                raise AccountViewError(
                    "too_long", f"{where}: value is {len(text)} characters, the field holds {length}: {text!r}"
                )
        return text
    if vfp_type in NUMERIC_TYPES:
        number = _number(where, value)
        if vfp_type == "I":
            if not float(number).is_integer():
                raise AccountViewError("bad_value", f"{where}: expected a whole number, got {value!r}")
            return int(number)
        if vfp_type == "N" and len(str(int(abs(number)))) > length:
            raise AccountViewError("too_long", f"{where}: {value!r} has more digits than the field's {length}")
        return float(number)
    if vfp_type == "L":
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return value != 0
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise AccountViewError("bad_value", f"{where}: expected a logical (true/false), got {value!r}")
    if vfp_type in DATE_TYPES:
        if value == "":
            return ""
        parsed = parse_moment(str(value)) if isinstance(value, str) else None
        if parsed is None:
            raise AccountViewError(
                "bad_value", f"{where}: expected a date like 2026-01-31 or 2026-01-31T10:00:00, got {value!r}"
            )
        wire, _has_time = parsed
        return wire[:10] + "T00:00:00" if vfp_type == "D" else wire
    raise AccountViewError("bad_value", f"{where}: unsupported field type {vfp_type!r}")


def _number(where: str, value) -> float:
    if isinstance(value, bool):
        raise AccountViewError("bad_value", f"{where}: expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace(" ", "")
    if text == "":
        return 0.0
    if "," in text and "." not in text:  # Dutch decimal comma
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise AccountViewError("bad_value", f"{where}: expected a number, got {value!r}") from None
