"""Filters of ``GET /accountviewdata`` as numbered query parameters (research §4.1).

Each filter becomes ``FilterControlSource<n>``, ``FilterOperator<n>``, ``FilterValueType<n>``, ``FilterValue<n>``
and ``FilterIsListOfValues<n>``; ``matchAnyFilter=true`` ORs them (default AND). Dates go as Visual FoxPro strict
literals ``{^YYYY-MM-DD}`` / ``{^YYYY-MM-DD HH:MM:SS}``, the form seen on the change-date field in client code [C S2, S3].
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
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
        """One of ``values`` (``FilterIsListOfValues``: the value is a comma list). ``negate``: none of them.
        A value with a comma cannot be expressed: read keys with :func:`rows_in` / :func:`key_filters`."""
        typed = [_typed(v) for v in values]
        # A wrong call (TypeError: a programmer's mistake): every read of keys from data goes through key_filters,
        # which never builds such a list.
        if not typed:
            raise TypeError("in_ needs at least one value")
        if len({t for t, _ in typed}) > 1:
            raise TypeError("in_ values must all have one type")
        if any("," in text for _, text in typed):
            raise TypeError("a value in a list filter cannot contain a comma (the list is comma-separated)")
        return cls(field, NOT_EQUAL if negate else EQUAL, typed[0][0], ",".join(t for _, t in typed), True)

    @classmethod
    def not_in(cls, field: str, values: Iterable[object]) -> Filter:
        return cls.in_(field, values, negate=True)


# --- "key in list" reads: the one helper every flow uses ----------------------------------------------------------
LIST_CHUNK = 50  # values per list filter
MAX_LIST_CHARS = 1500  # characters of one list value: keeps the query string well under common URL limits
# A list is comma-separated with no quoting the API documents, so a value that holds a comma cannot go in one.
# ASSUMPTION: quotes, control characters and leading/trailing blanks may be read another way inside a list by the
# real server (a FoxPro IN list); such keys go one by one with an Equal filter, whose value is its own parameter.
_NOT_IN_LIST = re.compile(r"[,'\"\x00-\x1f\x7f]")


def fits_in_list(text: str) -> bool:
    """Whether ``text`` can travel inside a comma list of ``FilterIsListOfValues``."""
    return bool(text) and text == text.strip() and not _NOT_IN_LIST.search(text)


def key_filters(field: str, values: Iterable[object], *, chunk: int = LIST_CHUNK,
                max_chars: int = MAX_LIST_CHARS) -> Iterator[Filter]:  # fmt: skip
    """Filters that together select the rows whose ``field`` is one of ``values``, each to be read on its own:
    list filters of at most ``chunk`` values (and ``max_chars`` characters), and one Equal filter for every value
    that cannot go in a list (a comma, a quote…). Blank values and repeats are left out (a blank would match every
    row whose field is empty)."""
    listed: list[object] = []
    alone: list[object] = []
    seen: set[str] = set()
    for value in values:
        text = _typed(value)[1]
        if not text.strip() or text in seen:
            continue
        seen.add(text)
        (listed if fits_in_list(text) else alone).append(value)
    part: list[object] = []
    size = 0
    for value in listed:
        text = _typed(value)[1]
        if part and (len(part) >= chunk or size + len(text) + 1 > max_chars):
            yield Filter.in_(field, part)
            part, size = [], 0
        part.append(value)
        size += len(text) + 1
    if part:
        yield Filter.in_(field, part)
    for value in alone:
        yield Filter.equal(field, value)


def rows_in(client, business_object: str, table: str, field: str, values: Iterable[object], *,
            filters: Sequence[Filter] = (), chunk: int = LIST_CHUNK, **options) -> Iterator[dict]:  # fmt: skip
    """Rows of ``table`` whose ``field`` is one of ``values`` (and that match ``filters``), read with
    :func:`key_filters`: one request per chunk of values, one per value that cannot go in a list. ``options`` as
    ``AccountViewClient.iter_rows``. Every "key in list" read of the engine goes through here."""
    for flt in key_filters(field, values, chunk=chunk):
        yield from client.iter_rows(business_object, table, filters=[*filters, flt], **options)


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
