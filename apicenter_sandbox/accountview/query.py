"""``GET /accountviewdata``: parameters, filters, field selection, sorting and paging.

Parameter names are matched case-insensitively [C S1, S5].  Filters, sort and paging
apply to the header table of a business object; detail rows (SO_LINE, DJ_LINE) come
along for the headers on the page, as a sibling array [C S1].
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from . import assumptions as A
from .errors import AccountViewError
from .schema import OBJECTS, SCHEMAS, BusinessObject, TableSchema
from .store import Store, Table
from .values import DATE_TYPES, NUMERIC_TYPES, TEXT_TYPES, parse_moment

OPERATORS = ("equal", "notequal", "contains", "dateonorafterdate")
VALUE_TYPES = frozenset("CNDT")
_FILTER_PARAM = re.compile(r"^filter(controlsource|operator|valuetype|value|islistofvalues)(\d+)$")
_BOOK_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Filter:
    field: str
    operator: str
    value_type: str
    values: tuple[str, ...]


@dataclass
class Query:
    bo: BusinessObject
    page_size: int
    page_number: int
    last_key: str | None
    filters: list[Filter]
    match_any: bool
    fields: dict[str, list[str]] | None  # table -> selected fields; None = all
    sort_fields: tuple[str, ...]
    descending: bool
    book_date: str | None


def business_object(code: str | None) -> BusinessObject:
    if not code:
        raise AccountViewError("bad_request", "parameter BusinessObject is missing")
    bo = OBJECTS.get(code.strip().upper())
    if bo is None:
        raise AccountViewError(
            "unknown_object", f"unknown business object {code!r}; this sandbox knows {', '.join(sorted(OBJECTS))}"
        )
    return bo


def resolve_field(bo: BusinessObject, name: str, tables: tuple[str, ...] | None = None) -> tuple[str, str]:
    """``"contact.mail_bus"`` or ``"MAIL_BUS"`` -> ("CONTACT", "MAIL_BUS"), or an error naming it."""
    tables = tables or bo.tables
    text = name.strip().upper()
    if "." in text:
        table, field = text.split(".", 1)
        if table not in tables or field not in SCHEMAS[table].fields:
            raise AccountViewError(
                "unknown_field", f"unknown field {name.strip()!r} for {bo.code} (tables {', '.join(tables)})"
            )
        return table, field
    for table in tables:
        if text in SCHEMAS[table].fields:
            return table, text
    raise AccountViewError(
        "unknown_field", f"unknown field {name.strip()!r} for {bo.code} (tables {', '.join(tables)})"
    )


def parse_bool(name: str, text: str | None) -> bool:
    if text is None or text.strip() == "":
        return False
    low = text.strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise AccountViewError("bad_request", f"parameter {name}: expected true or false, got {text!r}")


def parse_int(name: str, text: str | None, default: int, low: int, high: int | None = None) -> int:
    if text is None or text.strip() == "":
        return default
    try:
        value = int(text.strip())
    except ValueError:
        raise AccountViewError("bad_request", f"parameter {name}: expected a whole number, got {text!r}") from None
    if value < low or (high is not None and value > high):
        limit = f"{low}..{high}" if high is not None else f">= {low}"
        raise AccountViewError("bad_request", f"parameter {name} must be {limit}, got {value}")
    return value


def parse_book_date(text: str | None, allow_time: bool = False) -> str | None:
    """BookDate picks the fiscal-year administration [C S1, S2]; the sandbox has one (ASSUMPTION) and only validates it."""
    if text is None or text.strip() == "":
        return None
    text = text.strip()
    day = text[:10] if allow_time else text
    try:
        if not _BOOK_DATE.match(day):
            raise ValueError
        date.fromisoformat(day)
        if allow_time and len(text) > 10 and parse_moment(text) is None:
            raise ValueError
    except ValueError:
        raise AccountViewError("bad_request", f"BookDate must be a date YYYY-MM-DD, got {text!r}") from None
    return day


def parse_query(params: dict[str, str]) -> Query:
    """``params``: query parameters with lower-case names."""
    bo = business_object(params.get("businessobject"))
    if not bo.can_get:
        raise AccountViewError("not_allowed", f"GET is not possible on {bo.code}: {bo.note}")
    if params.get("filter", "").strip():
        raise AccountViewError(
            "bad_request",
            "free-form Filter expressions are not supported by the sandbox; use FilterControlSource<n>...",
        )
    last_key = params.get("lastkey")
    query = Query(
        bo=bo,
        page_size=parse_int("PageSize", params.get("pagesize"), A.DEFAULT_PAGE_SIZE, 1, A.MAX_PAGE_SIZE),
        page_number=parse_int("PageNumber", params.get("pagenumber"), 1, 1),
        last_key=last_key.strip() if last_key and last_key.strip() else None,
        filters=_filters(bo, params),
        match_any=parse_bool("matchAnyFilter", params.get("matchanyfilter")),
        fields=_fields(bo, params.get("fields")),
        sort_fields=(),
        descending=False,
        book_date=parse_book_date(params.get("bookdate")),
    )
    order = (params.get("sortorder") or "ascending").strip().lower()
    if order not in ("ascending", "descending", "asc", "desc"):
        raise AccountViewError(
            "bad_request", f"SortOrder must be Ascending or Descending, got {params.get('sortorder')!r}"
        )
    query.descending = order.startswith("desc")
    if params.get("sortfields", "").strip():
        query.sort_fields = tuple(
            resolve_field(bo, name, (bo.header,))[1] for name in params["sortfields"].split(",") if name.strip()
        )
    key = SCHEMAS[bo.header].key
    if query.last_key is not None and query.sort_fields not in ((), (key,)):
        raise AccountViewError(
            "bad_request",
            f"lastKey pages in key order ({key}); it cannot be combined with SortFields={','.join(query.sort_fields)}",
        )
    return query


def _filters(bo: BusinessObject, params: dict[str, str]) -> list[Filter]:
    parts: dict[int, dict[str, str]] = {}
    for name, value in params.items():
        match = _FILTER_PARAM.match(name)
        if match:
            parts.setdefault(int(match.group(2)), {})[match.group(1)] = value
    filters = []
    for n in sorted(parts):
        p = parts[n]
        if not p.get("controlsource", "").strip():
            raise AccountViewError("bad_request", f"FilterControlSource{n} is missing for filter {n}")
        table, field = resolve_field(bo, p["controlsource"], (bo.header,))
        vfp_type = SCHEMAS[table].fields[field].vfp_type
        operator = (p.get("operator") or "Equal").strip().lower()
        if operator not in OPERATORS:
            raise AccountViewError(
                "bad_request",
                f"FilterOperator{n}: unknown operator {p.get('operator')!r}; known: Equal, NotEqual, Contains, DateOnOrAfterDate",
            )
        value_type = (p.get("valuetype") or _value_type_of(vfp_type)).strip().upper()
        if value_type not in VALUE_TYPES:
            raise AccountViewError("bad_request", f"FilterValueType{n} must be C, N, D or T, got {value_type!r}")
        raw = p.get("value", "")
        values = tuple(raw.split(",")) if parse_bool(f"FilterIsListOfValues{n}", p.get("islistofvalues")) else (raw,)
        filters.append(Filter(field, operator, value_type, values))
        _predicate(SCHEMAS[table], filters[-1])  # fail now, with a 400, rather than while serving
    return filters


def _value_type_of(vfp_type: str) -> str:
    if vfp_type in NUMERIC_TYPES:
        return "N"
    if vfp_type in DATE_TYPES:
        return vfp_type
    return "C"


def _fields(bo: BusinessObject, text: str | None) -> dict[str, list[str]] | None:
    if text is None or text.strip() in ("", "*"):
        return None
    selected: dict[str, list[str]] = {table: [] for table in bo.tables}
    for name in text.split(","):
        name = name.strip()
        if not name:
            continue
        if name == "*" or name.endswith(".*"):
            tables = bo.tables if name == "*" else (resolve_table(bo, name[:-2]),)
            for table in tables:
                selected[table] = list(SCHEMAS[table].fields)
            continue
        if "." in name:
            table, field = resolve_field(bo, name)
            selected[table].append(field)
            continue
        hits = [table for table in bo.tables if name.upper() in SCHEMAS[table].fields]
        if not hits:
            resolve_field(bo, name)  # raises the error naming the field
        for table in hits:  # a bare name selects the field in every table that has it
            selected[table].append(name.upper())
    return {table: list(dict.fromkeys(fields)) for table, fields in selected.items()}


def resolve_table(bo: BusinessObject, name: str) -> str:
    table = name.strip().upper()
    if table not in bo.tables:
        raise AccountViewError("unknown_field", f"{bo.code} has no table {name!r} (tables {', '.join(bo.tables)})")
    return table


# --- evaluation --------------------------------------------------------------------


def _predicate(schema: TableSchema, flt: Filter) -> Callable[[dict], bool]:
    """Compile a filter once; raises the error naming the filter when it cannot apply to its field."""
    field = schema.fields[flt.field]
    default = schema.defaults[flt.field]
    vfp_type = field.vfp_type
    where = f"filter on {schema.name}.{flt.field}"
    hit: Callable[[object], bool] | None = None  # whether a stored value matches; default: any target passes test

    if flt.operator == "dateonorafterdate" or (vfp_type in DATE_TYPES):
        if vfp_type not in DATE_TYPES:
            raise AccountViewError(
                "bad_request", f"{where}: DateOnOrAfterDate needs a date field, {flt.field} is type {vfp_type}"
            )
        targets = []
        for raw in flt.values:
            parsed = parse_moment(raw)
            if parsed is None:
                raise AccountViewError(
                    "bad_request", f"{where}: {raw!r} is no date; use {{^YYYY-MM-DD}} or {{^YYYY-MM-DD HH:MM:SS}}"
                )
            wire, has_time = parsed
            # A D value type (or a date without time) compares the date only.
            targets.append((wire, has_time and flt.value_type == "T"))
        if flt.operator == "contains":
            raise AccountViewError("bad_request", f"{where}: Contains needs a text field")

        def test(stored: str, target: tuple[str, bool]) -> bool:
            wire, exact = target
            if not stored:
                return False
            if flt.operator == "dateonorafterdate":
                return stored >= wire if exact else stored[:10] >= wire[:10]
            return stored == wire if exact else stored[:10] == wire[:10]
    elif vfp_type in NUMERIC_TYPES:
        if flt.operator == "contains":
            raise AccountViewError(
                "bad_request", f"{where}: Contains needs a text field, {flt.field} is type {vfp_type}"
            )
        try:
            targets = [float(raw.strip().replace(",", ".") or 0) for raw in flt.values]
        except ValueError:
            raise AccountViewError("bad_request", f"{where}: {flt.values!r} is not a number") from None

        def test(stored, target: float) -> bool:
            return float(stored) == target
    elif vfp_type == "L":
        targets = [parse_bool(where, raw) for raw in flt.values]

        def test(stored, target: bool) -> bool:
            return bool(stored) == target
    else:
        assert vfp_type in TEXT_TYPES
        # ASSUMPTION: text compares case-insensitively and ignores trailing spaces (AccountView pads C fields).
        # store.equal_text is the same normalisation, for the index of Equal filters.
        targets = [raw.rstrip().lower() for raw in flt.values]
        if flt.operator == "contains":

            def test(stored: str, target: str) -> bool:
                return target in stored.lower()
        else:
            wanted = frozenset(targets)  # a list of 1000 keys: one set look-up per row, not 1000 compares

            def hit(stored: str) -> bool:
                return stored.rstrip().lower() in wanted

    name = flt.field
    negate = flt.operator == "notequal"
    if hit is None:

        def hit(stored) -> bool:
            return any(test(stored, target) for target in targets)

    def predicate(row: dict) -> bool:
        found = hit(row.get(name, default))
        return not found if negate else found

    return predicate


def _indexed(table: Table, flt: Filter) -> set[str] | None:
    """Keys that may pass ``flt``, from the table's index, or None when no index answers it.

    A superset: the filter itself still runs on every candidate.  Mirrors the branches of _predicate."""
    vfp_type = table.schema.fields[flt.field].vfp_type
    if flt.operator == "dateonorafterdate" and vfp_type in DATE_TYPES:
        bounds = []
        for raw in flt.values:
            parsed = parse_moment(raw)
            if parsed is None:
                return None
            wire, has_time = parsed
            # stored[:10] >= wire[:10] holds exactly when stored >= wire[:10] (text order), so one bound serves both.
            bounds.append(wire if has_time and flt.value_type == "T" else wire[:10])
        return table.keys_from(flt.field, min(bounds))
    if flt.operator == "equal" and vfp_type in TEXT_TYPES:
        return table.keys_equal(flt.field, {raw.rstrip().lower() for raw in flt.values})
    return None


def _candidates(table: Table, filters: list[Filter], match_any: bool) -> Iterable[str] | None:
    """The keys worth testing: the smallest indexed set (all filters must hold) or the union of every filter's
    set (any may hold); None when a scan is needed."""
    found = []
    for flt in filters:
        keys = _indexed(table, flt)
        if keys is None:
            if match_any:
                return None  # one filter without an index may let any row through
            continue
        found.append(keys)
    if not found:
        return None
    return set().union(*found) if match_any else min(found, key=len)


def ordered_keys(table: Table, query: Query) -> list[str]:
    """Header keys matching the filters, in the requested order (cached per table version)."""
    sort_fields = query.sort_fields or (table.key,)
    key_order = sort_fields == (table.key,)
    signature = (tuple(query.filters), query.match_any, sort_fields, query.descending)

    def build() -> list[str]:
        predicates = [_predicate(table.schema, f) for f in query.filters]
        combine = any if query.match_any else all
        if predicates:
            rows = table.rows
            candidates = _candidates(table, query.filters, query.match_any)
            tested = rows.items() if candidates is None else ((k, rows[k]) for k in candidates)
            # The order of the candidates does not matter: the keys are sorted below, on a total order.
            keys = [k for k, row in tested if combine(p(row) for p in predicates)]
        else:
            keys = list(table.rows)
        if key_order:
            keys.sort(reverse=query.descending)
        else:
            defaults, rows = table.schema.defaults, table.rows

            def sort_key(k: str):
                row = rows[k]
                return (*(row.get(f, defaults[f]) for f in sort_fields), k)

            keys.sort(key=sort_key, reverse=query.descending)
        return keys

    return table.ordered(signature, build)


def page_of(keys: list[str], query: Query) -> list[str]:
    start = 0
    if query.last_key is not None:
        if query.descending:
            start = _desc_start(keys, query.last_key)
        else:
            start = bisect_right(keys, query.last_key)
    start += (query.page_number - 1) * query.page_size
    return keys[start : start + query.page_size]


def _desc_start(keys: list[str], last_key: str) -> int:
    """First index in a descending list whose key is below ``last_key`` (binary search)."""
    lo, hi = 0, len(keys)
    while lo < hi:
        mid = (lo + hi) // 2
        if keys[mid] >= last_key:
            lo = mid + 1
        else:
            hi = mid
    return lo


def render(store: Store, query: Query, header_keys: list[str]) -> dict[str, list[dict]]:
    """Rows in GET shape: table-keyed, UPPERCASE fields, EXT_KEY and <TABLE>_Id [C S1]."""
    bo = query.bo
    header = store[bo.header]
    out = {bo.header: render_rows(header, header_keys, query.fields)}
    for detail_name in bo.details:
        if query.fields is not None and not query.fields.get(detail_name):
            continue
        detail = store[detail_name]
        keys = [k for hk in header_keys for k in detail.by_header.get(hk, ())]
        out[detail_name] = render_rows(detail, keys, query.fields)
    return out


def render_rows(table: Table, keys: list[str], fields: dict[str, list[str]] | None) -> list[dict]:
    defaults, rows, ext_keys = table.schema.defaults, table.rows, table.ext_keys
    ordinal = f"{table.name}_Id"
    selected = fields.get(table.name) if fields is not None else None
    result = []
    for i, key in enumerate(keys):
        row = rows[key]
        if selected is None:
            item = {**defaults, **row}
        else:
            item = {f: row.get(f, defaults[f]) for f in selected}
        item["EXT_KEY"] = ext_keys[key]
        item[ordinal] = i
        result.append(item)
    return result
