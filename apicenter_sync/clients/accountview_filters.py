"""Filters of ``GET /accountviewdata`` as numbered query parameters (research §4.1).

Each filter becomes ``FilterControlSource<n>``, ``FilterOperator<n>``, ``FilterValueType<n>``, ``FilterValue<n>``
and ``FilterIsListOfValues<n>``; ``matchAnyFilter=true`` ORs them (default AND). Dates go as Visual FoxPro strict
literals ``{^YYYY-MM-DD}`` / ``{^YYYY-MM-DD HH:MM:SS}``, the form seen on the change-date field in client code [C S2, S3].
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

# Operator names as seen in client code [C]; the server matches them case-insensitively.
EQUAL, NOT_EQUAL, CONTAINS, ON_OR_AFTER = "Equal", "NotEqual", "Contains", "DateOnOrAfterDate"


def foxpro_literal(moment: date | datetime) -> str:
    """``{^2026-01-05 10:00:00}`` for a datetime (seconds, no timezone), ``{^2026-01-05}`` for a date."""
    if isinstance(moment, datetime):
        return "{^" + moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S") + "}"
    return "{^" + moment.strftime("%Y-%m-%d") + "}"


def _typed(value: object) -> tuple[str, str]:
    """(value type letter, wire text) of one filter value."""
    if isinstance(value, bool):
        # ASSUMPTION: a logical compares as text "true"/"false"; the value types seen are only C, N, D and T.
        return "C", "true" if value else "false"
    if isinstance(value, int | Decimal):
        return "N", format(value, "f") if isinstance(value, Decimal) else str(value)
    if isinstance(value, float):
        return "N", repr(value)
    if isinstance(value, datetime):
        return "T", foxpro_literal(value)
    if isinstance(value, date):
        return "D", foxpro_literal(value)
    if isinstance(value, str):
        return "C", value
    raise TypeError(f"cannot filter on a {type(value).__name__} value")


@dataclass(frozen=True)
class Filter:
    """One numbered filter. Build it with the class methods; ``field`` may be bare or table-qualified."""

    field: str
    operator: str
    value_type: str
    value: str
    is_list: bool = False

    @classmethod
    def _make(cls, field: str, operator: str, value: object, value_type: str | None) -> Filter:
        vtype, text = _typed(value)
        return cls(field, operator, value_type or vtype, text)

    @classmethod
    def equal(cls, field: str, value: object, *, value_type: str | None = None) -> Filter:
        """Text compares case-insensitively and ignores trailing spaces on the server (AccountView pads C fields)."""
        return cls._make(field, EQUAL, value, value_type)

    @classmethod
    def not_equal(cls, field: str, value: object, *, value_type: str | None = None) -> Filter:
        return cls._make(field, NOT_EQUAL, value, value_type)

    @classmethod
    def contains(cls, field: str, text: str) -> Filter:
        return cls(field, CONTAINS, "C", text)

    @classmethod
    def on_or_after(cls, field: str, moment: date | datetime) -> Filter:
        """Rows whose date/datetime ``field`` is on or after ``moment``; a date compares the date part only.
        The watermark filter of incremental sync: ``Filter.on_or_after(change_date_field, last_run)``."""
        if not isinstance(moment, date):
            raise TypeError("on_or_after needs a date or datetime")
        return cls._make(field, ON_OR_AFTER, moment, None)

    @classmethod
    def in_(cls, field: str, values: Iterable[object], *, negate: bool = False) -> Filter:
        """One of ``values`` (``FilterIsListOfValues``: the value is a comma list). ``negate``: none of them."""
        typed = [_typed(v) for v in values]
        if not typed:
            raise ValueError("in_ needs at least one value")
        if len({t for t, _ in typed}) > 1:
            raise ValueError("in_ values must all have one type")
        if any("," in text for _, text in typed):
            raise ValueError("a value in a list filter cannot contain a comma (the list is comma-separated)")
        return cls(field, NOT_EQUAL if negate else EQUAL, typed[0][0], ",".join(t for _, t in typed), True)

    @classmethod
    def not_in(cls, field: str, values: Iterable[object]) -> Filter:
        return cls.in_(field, values, negate=True)


def filter_params(filters: Sequence[Filter], *, match_any: bool = False) -> dict[str, str]:
    """The query parameters for ``filters``, numbered from 1."""
    params: dict[str, str] = {}
    for n, flt in enumerate(filters, start=1):
        params[f"FilterControlSource{n}"] = flt.field
        params[f"FilterOperator{n}"] = flt.operator
        params[f"FilterValueType{n}"] = flt.value_type
        params[f"FilterValue{n}"] = flt.value
        params[f"FilterIsListOfValues{n}"] = "true" if flt.is_list else "false"
    if match_any and filters:
        params["matchAnyFilter"] = "true"
    return params
