"""The sandbox's state: WSDL-shaped dicts plus per-entity sync markers.

Stored entities are never mutated in place: an update stores a new dict.  Replies
can therefore be serialised outside the sandbox lock while writers go on.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
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


class Lagging:
    """An index derived from the stored entities of one marker sequence, brought up to date before each use.

    Every write of a product or relation takes a fresh marker (MplusStore.touch), so the entities written since
    the last use are exactly those of SyncIndex.since(last marker + 1): catching up costs the writes, not the
    table, and no writer (seed, handlers, from_capture) has to know about the index."""

    entity = ""

    def __init__(self) -> None:
        self._seen = 0  # the entity's marker this index reflects

    def catch_up(self, store: MplusStore) -> None:
        if self._seen == store.markers[self.entity]:
            return
        table = self.table(store)
        for key in store.index[self.entity].since(self._seen + 1):
            self.drop(key)
            if key in table:
                self.add(key, table[key])
        self._seen = store.markers[self.entity]

    def table(self, store: MplusStore) -> dict:
        raise NotImplementedError

    def drop(self, key) -> None:
        raise NotImplementedError

    def add(self, key, item: dict) -> None:
        raise NotImplementedError


class PluIndex(Lagging):
    """pluNumber -> productNumbers (getProducts by pluNumbers; a till looks articles up by PLU)."""

    entity = "article"

    def __init__(self) -> None:
        super().__init__()
        self._products: dict[object, set[int]] = {}
        self._plus: dict[int, set] = {}  # productNumber -> the PLU numbers indexed for it

    def table(self, store: MplusStore) -> dict:
        return store.products

    def drop(self, key) -> None:
        for plu in self._plus.pop(key, ()):
            bucket = self._products[plu]
            bucket.discard(key)
            if not bucket:
                del self._products[plu]

    def add(self, key, item: dict) -> None:
        plus = {a.get("pluNumber") for a in item["articleList"]["article"]} - {None}
        self._plus[key] = plus
        for plu in plus:
            self._products.setdefault(plu, set()).add(key)

    def products(self, store: MplusStore, plus) -> set[int]:
        self.catch_up(store)
        found: set[int] = set()
        for plu in plus:
            found |= self._products.get(plu, set())
        return found


class TextIndex(Lagging):
    """Trigrams of one relation field (casefolded) -> relationNumbers: findRelation's partial match on e-mail,
    name... narrowed to the relations that hold every trigram of the search text, as a database's trigram index
    does. Built on the first search on the field."""

    entity = "relation"
    N = 3

    def __init__(self, field: str) -> None:
        super().__init__()
        self.field = field
        self._numbers: dict[str, set[int]] = {}
        self._texts: dict[int, str] = {}  # relationNumber -> the text indexed for it

    def table(self, store: MplusStore) -> dict:
        return store.relations

    def grams(self, text: str) -> set[str]:
        return {text[i : i + self.N] for i in range(len(text) - self.N + 1)}

    def drop(self, key) -> None:
        for gram in self.grams(self._texts.pop(key, "")):
            bucket = self._numbers[gram]
            bucket.discard(key)
            if not bucket:
                del self._numbers[gram]

    def add(self, key, item: dict) -> None:
        text = self._texts[key] = str(item.get(self.field) or "").casefold()
        for gram in self.grams(text):
            self._numbers.setdefault(gram, set()).add(key)

    def containing(self, store: MplusStore, needle: str) -> set[int] | None:
        """Relations whose field may contain ``needle`` (casefolded); None when it is too short to narrow."""
        grams = self.grams(needle)
        if not grams:
            return None
        self.catch_up(store)
        buckets = sorted((self._numbers.get(g, set()) for g in grams), key=len)
        return buckets[0].intersection(*buckets[1:])


class Highest(Lagging):
    """The highest number in use of a table (products, articles, relations), for the next free one.

    Nothing deletes a product, article or relation, so the highest only grows with the writes since the last use
    (max() over 100k keys on every create was most of a create's cost)."""

    def __init__(self, entity: str, table: str, numbers: Callable[[object, dict], Iterable[int]] | None = None):
        super().__init__()
        self.entity = entity
        self._table = table
        self._numbers = numbers or (lambda key, item: (key,))
        self.top = 0

    def table(self, store: MplusStore) -> dict:
        return getattr(store, self._table)

    def drop(self, key) -> None:
        pass

    def add(self, key, item: dict) -> None:
        self.top = max(self.top, max(self._numbers(key, item), default=0))

    def value(self, store: MplusStore) -> int:
        self.catch_up(store)
        return self.top


def _highest() -> dict[str, Highest]:
    return {
        "product": Highest("article", "products"),
        "article": Highest(
            "article", "products", lambda _, p: (a["articleNumber"] for a in p["articleList"]["article"])
        ),
        "relation": Highest("relation", "relations"),
    }


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
    plu_index: PluIndex = field(default_factory=PluIndex)
    relation_text: dict[str, TextIndex] = field(default_factory=dict)  # field -> its index, made on first search
    highest: dict[str, Highest] = field(default_factory=_highest)  # "product", "article", "relation"
    last_relation_discount_id: int = 0  # the till numbers every RelationArticleDiscount it stores

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
