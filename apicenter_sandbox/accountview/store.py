"""In-memory tables of the AccountView sandbox.

Rows are kept sparse (only the fields that were set) in wire form; a GET fills in the
defaults of the other fields.  That keeps 100k debtors with 189 dictionary fields
small, and serving a page cheap.

Ordered key lists per query are cached until the next write to the table, so paging
through a large table sorts and filters once, not once per page.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from .schema import SCHEMAS, TableSchema

QUERY_CACHE_SIZE = 32


class Table:
    def __init__(self, schema: TableSchema):
        self.schema = schema
        self.name = schema.name
        self.key = schema.key
        self.rows: dict[str, dict] = {}  # key value -> sparse row in wire form
        self.ext_keys: dict[str, int] = {}  # key value -> EXT_KEY (stable per record)
        self.next_ext_key = 1
        # Detail tables only: header key -> keys of its detail rows, in insertion order.
        self.by_header: dict[str, list[str]] = {}
        self._queries: OrderedDict[tuple, list[str]] = OrderedDict()

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
        self._queries.clear()
        return key

    def update(self, key: str, changes: dict) -> dict:
        row = self.rows[key]
        row.update(changes)
        self._queries.clear()
        return row

    def delete(self, key: str) -> dict | None:
        """Remove a row (what a user's delete in AccountView does; the API itself deletes nothing here)."""
        row = self.rows.pop(key, None)
        self.ext_keys.pop(key, None)
        self._queries.clear()
        return row

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
