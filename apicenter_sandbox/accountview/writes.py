"""POST (insert) and PUT (update) of ``/accountviewdata``: validation, server-filled fields, apply.

A request is validated completely before anything is stored, so a failing row leaves
no half-written order behind.  The caller holds the sandbox lock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from . import assumptions as A
from .envelope import Envelope, RowIn
from .errors import AccountViewError
from .schema import SCHEMAS, TableSchema
from .store import Store, equal_text
from .values import coerce, wire_date, wire_datetime

API_USER = "API"  # INP_USR / CNG_USR of rows written through the API (ASSUMPTION)
SALES_ORDER_LINES = "SO_LINE"  # the lines whose quantities a posted sales order reserves

Written = dict[str, list[str]]  # table -> keys, in request order


class Writer:
    def __init__(self, store: Store, clock: Callable[[], datetime]):
        self.store = store
        self.clock = clock

    # --- POST ------------------------------------------------------------------------
    def post(self, env: Envelope) -> Written:
        bo = env.bo
        if not bo.can_post:
            raise AccountViewError("not_allowed", f"POST is not possible on {bo.code}: {bo.note}")
        if not env.headers:
            raise AccountViewError("bad_request", f"TableData.Data.Rows is empty: nothing to write to {bo.header}")
        now = wire_datetime(self.clock())
        saved_counters = dict(self.store.counters)
        pending: dict[str, dict[str, dict]] = {t: {} for t in bo.tables}  # table -> key -> row
        parents: dict[str, dict[str, str]] = {t: {} for t in bo.details}  # detail table -> key -> header key
        try:
            by_row_id: dict[str, str] = {}
            header_keys: list[str] = []
            for row_in in env.headers:
                row = self._new_row(bo.header, row_in, pending, now)
                key = row[SCHEMAS[bo.header].key]
                pending[bo.header][key] = row
                header_keys.append(key)
                if row_in.row_id is not None:
                    if row_in.row_id in by_row_id:
                        raise AccountViewError("bad_request", f"{bo.header}: RowId {row_in.row_id!r} is used twice")
                    by_row_id[row_in.row_id] = key
            for table, rows in env.details.items():
                for row_in in rows:
                    header_key = self._header_of(table, row_in, by_row_id, header_keys)
                    header = pending[bo.header][header_key]
                    row = self._new_row(table, row_in, pending, now, header)
                    key = row[SCHEMAS[table].key]
                    pending[table][key] = row
                    parents[table][key] = header_key
        except AccountViewError:
            self.store.counters = saved_counters  # numbers of a refused request are not used up
            raise
        written: Written = {}
        for table, rows in pending.items():
            target = self.store[table]
            for key, row in rows.items():
                target.insert(row, header_key=parents.get(table, {}).get(key))
            written[table] = list(rows)
        for row in pending.get(SALES_ORDER_LINES, {}).values():
            self._reserve(str(row.get("ART_CODE") or ""), float(row.get("ORD_QTY") or 0.0), now)
        return written

    def _reserve(self, article: str, quantity: float, now: str) -> None:
        """ASSUMPTION (docs/sandbox-accountview.md, docs/assumptions.md "Stock"): a posted sales order reserves
        its quantities at once, in the article's first warehouse (by code) that has a stock row, so the stock
        figure ``available`` (on hand − reserved) drops; a return (negative quantity) gives it back. Journal
        bookings (DJ2) move no stock. The change stamps the row, so an incremental read sees it."""
        f = A.STOCK.fields
        stock = self.store[A.STOCK.table]
        keys = stock.keys_equal(f["sku"].name, [equal_text(article)]) if article and quantity else set()
        rows = sorted((stock.get(k) for k in keys), key=lambda r: str(r.get(f["warehouse"].name) or ""))
        if not rows:
            return  # not a stock article in the books (a service, shipping or rounding article)
        row = rows[0]
        key = row[A.STOCK.key]
        reserved = round(float(row.get(f["reserved"].name) or 0.0) + quantity, 6)  # no float dust in the figure
        changes = {f["reserved"].name: reserved,
                   "CNG_DATE": now, "CNG_USR": API_USER, "CNG_NR": int(row.get("CNG_NR", 0)) + 1}  # fmt: skip
        schema = SCHEMAS[A.STOCK.table]
        changes = {k: v for k, v in changes.items() if k in schema.fields}
        changes.update(self._computed(A.STOCK.table, {**row, **changes}))
        stock.update(key, changes)

    def _header_of(self, table: str, row_in: RowIn, by_row_id: dict[str, str], header_keys: list[str]) -> str:
        if row_in.header_id is None:
            if len(header_keys) == 1:
                return header_keys[0]
            raise AccountViewError(
                "bad_request", f"{table} row {row_in.position}: HeaderId is missing (several header rows)"
            )
        if row_in.header_id not in by_row_id:
            raise AccountViewError(
                "bad_request", f"{table} row {row_in.position}: HeaderId {row_in.header_id!r} matches no header RowId"
            )
        return by_row_id[row_in.header_id]

    def _new_row(self, table: str, row_in: RowIn, pending: dict, now: str, header: dict | None = None) -> dict:
        schema = SCHEMAS[table]
        row = self._coerce(schema, row_in)
        if schema.key in schema.auto and schema.key in row and schema.key != "SUB_NR":
            raise AccountViewError(
                "bad_value", f"{table}.{schema.key} is assigned by the server; leave it out of the POST"
            )
        self._fill(table, row, pending, now, header)
        self._check_mandatory(schema, row, row_in)
        key = row[schema.key]
        if key in self.store[table].rows or key in pending.get(table, {}):
            raise AccountViewError("duplicate", f"{table}.{schema.key} {key!r} already exists")
        self._check_unique(schema, row, key, pending.get(table, {}))
        self._check_references(schema, row, pending)
        for name, value in (
            ("INP_DATE", now),
            ("CNG_DATE", now),
            ("INP_USR", API_USER),
            ("CNG_USR", API_USER),
            ("CNG_NR", 1),
        ):
            if name in schema.fields:
                row[name] = value
        row.update(self._computed(table, row))
        return row

    def _fill(self, table: str, row: dict, pending: dict, now: str, header: dict | None) -> None:
        """Fields the business object fills in when the POST leaves them empty."""
        store = self.store
        schema = SCHEMAS[table]

        def free(t: str, field: str) -> Callable[[str], bool]:
            """Whether a number is taken (stored or pending); the field's index finds the stored rows with it."""
            rows = store[t].rows
            waiting = list(pending.get(t, {}).values())
            return lambda v: (
                any(rows[k].get(field) == v for k in store[t].keys_equal(field, [equal_text(v)]))
                or any(r.get(field) == v for r in waiting)
            )

        if schema.key == A.DEFAULT_KEY:
            row[A.DEFAULT_KEY] = store.next_rec_id(table)
        if table == "CONTACT" and not row.get("SUB_NR"):
            taken = store["CONTACT"].rows
            row["SUB_NR"] = store.next_number(
                "SUB_NR", A.FIRST_SUB_NR, lambda v: v in taken or v in pending.get("CONTACT", {})
            )
        elif table == "SO_HDR" and not row.get("ORD_NR"):
            row["ORD_NR"] = store.next_number("ORD_NR", A.FIRST_ORD_NR, free("SO_HDR", "ORD_NR"))
        elif table == "SO_LINE" and header is not None:
            row["ORD_NR"] = header["ORD_NR"]
            article = store["ARTICLE"].get(str(row.get("ART_CODE", "")))
            if article is not None:
                for name, source in (
                    ("ART_DESC1", "ART_DESC1"),
                    (A.SALES_ORDER_LINE_FIELDS["vat_code"].name, A.ARTICLE_FIELDS["vat_code"].name),
                ):
                    if not row.get(name):
                        row[name] = article.get(source, "")
        elif table == "DJ_PAGE":
            if not row.get("TRN_DATE"):
                row["TRN_DATE"] = wire_date(self.clock().date())
            if not row.get("PERIOD"):
                row["PERIOD"] = float(int(row["TRN_DATE"][5:7]))
            journal = row.get("DJ_CODE", "")
            if not row.get("INV_NR"):
                row["INV_NR"] = store.next_number("INV_NR", A.FIRST_INV_NR, free("DJ_PAGE", "INV_NR"))
            if not row.get("PAGE_NR"):
                pages = store["DJ_PAGE"]
                row["PAGE_NR"] = store.next_number(
                    f"PAGE_NR:{journal}",
                    1,
                    lambda v: any(
                        pages.rows[k].get("PAGE_NR") == v and pages.rows[k].get("DJ_CODE") == journal
                        for k in pages.keys_equal("PAGE_NR", [equal_text(v)])
                    ),
                )
        elif table == "DJ_LINE" and header is not None:
            for name in ("DJ_CODE", "PAGE_NR", "INV_NR", "SUB_NR", "TRN_DATE"):
                if not row.get(name):
                    row[name] = header.get(name, "")
            row.setdefault("SRC_ID", header[A.DEFAULT_KEY])
            row.setdefault("SRC_TYPE", 1.0)  # ASSUMPTION: 1 = line of a journal page

    def _computed(self, table: str, row: dict) -> dict:
        """Fields the server computes from the others."""
        if table == A.STOCK.table:
            f = A.STOCK.fields
            on_hand, reserved = float(row.get(f["on_hand"].name, 0.0)), float(row.get(f["reserved"].name, 0.0))
            return {f["available"].name: on_hand - reserved}
        return {}

    # --- PUT -------------------------------------------------------------------------
    def put(self, env: Envelope) -> Written:
        bo = env.bo
        if not bo.can_put:
            raise AccountViewError("not_allowed", f"PUT is not possible on {bo.code}: {bo.note}")
        if any(env.details.values()):
            raise AccountViewError(
                "not_allowed",
                f"PUT updates {bo.header} rows only; detail rows ({', '.join(env.details)}) cannot be changed",
            )
        if not env.headers:
            raise AccountViewError("bad_request", f"TableData.Data.Rows is empty: nothing to update in {bo.header}")
        schema = SCHEMAS[bo.header]
        table = self.store[bo.header]
        if env.record_id is not None and len(env.headers) > 1:
            raise AccountViewError(
                "bad_request", "a top-level id identifies one record; send one row or put the key in each row"
            )
        updates: list[tuple[str, dict]] = []
        for row_in in env.headers:
            changes = self._coerce(schema, row_in)
            key = changes.pop(schema.key, None)
            if key is not None and env.record_id is not None and key != env.record_id:
                raise AccountViewError(
                    "bad_request",
                    f"id {env.record_id!r} and {bo.header}.{schema.key} {key!r} differ; a key cannot be changed",
                )
            key = key if key is not None else env.record_id
            if not key:
                raise AccountViewError(
                    "bad_request", f"PUT needs {bo.header}.{schema.key} in the row or a top-level id"
                )
            existing = table.get(key)
            if existing is None:
                raise AccountViewError("not_found", f"{bo.header} {schema.key} {key!r} does not exist")
            merged = {**existing, **changes}
            for name in changes:
                f = schema.fields[name]
                if f.mandatory and name not in schema.auto and merged.get(name) in ("", None):
                    raise AccountViewError("mandatory", f"{bo.header}.{name} is mandatory and cannot be emptied")
            self._check_unique(schema, merged, key, {})
            self._check_references(schema, changes, {})
            updates.append((key, changes))
        now = wire_datetime(self.clock())
        for key, changes in updates:
            row = table.get(key)
            stamp = {"CNG_DATE": now, "CNG_USR": API_USER, "CNG_NR": int(row.get("CNG_NR", 0)) + 1}
            changes = {**changes, **{k: v for k, v in stamp.items() if k in schema.fields}}
            # Computed fields go in with the change (not into the stored row afterwards): the indexes see them.
            changes.update(self._computed(bo.header, {**row, **changes}))
            table.update(key, changes)
        return {bo.header: [key for key, _ in updates]}

    # --- shared checks -----------------------------------------------------------------
    def _coerce(self, schema: TableSchema, row_in: RowIn) -> dict:
        row = {}
        for name, value in row_in.values.items():
            f = schema.fields.get(name)
            if f is None:
                raise AccountViewError("unknown_field", f"{schema.name} has no field {name}")
            if name in schema.read_only:
                raise AccountViewError(
                    "bad_value", f"{schema.name}.{name} is maintained by the server and cannot be written"
                )
            row[name] = coerce(schema.name, name, f.vfp_type, f.length, value)
        return row

    def _check_mandatory(self, schema: TableSchema, row: dict, row_in: RowIn) -> None:
        for name, f in schema.fields.items():
            if f.mandatory and name not in schema.auto and row.get(name) in ("", None):
                raise AccountViewError("mandatory", f"{schema.name}.{name} is mandatory (row {row_in.position})")

    def _check_unique(self, schema: TableSchema, row: dict, key: str, pending: dict[str, dict]) -> None:
        for combo in schema.unique:
            values = tuple(row.get(f, schema.defaults[f]) for f in combo)
            if any(v in ("", None) for v in values):
                continue
            # The index of the combination's first field finds the stored rows that can clash.
            table = self.store[schema.name]
            stored = ((k, table.rows[k]) for k in table.keys_equal(combo[0], [equal_text(values[0])]))
            for other_key, other in [*stored, *pending.items()]:
                if other_key != key and tuple(other.get(f, schema.defaults[f]) for f in combo) == values:
                    shown = ", ".join(f"{f}={v!r}" for f, v in zip(combo, values, strict=True))
                    raise AccountViewError("duplicate", f"{schema.name} with {shown} already exists")

    def _check_references(self, schema: TableSchema, row: dict, pending: dict) -> None:
        for name, target in schema.references.items():
            value = row.get(name)
            if value in ("", None):
                continue
            if value not in self.store[target].rows and value not in pending.get(target, {}):
                raise AccountViewError("bad_reference", f"{schema.name}.{name}: {target} {value!r} does not exist")
