"""Values on the AccountView wire: the POST/PUT table envelope, exact numbers, dates, and cleaning read rows.

Envelope (research §5.3): ``Table.Definition`` lists the fields with a Visual FoxPro type letter, ``TableData``
carries positional ``Values`` in the same order; ``RowId`` links detail rows (``HeaderId``) to their header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..i18n import msg

# ASSUMPTION: AccountView keeps local wall-clock time without a zone (research §5.2). An aware datetime is
# converted to Dutch time first, then sent without its zone; naive datetimes are sent as they are.
LOCAL_TZ = ZoneInfo("Europe/Amsterdam")

# Decimals travel as JSON numbers with their exact digits: json.dumps cannot do that (it would go through float),
# so they are written as a marked string first and the marks are replaced in the JSON text. The marks use NUL,
# which json.dumps always escapes, so no real text can produce them.
_DEC_MARK = "\x00dec:"
_DEC_RE = re.compile(r'"\\u0000dec:(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')


def field_type(value: object) -> str:
    """The FieldType letter for a Python value, as the Go client maps its types [C S1]."""
    if isinstance(value, bool):
        return "L"
    if isinstance(value, int):
        return "I"
    if isinstance(value, float | Decimal):
        return "N"
    if isinstance(value, datetime):
        return "T"
    if isinstance(value, date):
        return "D"
    return "C"


def wire_datetime(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL_TZ)
    return moment.replace(microsecond=0, tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


def wire_value(value: object) -> object:
    """One value for ``Values``: dates as ``YYYY-MM-DDTHH:MM:SS``, Decimals marked for :func:`dumps`."""
    if isinstance(value, Decimal):
        if not value.is_finite():  # NaN or Infinity, e.g. read from the other system: the data's fault
            raise ValueError(msg("clients.not_a_finite_number", value=str(value)))
        return f"{_DEC_MARK}{format(value, 'f')}\x00"
    if isinstance(value, datetime):
        return wire_datetime(value)
    if isinstance(value, date):
        return value.strftime("%Y-%m-%dT00:00:00")
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise TypeError(f"cannot send a {type(value).__name__} value to AccountView")


def dumps(doc: object) -> bytes:
    """JSON with Decimals as exact numbers (``Decimal("12.10")`` → ``12.10``)."""
    return _DEC_RE.sub(r"\1", json.dumps(doc, ensure_ascii=False)).encode("utf-8")


def wire_book_date(book_date: date | datetime | str | None) -> str | None:
    if book_date is None or isinstance(book_date, str):
        return book_date
    return book_date.strftime("%Y-%m-%d")


def _fields_of(rows: Sequence[Mapping[str, object]]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def _definition(table: str, names: list[str], rows: Sequence[Mapping[str, object]],
                types: Mapping[str, str], links: tuple[str, ...]) -> dict:  # fmt: skip
    fields = [{"Name": link, "FieldType": "C"} for link in links]
    for name in names:
        letter = types.get(name)
        if letter is None:
            sample = next((r[name] for r in rows if r.get(name) is not None), None)
            letter = field_type(sample)
        fields.append({"Name": name, "FieldType": letter})
    return {"Name": table, "Fields": fields}


def build_envelope(business_object: str, table: str, rows: Sequence[Mapping[str, object]], *,
                   detail_table: str | None = None,
                   detail_rows: Sequence[Mapping[str, object]] | Sequence[Sequence[Mapping[str, object]]] | None = None,
                   field_types: Mapping[str, str] | None = None, book_date: date | datetime | str | None = None,
                   record_id: str | None = None) -> dict:  # fmt: skip
    """The table envelope for ``rows`` of ``table`` and, optionally, their detail rows.

    ``detail_rows`` is a flat list when there is one header row, else one list per header row (same order).
    ``field_types`` overrides the inferred FieldType letter per field name (header and detail fields alike).
    A field missing from some rows is sent as null there (the server's empty value)."""
    if not rows:  # a wrong call (TypeError: a programmer's mistake, never the data's)
        raise TypeError("nothing to write: no rows")
    types = {k: v for k, v in (field_types or {}).items()}
    names = _fields_of(rows)
    doc: dict = {"BusinessObject": business_object}
    if book_date is not None:
        doc["BookDate"] = wire_book_date(book_date)
    if record_id is not None:
        doc["id"] = record_id
    doc["Table"] = {"Definition": _definition(table, names, rows, types, ("RowId",))}
    doc["TableData"] = {
        "Data": {"Rows": [{"Values": [str(i), *(wire_value(r.get(n)) for n in names)]} for i, r in enumerate(rows, 1)]}
    }
    if detail_table is not None:
        groups = _detail_groups(rows, detail_rows or [])
        flat = [d for group in groups for d in group]
        dnames = _fields_of(flat)
        if dnames:
            doc["Table"]["DetailDefinitions"] = [_definition(detail_table, dnames, flat, types, ("RowId", "HeaderId"))]
            data_rows, n = [], 0
            for header_id, group in enumerate(groups, 1):
                for d in group:
                    n += 1
                    data_rows.append({"Values": [str(n), str(header_id), *(wire_value(d.get(f)) for f in dnames)]})
            doc["TableData"]["DetailData"] = [{"Rows": data_rows}]
    return doc


def _detail_groups(rows: Sequence[Mapping], detail_rows: Sequence) -> list[list[Mapping]]:
    if not detail_rows:
        return [[] for _ in rows]
    if isinstance(detail_rows[0], Mapping):
        if len(rows) != 1:
            raise TypeError("with several header rows, give detail_rows as one list per header row")
        return [list(detail_rows)]
    if len(detail_rows) != len(rows):
        raise TypeError(f"{len(detail_rows)} detail lists for {len(rows)} header rows")
    return [list(group) for group in detail_rows]


def clean_row(row: Mapping[str, object]) -> dict:
    """A read row with text right-stripped: AccountView may pad C fields with spaces up to their length."""
    return {k: v.rstrip(" ") if isinstance(v, str) else v for k, v in row.items()}
