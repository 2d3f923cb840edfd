"""Date parsing and formatting for the ``date_format`` transform.

Named formats cover the three systems we talk to, so users rarely need a
strftime pattern:

- ``accountview``: ``2026-01-05T08:00:00`` (JSON values, no timezone; ``""`` = empty)
- ``foxpro``: ``{^2026-01-05}`` / ``{^2026-01-05 08:00:00}`` (AccountView filter values)
- ``mplus``: ``{"day", "mon", "year"}`` (SoapMplusDate) or with ``hour``, ``min``, ``sec``
  (SoapMplusDateTime; the wall clock is kept, ``timezone``/``isdst`` are ignored)
- ``iso``: anything ``datetime.fromisoformat`` reads
- ``auto`` (input only): date/datetime objects, Mplus structs, FoxPro braces or ISO text
- a pattern containing ``%``: ``datetime.strptime`` / ``strftime``
- ``date`` / ``datetime`` (output only): Python objects, for canonical model fields
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from ..i18n import msg

__all__ = ["INPUT_FORMATS", "OUTPUT_FORMATS", "DateError", "formatter", "parser"]

INPUT_FORMATS = ("auto", "accountview", "foxpro", "mplus", "iso")
OUTPUT_FORMATS = ("date", "datetime", "iso", "accountview", "foxpro", "mplus", "mplus_datetime")
_FOXPRO = re.compile(r"^\{\^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?\}$")


class DateError(ValueError):
    pass


def _from_mplus(value: Any) -> datetime:
    get = value.get if isinstance(value, Mapping) else lambda k: getattr(value, k, None)
    try:
        year, mon, day = int(get("year")), int(get("mon")), int(get("day"))
        hour, minute, sec = (int(get(k) or 0) for k in ("hour", "min", "sec"))
        return datetime(year, mon, day, hour, minute, sec)
    except (TypeError, ValueError):
        raise DateError(msg("mapping.date_mplus", value=repr(value))) from None


def _from_foxpro(text: str) -> datetime:
    match = _FOXPRO.match(text.strip())
    if not match:
        raise DateError(msg("mapping.date_foxpro", value=repr(text)))
    parts = [int(p) if p else 0 for p in match.groups()]
    try:
        return datetime(*parts)
    except ValueError as exc:
        raise DateError(msg("mapping.date_invalid", value=repr(text), error=str(exc))) from None


def _from_iso(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise DateError(msg("mapping.date_iso", value=repr(text))) from None


def _is_empty_mplus(value: Any) -> bool:
    # Mplus leaves unset date structs as all zeros.
    return isinstance(value, Mapping) and not any(value.get(k) for k in ("year", "mon", "day"))


def parser(fmt: str) -> Callable[[Any], datetime | None]:
    """Return a function text/struct -> datetime (None for empty input)."""

    def parse(value: Any) -> datetime | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        if fmt == "mplus" or (fmt == "auto" and not isinstance(value, str)):
            return None if _is_empty_mplus(value) else _from_mplus(value)
        if not isinstance(value, str):
            raise DateError(msg("mapping.date_text", value=repr(value)))
        if fmt == "foxpro" or (fmt == "auto" and value.lstrip().startswith("{")):
            return _from_foxpro(value)
        if fmt in ("accountview", "iso", "auto"):
            return _from_iso(value)
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            raise DateError(msg("mapping.date_format", value=repr(value), format=fmt)) from None

    return parse


def formatter(fmt: str) -> Callable[[datetime], Any]:
    if fmt == "date":
        return lambda dt: dt.date()
    if fmt == "datetime":
        return lambda dt: dt
    if fmt == "iso":
        return lambda dt: dt.date().isoformat() if dt.time() == datetime.min.time() else dt.isoformat()
    if fmt == "accountview":
        return lambda dt: dt.strftime("%Y-%m-%dT%H:%M:%S")
    if fmt == "foxpro":
        return lambda dt: (
            "{^"
            + (dt.strftime("%Y-%m-%d %H:%M:%S") if dt.time() != datetime.min.time() else dt.strftime("%Y-%m-%d"))
            + "}"
        )
    if fmt == "mplus":
        return lambda dt: {"day": dt.day, "mon": dt.month, "year": dt.year}
    if fmt == "mplus_datetime":
        return lambda dt: {
            "sec": dt.second, "min": dt.minute, "hour": dt.hour, "day": dt.day, "mon": dt.month,
            "year": dt.year, "isdst": False, "timezone": 0,
        }  # fmt: skip
    return lambda dt: dt.strftime(fmt)
