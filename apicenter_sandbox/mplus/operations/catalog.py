"""Products and their articles: getProducts, createProduct, updateProduct.

A product only groups articles; the article is what is sold, stocked and priced.
Products and articles share one sync marker sequence ("articleSyncMarker").
"""

from __future__ import annotations

from ..values import mplus_datetime, price_other
from .registry import Rejected, limited, operation

# Fields the server owns; a client may send them but they are ignored.
READ_ONLY_ARTICLE_FIELDS = ("syncMarker", "changeTimestamp", "createTimestamp", "averagePurchasePrice")


@operation("getProducts")
def get_products(sb, params: dict) -> dict:
    req = params["request"]
    store = sb.store
    marker = req.get("syncMarker") or 0
    article_numbers = set(req.get("articleNumbers") or ())
    plu_numbers = {t["text"] for t in (req.get("pluNumbers") or {}).get("text", [])}
    product_numbers = set(req.get("productNumbers") or ())
    group_numbers = set(req.get("groupNumbers") or ())
    include_all = bool(req.get("includeAllArticlesOfSelectedProducts"))

    # Narrow the candidates by index when a filter allows it; selected() applies every filter anyway.
    candidates: set[int] | None = None
    if product_numbers:
        candidates = product_numbers
    elif (article_numbers or plu_numbers) and None not in plu_numbers:  # PLU None is not indexed: scan
        candidates = {store.article_product[a] for a in article_numbers if a in store.article_product}
        if plu_numbers:
            candidates |= store.plu_index.products(store, plu_numbers)
    if candidates is None:
        keys = store.index["article"].since(marker)
    else:
        keys = sorted(
            (k for k in candidates if k in store.products and store.products[k]["syncMarker"] >= marker),
            key=lambda k: store.products[k]["syncMarker"],
        )

    def selected():
        for key in keys:
            product = store.products[key]
            if product_numbers and key not in product_numbers:
                continue
            if group_numbers and not group_numbers.intersection(product.get("groupNumbers") or ()):
                continue
            articles = all_articles = product["articleList"]["article"]
            if article_numbers or plu_numbers:
                hits = [
                    a for a in articles if a["articleNumber"] in article_numbers or a.get("pluNumber") in plu_numbers
                ]
                if not hits:
                    continue
                articles = articles if include_all else hits
            if req.get("onlyActive"):
                articles = [a for a in articles if a.get("active", True)]
            if req.get("onlyWebshop"):
                articles = [a for a in articles if a.get("webshop")]
            if not articles:
                continue
            yield product if articles is all_articles else {**product, "articleList": {"article": articles}}

    # syncMarkerLimit counts articles, but the first product always comes whole (REL10).
    page = limited(selected(), req.get("syncMarkerLimit"), weight=lambda p: len(p["articleList"]["article"]))
    return {"productList": {"product": list(page)}}


def _article(sb, data: dict, existing: dict | None, number: int, marker: int, stamp: dict) -> dict:
    """The stored article: ``data`` over ``existing`` (omitted fields are kept), prices completed."""
    data = {k: v for k, v in data.items() if k not in READ_ONLY_ARTICLE_FIELDS}
    article = {"active": True, "stockArticle": True, **(existing or {}), **data}
    vat_pct = sb.store.vat_pct
    if "vatCode" in article and article["vatCode"] not in vat_pct:
        raise Rejected("FAILED", f"unknown vatCode {article['vatCode']} for article {number}")
    pct = vat_pct.get(article.get("vatCode"), 0)
    if "vatCode" in article:
        article["vatPercentage"] = pct
    # The server completes the price that was not sent (WSDL doc of Article.priceIncl/priceExcl).
    if "priceIncl" in data and "priceExcl" not in data:
        article["priceExcl"] = price_other(data["priceIncl"], pct, from_incl=True)
    elif "priceExcl" in data and "priceIncl" not in data:
        article["priceIncl"] = price_other(data["priceExcl"], pct, from_incl=False)
    elif "vatCode" in data and article.get("priceIncl") is not None:
        article["priceExcl"] = price_other(article["priceIncl"], pct, from_incl=True)
    _check_custom_fields(sb, data, number)
    for group in (article.get("priceGroupList") or {}).get("priceGroup", []):
        if group["priceGroupNumber"] not in sb.store.price_groups:
            raise Rejected("FAILED", f"unknown priceGroupNumber {group['priceGroupNumber']} for article {number}")
    article.update(articleNumber=number, syncMarker=marker, changeTimestamp=stamp)
    article.setdefault("createTimestamp", stamp)
    return article


# Which value element a custom field of each data type carries.
CUSTOM_FIELD_VALUE = {"DATA-TYPE-STRING": "strValue", "DATA-TYPE-INT": "intValue", "DATA-TYPE-DECIMAL": "intValue",
                      "DATA-TYPE-BOOL": "boolValue", "DATA-TYPE-DATE": "dateValue",
                      "DATA-TYPE-DATETIME": "dateTimeValue"}  # fmt: skip


def _check_custom_fields(sb, data: dict, number: int) -> None:
    defined = sb.store.article_custom_fields
    for custom in (data.get("customFieldList") or {}).get("customField") or []:
        name = custom.get("fieldName")
        if name not in defined:
            raise Rejected("FAILED", f"unknown custom field {name!r} for article {number}")
        wanted = CUSTOM_FIELD_VALUE.get(defined[name])
        if wanted and custom.get(wanted) is None:
            raise Rejected("FAILED", f"custom field {name!r} of article {number} needs a {wanted}")


def _check_groups(sb, product: dict) -> None:
    for group in product.get("groupNumbers") or ():
        if group not in sb.store.article_groups:
            raise Rejected("FAILED", f"unknown article group {group}")


def _next_number(store, kind: str, *taken) -> int:
    """One above the highest number in use (``kind``: "product" or "article") and in ``taken``."""
    return max([store.highest[kind].value(store), *(max(t, default=0) for t in taken)]) + 1


@operation("createProduct", write=True)
def create_product(sb, params: dict) -> dict:
    try:
        return _create_product(sb, params["product"])
    except Rejected as exc:
        return {"result": f"CREATE-PRODUCT-RESULT-{exc.result}", "productNumber": 0, "errorMessage": exc.message}


def _create_product(sb, product: dict) -> dict:
    store = sb.store
    number = product.get("productNumber") or 0
    if number < 0:
        raise Rejected("FAILED", f"productNumber must be positive, got {number}")
    if number and number in store.products:
        raise Rejected("FAILED-PRODUCT-NUMBER-ALREADY-TAKEN", f"product {number} already exists")
    articles_in = (product.get("articleList") or {}).get("article") or []
    if not articles_in:
        raise Rejected("FAILED", "a product needs at least one article")
    _check_groups(sb, product)
    wanted = [a.get("articleNumber") or 0 for a in articles_in]
    for a in wanted:
        if a < 0:
            raise Rejected("FAILED", f"articleNumber must be positive, got {a}")
        if a and (a in store.article_product or wanted.count(a) > 1):
            raise Rejected("FAILED-ARTICLE-NUMBER-ALREADY-TAKEN", f"article number {a} is already taken")
    number = number or _next_number(store, "product")
    stamp = mplus_datetime(sb.now())
    marker = store.markers["article"] + 1  # taken by touch() below once everything checked out
    taken = set(wanted)
    articles = []
    for data, a in zip(articles_in, wanted, strict=True):
        if not a:
            a = _next_number(store, "article", taken)
            taken.add(a)
        articles.append(_article(sb, data, None, a, marker, stamp))
    store.touch("article", number, None)  # == marker: we hold the lock, nothing bumped it meanwhile
    stored = {k: v for k, v in product.items() if k not in ("syncMarker", "articleList")}
    store.products[number] = {
        **stored,
        "productNumber": number,
        "syncMarker": marker,
        "articleList": {"article": articles},
    }
    for art in articles:
        store.article_product[art["articleNumber"]] = number
    sb.stats.write("product")
    sb.stats.write("article", len(articles))
    return {
        "result": "CREATE-PRODUCT-RESULT-OK", "productNumber": number,
        "articleNumbers": [a["articleNumber"] for a in articles], "changeTimestamp": stamp, "syncMarker": marker,
        "errorMessage": "",
    }  # fmt: skip


@operation("updateProduct", write=True)
def update_product(sb, params: dict) -> dict:
    try:
        return _update_product(sb, params["product"])
    except Rejected as exc:
        return {"result": f"UPDATE-PRODUCT-RESULT-{exc.result}", "errorMessage": exc.message}


def _update_product(sb, product: dict) -> dict:
    """Partial update: fields left out keep their value; articles left out stay; unknown articles are added."""
    store = sb.store
    number = product.get("productNumber")
    if not number:
        raise Rejected("FAILED", "productNumber is required")
    old = store.products.get(number)
    if old is None:
        raise Rejected("NOT-FOUND", f"product {number} not found")
    _check_groups(sb, product)
    stamp = mplus_datetime(sb.now())
    marker = store.markers["article"] + 1
    current = {a["articleNumber"]: a for a in old["articleList"]["article"]}
    existing, new = [], []
    taken: set[int] = set()
    for data in (product.get("articleList") or {}).get("article") or []:
        a = data.get("articleNumber") or 0
        if a < 0:
            raise Rejected("FAILED", f"articleNumber must be positive, got {a}")
        if a in taken or (a and a not in current and a in store.article_product):
            raise Rejected("FAILED-ARTICLE-NUMBER-ALREADY-TAKEN", f"article number {a} is already taken")
        if not a:
            a = _next_number(store, "article", current.keys(), taken)
        taken.add(a)
        (existing if a in current else new).append(a)
        current[a] = _article(sb, data, current.get(a), a, marker, stamp)
    store.touch("article", number, old["syncMarker"])  # == marker, as in _create_product
    changes = {k: v for k, v in product.items() if k not in ("syncMarker", "articleList", "productNumber")}
    store.products[number] = {
        **old,
        **changes,
        "syncMarker": marker,
        "articleList": {"article": list(current.values())},
    }
    for a in new:
        store.article_product[a] = number
    sb.stats.write("product")
    sb.stats.write("article", len(taken))
    return {
        "result": "UPDATE-PRODUCT-RESULT-OK", "existingArticleNumbers": existing, "newArticleNumbers": new,
        "changeTimestamp": stamp, "syncMarker": marker, "errorMessage": "",
    }  # fmt: skip
