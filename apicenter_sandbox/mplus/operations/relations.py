"""Relations (customers, suppliers): get, list by marker, find, create, update."""

from __future__ import annotations

from collections.abc import Iterable

from ..store import TextIndex
from ..values import mplus_datetime
from .registry import Rejected, limited, operation

MAX_RELATIONS_PER_CALL = 1000  # DEV-REL: "a maximum of 1000 at a time"
READ_ONLY_FIELDS = ("syncMarker", "createTimestamp", "changeTimestamp", "balance")
# findRelation's searchable text fields (DEV-REL); matched partially and case-insensitively.
SEARCHABLE = (
    "extRelationId", "name", "address", "zipcode", "city", "country", "deliveryAddress", "deliveryZipcode",
    "deliveryCity", "deliveryCountry", "contact", "telephone", "mobile", "email", "website", "relationCode",
    "cardNumber", "bankAccountNumber",
)  # fmt: skip


@operation("getRelations")
def get_relations(sb, params: dict) -> dict:
    req = params.get("request") or {}
    store = sb.store
    wanted = set(req.get("relationNumbers") or ())
    category = req.get("categoryId")
    limit = min(req.get("syncMarkerLimit") or MAX_RELATIONS_PER_CALL, MAX_RELATIONS_PER_CALL)

    def selected():
        for key in store.index["relation"].since(req.get("syncMarker") or 0):
            rel = store.relations[key]
            if wanted and key not in wanted:
                continue
            if category is not None and category not in _categories(rel):
                continue
            yield rel

    return {"relationList": {"relation": list(limited(selected(), limit))}}


def _categories(rel: dict) -> set[int]:
    return set((rel.get("categoryIds") or {}).get("category", [])) | (
        {rel["categoryId"]} if rel.get("categoryId") else set()
    )


@operation("getRelation")
def get_relation(sb, params: dict) -> dict:
    rel = sb.store.relations.get(params["relationNumber"])
    if rel is None:
        # The schema makes <relation> required even when nothing was found.
        return {"result": "GET-RELATION-RESULT-NOT-FOUND", "relation": {}}
    return {"result": "GET-RELATION-RESULT-OK", "relation": rel}


@operation("findRelation")
def find_relation(sb, params: dict) -> dict:
    probe = params.get("relation") or {}
    texts = {f: str(probe[f]).casefold() for f in SEARCHABLE if probe.get(f)}
    exact = {f: probe[f] for f in ("relationNumber", "categoryId") if probe.get(f)}
    card = probe.get("cardNumbers") or []
    if not (texts or exact or card):
        return {"result": "FIND-RELATION-RESULT-NOT-FOUND"}
    for number in sorted(_candidates(sb.store, texts, exact)):
        rel = sb.store.relations[number]
        if all(needle in str(rel.get(f) or "").casefold() for f, needle in texts.items()) and all(
            rel.get(f) == v for f, v in exact.items()
        ):
            if card and not set(card) & set(rel.get("cardNumbers") or ()):
                continue
            return {"result": "FIND-RELATION-RESULT-OK", "relation": rel}
    return {"result": "FIND-RELATION-RESULT-NOT-FOUND"}


def _candidates(store, texts: dict[str, str], exact: dict) -> Iterable[int]:
    """The relations that can match: by number, else those holding every trigram of the e-mail (or other text)
    sought, else all. The match itself is still tested on each, lowest number first."""
    if "relationNumber" in exact:
        return {exact["relationNumber"]} & store.relations.keys()
    found: set[int] | None = None
    for name, needle in texts.items():
        index = store.relation_text.get(name)
        if index is None:
            index = store.relation_text[name] = TextIndex(name)
        hits = index.containing(store, needle)
        if hits is not None:
            found = hits if found is None else found & hits
    return store.relations.keys() if found is None else found


def _check(sb, rel: dict) -> None:
    group = rel.get("priceGroupNumber")
    if group and group not in sb.store.price_groups:
        raise Rejected("FAILED", f"unknown priceGroupNumber {group}")
    pct = rel.get("discountPercentage")
    if pct is not None and not 0 <= pct <= 100:
        raise Rejected("FAILED", f"discountPercentage must be between 0 and 100, got {pct}")
    number = rel.get("relationNumber")
    for disc in (rel.get("relationArticleDiscountList") or {}).get("relationArticleDiscount") or []:
        if not disc.get("articleNumber") and not disc.get("articleDiscountGroupNumber"):
            raise Rejected("FAILED", "a relation article discount needs an articleNumber or an articleDiscountGroupNumber")
        if disc.get("articleNumber") and sb.store.article(disc["articleNumber"]) is None:
            raise Rejected("FAILED", f"relation article discount for unknown article {disc['articleNumber']}")
        pct = disc.get("discountPercentage")
        if pct is not None and not 0 <= pct <= 100:
            raise Rejected("FAILED", f"discountPercentage must be between 0 and 100, got {pct}")
        if number and disc.get("relationNumber") and disc["relationNumber"] != number:
            raise Rejected("FAILED", f"relation article discount of relation {disc['relationNumber']} sent with "
                                     f"relation {number}")  # fmt: skip


def _store_article_discounts(store, number: int, data: dict, old: dict | None) -> None:
    """The list as the till keeps it (WSDL RelationArticleDiscount): a sent list replaces the stored one whole (an
    empty one removes every entry); each entry carries the relation's number and an id of its own, which an entry
    for the same article (or article discount group) and minimum amount keeps."""
    if "relationArticleDiscountList" not in data:
        return  # partial update: the stored list stays
    held = ((old or {}).get("relationArticleDiscountList") or {}).get("relationArticleDiscount") or []
    ids = {_discount_key(d): d["relationArticleDiscountId"] for d in held if d.get("relationArticleDiscountId")}
    stored = []
    for disc in (data.get("relationArticleDiscountList") or {}).get("relationArticleDiscount") or []:
        entry = {k: v for k, v in disc.items() if v is not None and k != "relationArticleDiscountId"}
        known = ids.pop(_discount_key(entry), None)
        if known is None:
            store.last_relation_discount_id += 1
            known = store.last_relation_discount_id
        stored.append({"relationArticleDiscountId": known, "relationNumber": number, **entry})
        stored[-1]["relationNumber"] = number
    data["relationArticleDiscountList"] = {"relationArticleDiscount": stored}


def _discount_key(disc: dict) -> tuple:
    return (disc.get("articleNumber") or 0, disc.get("articleDiscountGroupNumber") or 0, disc.get("minimumAmount") or 0)


@operation("createRelation", write=True)
def create_relation(sb, params: dict) -> dict:
    data = {k: v for k, v in (params.get("relation") or {}).items() if k not in READ_ONLY_FIELDS}
    store = sb.store
    number = data.get("relationNumber") or 0
    try:
        if number < 0:
            raise Rejected("FAILED", f"relationNumber must be positive, got {number}")
        if number in store.relations:
            raise Rejected("FAILED-RELATION-NUMBER-ALREADY-TAKEN", f"relation {number} already exists")
        _check(sb, data)
    except Rejected as exc:
        return {"result": f"CREATE-RELATION-RESULT-{exc.result}", "relationNumber": number, "errorMessage": exc.message}
    number = number or store.highest["relation"].value(store) + 1
    _store_article_discounts(store, number, data, None)
    stamp = mplus_datetime(sb.now())
    marker = store.touch("relation", number, None)
    store.relations[number] = {
        "active": True, **data, "relationNumber": number, "syncMarker": marker,
        "createTimestamp": stamp, "changeTimestamp": stamp,
    }  # fmt: skip
    sb.stats.write("relation")
    return {
        "result": "CREATE-RELATION-RESULT-OK", "relationNumber": number, "changeTimestamp": stamp,
        "syncMarker": marker, "errorMessage": "",
    }  # fmt: skip


@operation("updateRelation", write=True)
def update_relation(sb, params: dict) -> dict:
    """Partial update: fields left out keep their stored value."""
    data = {k: v for k, v in (params.get("relation") or {}).items() if k not in READ_ONLY_FIELDS}
    store = sb.store
    number = data.get("relationNumber")
    old = store.relations.get(number) if number else None
    try:
        if not number:
            raise Rejected("FAILED", "relationNumber is required")
        if old is None:
            raise Rejected("NOT-FOUND", f"relation {number} not found")
        _check(sb, data)
    except Rejected as exc:
        return {"result": f"UPDATE-RELATION-RESULT-{exc.result}", "errorMessage": exc.message}
    _store_article_discounts(store, number, data, old)
    stamp = mplus_datetime(sb.now())
    marker = store.touch("relation", number, old["syncMarker"])
    store.relations[number] = {**old, **data, "syncMarker": marker, "changeTimestamp": stamp}
    sb.stats.write("relation")
    return {"result": "UPDATE-RELATION-RESULT-OK", "errorMessage": "", "changeTimestamp": stamp, "syncMarker": marker}
