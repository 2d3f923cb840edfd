"""Record filters: which records a flow syncs, as rows of the mapping table ``record_filters``.

A row's key names the flow and the condition (``products.group``, ``customers.country``, ``orders.branch``; what
follows the dot is a free name, so one field can have several conditions: ``products.price_min``,
``products.price_max``); its value is the condition, ``<field> <operator> [<value>]``:

============  ============================================  ==========================
operator      holds when the record's field …               example
============  ============================================  ==========================
``=``         equals the value                              ``blocked = false``
``!=``        does not equal it                             ``country != NL``
``<`` ``>``   is less / greater (numbers as numbers)        ``price > 0``
``in``        is one of a comma-separated list              ``group in FIETS, TUIN``
``not in``    is none of them                               ``branch not in 3, 4``
``empty``     is empty                                      ``ean empty``
``not empty`` is not empty                                  ``email not empty``
============  ============================================  ==========================

Text compares trimmed and case-insensitively; true/false, yes/no, 1/0 compare as booleans. A record is synced
when every condition of its flow holds (and the older article settings ``filter_groups`` / ``filter_field`` let
it pass). Fields: for ``products`` (also used by ``stock`` and ``prices``, which follow the articles) a field of
the API profile's ``article`` object by its logical name (``group``, ``blocked``, ``price``, …); for
``customers`` one of the ``debtor`` object (``country``, ``customer_group``, …); AccountView field names are
accepted too. For ``orders`` (the till's sales) ``branch``, ``workplace``, ``state`` (any state field of the
sale) or a field of the sale as MplusKASSA sends it (``relationNumber``, ``vatMethod``, …).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .i18n import msg, table_ref

TABLE = "record_filters"
FLOWS = ("products", "customers", "orders")  # the flows a key may name (stock and prices follow products)
OPERATORS = ("not empty", "not in", "empty", "in", "!=", "=", "<", ">")  # longest first: how a value is read
_TRUE, _FALSE = {"true", "yes", "y", "j", "ja", "1", "t"}, {"false", "no", "n", "nee", "0", "f"}
_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.]*)\s+(not empty|not in|empty|in|!=|=|<|>)(?:\s+(.*?))?\s*$", re.I)
# Sales: short names for the fields of a sale (the first one a sale has).
SALE_FIELDS = {
    "branch": ("financialBranchNumber", "entryBranchNumber", "branchNumber"),
    "workplace": ("workplaceNumber",),
    "state": ("state", "completeState", "deliveryState", "cancelState"),
}


@dataclass(frozen=True)
class Condition:
    name: str  # the row's key (flow.name): what a skipped record's log line names
    field: str
    op: str
    values: tuple[str, ...]

    def text(self) -> str:
        return f"{self.field} {self.op} {', '.join(self.values)}".strip()

    def holds(self, actual: Any) -> bool:
        """Whether ``actual`` (the record's value, a list for a field with several: any may match) passes."""
        options = actual if isinstance(actual, list | tuple) else [actual]
        if self.op in ("empty", "not empty"):
            empty = all(_blank(v) for v in options)
            return empty if self.op == "empty" else not empty
        if self.op in ("!=", "not in"):
            return not any(_equal(v, w) for v in options for w in self.values)
        if self.op in ("=", "in"):
            return any(_equal(v, w) for v in options for w in self.values)
        return any(_less(v, self.values[0]) if self.op == "<" else _less(self.values[0], v) for v in options)


def parse(key: str, text: str) -> Condition:
    """A row of ``record_filters``; ValueError (its argument a catalogue message) says what is wrong."""
    flow, _, name = (key or "").strip().partition(".")
    if flow not in FLOWS or not name.strip():
        raise ValueError(msg("filters.bad_key", flows=list(FLOWS)))
    match = _CONDITION.match(text or "")
    if not match:
        raise ValueError(msg("filters.bad_condition", operators=list(reversed(OPERATORS))))
    field, op, rest = match.group(1), match.group(2).lower(), (match.group(3) or "").strip()
    if op in ("empty", "not empty"):
        if rest:
            raise ValueError(msg("filters.no_value", op=op))
        return Condition(key.strip(), field, op, ())
    values = tuple(v.strip() for v in rest.split(",")) if op in ("in", "not in") else (rest,)
    if not rest or any(not v for v in values):
        raise ValueError(msg("filters.needs_value", op=op))
    if op in ("<", ">") and _number(values[0]) is None and not re.match(r"^\d{4}-\d{2}-\d{2}", values[0]):
        raise ValueError(msg("filters.not_comparable", op=op, value=values[0]))
    return Condition(key.strip(), field, op, values)


def check(key: str, text: str) -> str | None:
    """The mapping-table check of a row: None when it is a condition."""
    try:
        parse(key, text)
    except ValueError as exc:
        return exc.args[0]
    return None


def conditions(tables: Mapping[str, Mapping[str, str]], flow: str) -> list[Condition]:
    """The conditions of ``flow`` (products, customers, orders), in key order. A bad row raises ValueError naming
    it (the flow stops with a configuration error: a filter must never be half applied)."""
    found = []
    for key, text in sorted((tables.get(TABLE) or {}).items()):
        if key.strip().partition(".")[0] == flow:
            try:
                found.append(parse(key, text))
            except ValueError as exc:
                raise ValueError(
                    msg("filters.bad_row", table=table_ref(TABLE), key=key, text=text, problem=exc.args[0])
                ) from None
    return found


def first_failing(conds: list[Condition], value_of: Callable[[str], Any]) -> Condition | None:
    """The first condition the record does not meet (None: it passes them all)."""
    for cond in conds:
        if not cond.holds(value_of(cond.field)):
            return cond
    return None


def row_value(row: Mapping[str, Any], spec) -> Callable[[str], Any]:
    """A field of an AccountView row by the profile's logical name (``spec``: an ObjectSpec) or its own name."""

    def value_of(field: str) -> Any:
        name = field.rpartition(".")[2]  # "article.group" or "group"
        if name in spec.fields:
            return row.get(spec[name])
        for key in (name, name.upper()):
            if key in row:
                return row[key]
        return None

    return value_of


def sale_value(sale: Mapping[str, Any]) -> Callable[[str], Any]:
    """A field of a till sale by its short name (``SALE_FIELDS``) or as MplusKASSA sends it."""

    def value_of(field: str) -> Any:
        if field.lower() == "state":  # any of the sale's state fields
            return [sale[n] for n in SALE_FIELDS["state"] if sale.get(n) not in (None, "")]
        for name in SALE_FIELDS.get(field.lower(), (field,)):
            if sale.get(name) not in (None, ""):
                return sale[name]
        return None

    return value_of


# --- comparing ----------------------------------------------------------------------------------------------------
def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def _equal(actual: Any, wanted: str) -> bool:
    if _blank(actual):
        return not wanted.strip()
    if isinstance(actual, bool):
        return actual == _bool(wanted)
    a, w = _number(actual), _number(wanted)
    if a is not None and w is not None:
        return a == w
    ab, wb = _bool(actual), _bool(wanted)
    if ab is not None and wb is not None:  # a logical field read as text ("J", "true")
        return ab == wb
    return str(actual).strip().lower() == wanted.strip().lower()


def _less(left: Any, right: Any) -> bool:
    if _blank(left) or _blank(right):
        return False
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return a < b
    return str(left).strip() < str(right).strip()  # ISO dates and timestamps compare as text
