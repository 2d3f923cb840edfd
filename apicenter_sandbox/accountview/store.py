"""In-memory tables of the AccountView sandbox.

Rows are kept sparse (only the fields that were set) in wire form; a GET fills in the
defaults of the other fields.  That keeps 100k debtors with 189 dictionary fields
small, and serving a page cheap.

Ordered key lists per query are cached until the next write to the table, so paging
through a large table sorts and filters once, not once per page.

Filters are answered from indexes, as a real server answers them from its own (docs/sandboxes.md, "Indexes"):
text fields compared with Equal (article code, debtor number, e-mail...) and date fields read with
DateOnOrAfterDate (CNG_DATE >= a watermark). An index is built the first time a field is filtered on and kept up
to date by every write after that, so a filtered read costs the size of its result, not of the table.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import OrderedDict
from collections.abc import Callable, Iterable

from .schema import SCHEMAS, TableSchema

QUERY_CACHE_SIZE = 32
ODD = object()  # index bucket of values an index cannot hold (not text): always candidates, the filter decides


def equal_text(value):
    """What a text Equal filter compares: trailing spaces dropped, case folded (query.py, ASSUMPTION there)."""
    return value.rstrip().lower() if isinstance(value, str) else ODD


class Rows(dict):
    """key -> row.  Storing or removing a row (also directly, as tests do) keeps the table's indexes current;
    reads are plain dict reads."""

    __slots__ = ("_table",)

    def __init__(self, table: Table):
        super().__init__()
        self._table = table

    def __setitem__(self, key: str, row: dict) -> None:
        old = self.get(key)
        super().__setitem__(key, row)
        self._table.changed(key, old, row)

    def __delitem__(self, key: str) -> None:
        old = self[key]
        super().__delitem__(key)
        self._table.changed(key, old, None)

    def pop(self, key: str, *default):
        if key not in self:
            return super().pop(key, *default)
        old = super().pop(key)
        self._table.changed(key, old, None)
        return old

    def _bulk(self, *args, **kwargs):
        raise TypeError("store or remove rows one by one, so that the indexes follow")

    update = setdefault = popitem = clear = __ior__ = _bulk


class Table:
    def __init__(self, schema: TableSchema):
        self.schema = schema
        self.name = schema.name
        self.key = schema.key
        self.rows: dict[str, dict] = Rows(self)  # key value -> sparse row in wire form
        self.ext_keys: dict[str, int] = {}  # key value -> EXT_KEY (stable per record)
        self.next_ext_key = 1
        # Detail tables only: header key -> keys of its detail rows, in insertion order.
        self.by_header: dict[str, list[str]] = {}
        self._queries: OrderedDict[tuple, list[str]] = OrderedDict()
        # Indexes, per field, built on first use (see the module doc):
        self._equal: dict[str, dict[object, set[str]]] = {}  # equal_text(value) -> keys
        self._from: dict[str, tuple[list[tuple[str, str]], set[str]]] = {}  # sorted (date, key); keys of ODD dates

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, key: str) -> dict | None:
        return self.rows.get(key)

    def value(self, row: dict, field: str):
        return row.get(field, self.schema.defaults[field])

    def insert(self, row: dict, header_key: str | None = None) -> str:
        key = row[self.key]
        self.rows[key] = row
        self.ext_keys[key] = self.next_ext_key
        self.next_ext_key += 1
        if header_key is not None:
            self.by_header.setdefault(header_key, []).append(key)
        return key

    def update(self, key: str, changes: dict) -> dict:
        row = self.rows[key]
        old = dict(row) if self._equal or self._from else row  # the indexes must find the old values
        row.update(changes)
        self.changed(key, old, row)
        return row

    def delete(self, key: str) -> dict | None:
        """Remove a row (what a user's delete in AccountView does; the API itself deletes nothing here)."""
        row = self.rows.pop(key, None)
        self.ext_keys.pop(key, None)
        return row

    # --- indexes -----------------------------------------------------------------------
    def changed(self, key: str, old: dict | None, new: dict | None) -> None:
        """A row was stored, changed or removed (``None``): forget cached queries, move its index entries.

        Rows change through update() or by being stored anew, never in place behind the table's back (the query
        cache relies on that too)."""
        self._queries.clear()
        for field, index in self._equal.items():
            before = equal_text(self.value(old, field)) if old is not None else None
            after = equal_text(self.value(new, field)) if new is not None else None
            if old is not None and new is not None and before == after:
                continue
            bucket = index.get(before) if old is not None else None
            if bucket is not None:
                bucket.discard(key)
                if not bucket:
                    del index[before]
            if new is not None:
                index.setdefault(after, set()).add(key)
        for field, (dates, odd) in self._from.items():
            before = self.value(old, field) if old is not None else None
            after = self.value(new, field) if new is not None else None
            if old is not None and new is not None and before == after:
                continue
            if old is not None:
                _unplace(dates, odd, before, key)
            if new is not None:
                _place(dates, odd, after, key)

    def keys_equal(self, field: str, texts: Iterable[str]) -> set[str]:
        """Keys whose ``field`` may equal one of ``texts`` (already ``equal_text``): the hits plus ODD values."""
        index = self._equal.get(field)
        if index is None:
            index = self._equal[field] = {}
            for key, row in self.rows.items():
                index.setdefault(equal_text(self.value(row, field)), set()).add(key)
        found: set[str] = set(index.get(ODD, ()))
        for text in texts:
            found |= index.get(text, set())
        return found

    def keys_from(self, field: str, bound: str) -> set[str]:
        """Keys whose date ``field`` is non-empty and >= ``bound`` (text order = time order), plus ODD values."""
        entry = self._from.get(field)
        if entry is None:
            dates: list[tuple[str, str]] = []
            odd: set[str] = set()
            for key, row in self.rows.items():
                value = self.value(row, field)
                if isinstance(value, str):
                    if value:
                        dates.append((value, key))
                elif value:
                    odd.add(key)
            dates.sort()
            entry = self._from[field] = (dates, odd)
        dates, odd = entry
        return {key for _, key in dates[bisect_left(dates, (bound,)) :]} | odd

    def find(self, field: str, value) -> Iterable[dict]:
        return (row for row in self.rows.values() if self.value(row, field) == value)

    def ordered(self, signature: tuple, build: Callable[[], list[str]]) -> list[str]:
        """The ordered keys of a query, built once per table version."""
        keys = self._queries.get(signature)
        if keys is None:
            keys = build()
            self._queries[signature] = keys
            if len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        else:
            self._queries.move_to_end(signature)
        return keys


def _place(dates: list[tuple[str, str]], odd: set[str], value, key: str) -> None:
    if isinstance(value, str):
        if value:  # an empty date never passes DateOnOrAfterDate
            insort(dates, (value, key))
    elif value:
        odd.add(key)


def _unplace(dates: list[tuple[str, str]], odd: set[str], value, key: str) -> None:
    if isinstance(value, str):
        if value:
            i = bisect_left(dates, (value, key))
            if i < len(dates) and dates[i] == (value, key):
                del dates[i]
    elif value:
        odd.discard(key)


class Store:
    """All tables plus the number ranges the server assigns from."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {name: Table(schema) for name, schema in SCHEMAS.items()}
        self.counters: dict[str, int] = {}

    def __getitem__(self, table: str) -> Table:
        return self.tables[table]

    def next_number(self, counter: str, first: int, taken: Callable[[str], bool], width: int = 0) -> str:
        """The next free number of a range; skips numbers a client already chose itself."""
        n = self.counters.get(counter, first)
        while True:
            text = str(n).zfill(width)
            n += 1
            if not taken(text):
                self.counters[counter] = n
                return text

    def next_rec_id(self, table: str) -> str:
        # Zero-padded so that text order is numeric order (lastKey paging compares text).
        t = self.tables[table]
        return self.next_number(f"REC_ID:{table}", 1, lambda k: k in t.rows, width=10)
