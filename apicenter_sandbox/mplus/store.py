"""The sandbox's state: WSDL-shaped dicts plus per-entity sync markers.

Stored entities are never mutated in place: an update stores a new dict.  Replies
can therefore be serialised outside the sandbox lock while writers go on.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field

# Markers reported by getCurrentSyncMarkers; "stock" is the stockId counter.
MARKER_ENTITIES = ("article", "articleGroup", "relation", "employee", "order", "stock", "receipt", "invoice")


class SyncIndex:
    """Keys ordered by their current marker; markers only grow, so appends keep it sorted."""

    def __init__(self) -> None:
        self._markers: list[int] = []
        self._keys: dict[int, object] = {}

    def move(self, key, old: int | None, new: int) -> None:
        if old is not None and old in self._keys:
            del self._markers[bisect_left(self._markers, old)]
            del self._keys[old]
        if self._markers and new <= self._markers[-1]:
            raise ValueError(f"marker {new} is not above {self._markers[-1]}")
        self._markers.append(new)
        self._keys[new] = key

    def since(self, marker: int) -> Iterator:
        """Keys whose marker is >= ``marker`` (an inclusive lower bound), in marker order."""
        keys = self._keys
        for m in self._markers[bisect_left(self._markers, marker) :]:
            yield keys[m]

    def __len__(self) -> int:
        return len(self._markers)


@dataclass
class MplusStore:
    branches: dict[int, dict] = field(default_factory=dict)
    vat_groups: list[dict] = field(default_factory=list)
    vat_pct: dict[int, int] = field(default_factory=dict)  # vatCode -> percentage
    employees: dict[int, dict] = field(default_factory=dict)
    article_groups: dict[int, dict] = field(default_factory=dict)  # groupNumber -> ArticleGroup without subGroupList
    group_parent: dict[int, int] = field(default_factory=dict)  # groupNumber -> parent (0 = top level)
    products: dict[int, dict] = field(default_factory=dict)  # productNumber -> Product
    article_product: dict[int, int] = field(default_factory=dict)  # articleNumber -> productNumber
    relations: dict[int, dict] = field(default_factory=dict)
    stock: dict[tuple[int, int], dict] = field(default_factory=dict)  # (branch, article) -> ArticleStock
    stock_history: list[dict] = field(default_factory=list)  # what setStock/updateStock did, for inspection
    orders: dict[str, dict] = field(default_factory=dict)  # orderId -> Order
    order_by_ext: dict[str, str] = field(default_factory=dict)  # extOrderId -> orderId
    order_numbers: dict[int, int] = field(default_factory=dict)  # year -> last order number
    price_groups: dict[int, dict] = field(default_factory=dict)
    payment_methods: list[dict] = field(default_factory=list)
    # Article custom fields the till defines (getCustomFieldLists): fieldName -> dataType. ASSUMPTION: a till
    # refuses a custom field it does not define, and one of another data type (docs/sandbox-mplus.md).
    article_custom_fields: dict[str, str] = field(default_factory=dict)
    turnover_groups: list[dict] = field(default_factory=list)
    receipts: dict[str, dict] = field(default_factory=dict)  # receiptId -> Receipt
    invoices: dict[str, dict] = field(default_factory=dict)  # invoiceId -> Invoice
    invoice_by_ext: dict[str, str] = field(default_factory=dict)  # extInvoiceId -> invoiceId
    cash_counts: dict[str, dict] = field(default_factory=dict)  # cashCountId -> CashCount (finalized closings)
    counted: dict[str, str] = field(default_factory=dict)  # receiptId -> the cashCountId that counted it
    numbers: dict[tuple, int] = field(default_factory=dict)  # (kind, branch, workplace, year) -> last number
    delivery_methods: list[dict] = field(default_factory=list)
    idempotent: dict[tuple[str, str], dict] = field(default_factory=dict)  # (operation, key) -> first reply
    markers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MARKER_ENTITIES, 0))
    index: dict[str, SyncIndex] = field(default_factory=lambda: {e: SyncIndex() for e in MARKER_ENTITIES})

    def bump(self, entity: str) -> int:
        self.markers[entity] += 1
        return self.markers[entity]

    def touch(self, entity: str, key, old_marker: int | None) -> int:
        """Give ``key`` a fresh marker of ``entity`` and return it."""
        marker = self.bump(entity)
        self.index[entity].move(key, old_marker, marker)
        return marker

    def article(self, number: int) -> dict | None:
        product = self.products.get(self.article_product.get(number, -1))
        if product is None:
            return None
        return next(a for a in product["articleList"]["article"] if a["articleNumber"] == number)

    def counts(self) -> dict[str, int]:
        return {
            "branches": len(self.branches), "employees": len(self.employees),
            "articleGroups": len(self.article_groups), "products": len(self.products),
            "articles": len(self.article_product), "relations": len(self.relations),
            "stockRows": len(self.stock), "orders": len(self.orders), "priceGroups": len(self.price_groups),
        }  # fmt: skip
