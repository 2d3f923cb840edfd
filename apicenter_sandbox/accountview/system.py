"""System endpoints: the business-object list and the data dictionary [C S1].

- ``GET /accountviewsystembusinessobjects`` → ``[{"Code", "Description", "InsertAllowed", "UpdateAllowed",
  "DeleteAllowed"}]`` (S1 ``business_objects_get.go``).
- ``GET /accountviewsystemdata?BusinessObject=FLD`` → ``{"DCT_FLD": [rows]}``: one row per field of every table, with
  the columns of the dictionary dumps in ``shared/specs/accountview/field-dictionary`` (``FIELD_NAME``, ``DBF_NAME``,
  ``FIELD_TYPE``, ``FIELD_LEN``, ``INP_MAND``, ``FLD_DESC``…, ``DCT_FLD_Id`` counting from 0 in the response).
  Filters ``FilterControlSource<n>`` on ``DBF_NAME`` or ``FIELD_NAME`` (Equal, optionally a list), ``PageSize``
  (default 100, at most 1000) and ``PageNumber``. ASSUMPTION: other system objects (``ADL``…) and free-form
  filters are not simulated (400).

A variant shows its own names here too, and no rows of what it does not have.
"""

from __future__ import annotations

import re

from . import assumptions as A
from .errors import AccountViewError
from .query import parse_bool, parse_int
from .schema import OBJECTS, SCHEMAS
from .variant import Variant

DICTIONARY_CODE, DICTIONARY_TABLE = "FLD", "DCT_FLD"
_FILTER = re.compile(r"^filter(controlsource|operator|value|islistofvalues|valuetype)(\d+)$")
_COLUMNS = {"DBF_NAME", "FIELD_NAME"}


def business_objects(variant: Variant | None) -> list[dict]:
    out = []
    for code, bo in OBJECTS.items():
        if variant and code in variant.absent:
            continue
        tables = [variant.table_out(t) if variant else t for t in bo.tables]
        out.append({
            "Code": variant.code_out(code) if variant else code, "Description": " + ".join(tables),
            "InsertAllowed": bo.can_post, "UpdateAllowed": bo.can_put, "DeleteAllowed": False,
        })  # fmt: skip
    return out


def _dictionary_rows(variant: Variant | None) -> list[dict]:
    rows = []
    for table, schema in SCHEMAS.items():
        if variant and table in variant.absent_tables:
            continue
        theirs = variant.table_out(table) if variant else table
        for name, spec in schema.fields.items():
            rows.append({
                "FLD_DESC": variant.label_out(table, name, spec.label) if variant else spec.label,
                "FIELD_NAME": variant.field_out(table, name) if variant else name, "DBF_NAME": theirs,
                "FIELD_LEN": variant.length_out(table, name, spec.length) if variant else spec.length,
                "FIELD_TYPE": spec.vfp_type,
                "INP_MAND": spec.mandatory, "FLD_FMT": "", "FLD_MASK": "", "COM_BLK": False, "CNG_DATE": "",
                "CNG_NR": 0, "CNG_USR": "", "INP_DATE": "", "PKY_TBL": "", "REC_CUST": False,
            })  # fmt: skip
    return rows


def system_data(params: dict[str, str], variant: Variant | None) -> dict[str, list[dict]]:
    """``params``: the query parameters with lower-case names."""
    code = (params.get("businessobject") or "").strip().upper()
    if code != DICTIONARY_CODE:
        raise AccountViewError("unknown_object", f"system data {code or '(none)'!r} is not simulated; the sandbox "
                                                 f"serves {DICTIONARY_CODE} (the data dictionary)")  # fmt: skip
    if (params.get("filter") or "").strip():
        raise AccountViewError("bad_request", "free-form Filter expressions are not supported by the sandbox")
    wanted: dict[str, set[str]] = {}
    parts: dict[int, dict[str, str]] = {}
    for name, value in params.items():
        match = _FILTER.match(name)
        if match:
            parts.setdefault(int(match.group(2)), {})[match.group(1)] = value
    for n, p in sorted(parts.items()):
        column = (p.get("controlsource") or "").strip().upper().split(".")[-1]
        if column not in _COLUMNS:
            raise AccountViewError("bad_request", f"FilterControlSource{n}: the sandbox filters {DICTIONARY_TABLE} "
                                                  f"on {' or '.join(sorted(_COLUMNS))} only")  # fmt: skip
        if (p.get("operator") or "Equal").strip().lower() != "equal":
            raise AccountViewError("bad_request", f"FilterOperator{n}: the sandbox filters {DICTIONARY_TABLE} with "
                                                  "Equal only")  # fmt: skip
        raw = p.get("value", "")
        values = raw.split(",") if parse_bool(f"FilterIsListOfValues{n}", p.get("islistofvalues")) else [raw]
        wanted.setdefault(column, set()).update(v.strip().upper() for v in values)
    rows = [r for r in _dictionary_rows(variant) if all(str(r[c]).upper() in v for c, v in wanted.items())]
    size = parse_int("PageSize", params.get("pagesize"), A.DEFAULT_PAGE_SIZE, 1, A.MAX_PAGE_SIZE)
    page = parse_int("PageNumber", params.get("pagenumber"), 1, 1)
    rows = rows[(page - 1) * size : page * size]
    return {DICTIONARY_TABLE: [{**row, "DCT_FLD_Id": i} for i, row in enumerate(rows)]}
