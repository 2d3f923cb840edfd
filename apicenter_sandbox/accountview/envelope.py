"""The POST/PUT "table envelope" of ``/accountviewdata`` (research §5.3) [C S1, S3, S4].

    {"BookDate": ..., "BusinessObject": "SO1", "id": ... (PUT, optional),
     "Table": {"Definition": {"Name": "SO_HDR", "Fields": [{"Name": "RowId", "FieldType": "C"}, ...]},
               "DetailDefinitions": [{"Name": "SO_LINE", "Fields": [...]}]},
     "TableData": {"Data": {"Rows": [{"Values": [...]}]},
                   "DetailData": [{"Rows": [{"Values": [...]}]}]}}

``Values`` are positional, in the order of ``Fields``.  Member names are matched
case-insensitively (S3 sends ``name``/``values`` in lower case) [C S3].
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .errors import AccountViewError
from .query import business_object, parse_book_date
from .schema import BusinessObject

ROW_ID = "ROWID"
HEADER_ID = "HEADERID"
ROW_ACTION = "ROWACTION"  # seen on DJ_LINE [C S1]; meaning unknown, accepted and ignored


@dataclass
class RowIn:
    values: dict[str, object]  # UPPERCASE field name -> value as sent
    row_id: str | None = None
    header_id: str | None = None
    position: int = 0  # 1-based row number in its table, for error messages


@dataclass
class Envelope:
    bo: BusinessObject
    book_date: str | None
    record_id: str | None  # top-level "id" (PUT) [C S4]
    headers: list[RowIn]
    details: dict[str, list[RowIn]] = field(default_factory=dict)


def _ci(obj, what: str) -> dict:
    if not isinstance(obj, dict):
        raise AccountViewError("bad_request", f"{what} must be a JSON object")
    return {str(k).lower(): v for k, v in obj.items()}


def _list(obj, what: str) -> list:
    if obj is None:
        return []
    if not isinstance(obj, list):
        raise AccountViewError("bad_request", f"{what} must be a JSON array")
    return obj


def parse_envelope(body: bytes) -> Envelope:
    try:
        doc = json.loads(body or b"null")
    except ValueError as exc:
        raise AccountViewError("bad_request", f"request body is not valid JSON: {exc}") from None
    top = _ci(doc, "the request body")
    bo = business_object(top.get("businessobject"))
    table = _ci(top.get("table"), "Table")
    data = _ci(top.get("tabledata"), "TableData")
    header_def = _definition(table.get("definition"), "Table.Definition")
    if header_def[0] != bo.header:
        raise AccountViewError(
            "bad_request", f"Table.Definition.Name is {header_def[0]!r}; {bo.code} writes {bo.header}"
        )
    headers = _rows(header_def, _ci(data.get("data"), "TableData.Data"), "TableData.Data")
    details: dict[str, list[RowIn]] = {}
    detail_defs = [
        _definition(d, f"Table.DetailDefinitions[{i}]")
        for i, d in enumerate(_list(table.get("detaildefinitions"), "Table.DetailDefinitions"))
    ]
    detail_data = _list(data.get("detaildata"), "TableData.DetailData")
    if len(detail_data) > len(detail_defs):
        raise AccountViewError("bad_request", "TableData.DetailData has more entries than Table.DetailDefinitions")
    for i, definition in enumerate(detail_defs):
        if definition[0] not in bo.details:
            allowed = ", ".join(bo.details) or "none"
            raise AccountViewError(
                "bad_request", f"{bo.code} has no detail table {definition[0]!r} (detail tables: {allowed})"
            )
        block = _ci(detail_data[i], f"TableData.DetailData[{i}]") if i < len(detail_data) else {"rows": []}
        details.setdefault(definition[0], []).extend(_rows(definition, block, f"TableData.DetailData[{i}]"))
    record_id = top.get("id")
    return Envelope(
        bo=bo,
        book_date=parse_book_date(str(top["bookdate"]) if top.get("bookdate") else None, allow_time=True),
        record_id=str(record_id).strip() if record_id not in (None, "") else None,
        headers=headers,
        details=details,
    )


def _definition(obj, what: str) -> tuple[str, list[str]]:
    d = _ci(obj, what)
    name = str(d.get("name") or "").strip().upper()
    if not name:
        raise AccountViewError("bad_request", f"{what}.Name is missing")
    names = []
    for i, f in enumerate(_list(d.get("fields"), f"{what}.Fields")):
        fname = str(_ci(f, f"{what}.Fields[{i}]").get("name") or "").strip().upper()
        if not fname:
            raise AccountViewError("bad_request", f"{what}.Fields[{i}].Name is missing")
        if fname in names:
            raise AccountViewError("bad_request", f"{what}: field {fname} is listed twice")
        names.append(fname)
    if not names:
        raise AccountViewError("bad_request", f"{what}.Fields is empty")
    return name, names


def _rows(definition: tuple[str, list[str]], block: dict, what: str) -> list[RowIn]:
    table, names = definition
    rows = []
    for i, raw in enumerate(_list(block.get("rows"), f"{what}.Rows"), start=1):
        values = _list(_ci(raw, f"{what}.Rows[{i - 1}]").get("values"), f"{what}.Rows[{i - 1}].Values")
        if len(values) != len(names):
            raise AccountViewError(
                "bad_request", f"{table} row {i}: {len(values)} values for {len(names)} fields in the definition"
            )
        row = RowIn(values={}, position=i)
        for name, value in zip(names, values, strict=True):
            if name == ROW_ID:
                row.row_id = None if value in (None, "") else str(value)
            elif name == HEADER_ID:
                row.header_id = None if value in (None, "") else str(value)
            elif name != ROW_ACTION:
                row.values[name] = value
        rows.append(row)
    return rows
