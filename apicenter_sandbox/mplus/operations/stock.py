"""Stock per article per branch: getStock, setStock (absolute), updateStock (relative)."""

from __future__ import annotations

from decimal import Decimal

from ..seed import stock_row
from ..values import from_quantity, mplus_datetime, quantity
from .registry import operation


@operation("getStock")
def get_stock(sb, params: dict) -> dict:
    """Rows of the branch(es), optionally only some articles and only stockId >= the given one."""
    req = params["request"]
    store = sb.store
    branches = set((req.get("branchNumbers") or {}).get("branchNumber") or ()) or {req["branchNumber"]}
    articles = set((req.get("articleNumbers") or {}).get("articleNumbers") or ())
    rows = []
    if articles:
        for branch in branches:
            rows.extend(store.stock[(branch, a)] for a in articles if (branch, a) in store.stock)
        since = req.get("stockId") or 0
        rows = sorted((r for r in rows if r["stockId"] >= since), key=lambda r: r["stockId"])
    else:
        for key in store.index["stock"].since(req.get("stockId") or 0):
            if key[0] in branches:
                rows.append(store.stock[key])
    return {"articleStocks": rows}


def sold(sb, branch: int, number: int, amount: Decimal) -> None:
    """The till sold (``amount`` > 0) or took back (< 0) a stock article at ``branch``: its free stock goes down
    (up), as a sale does at a real till (stock history type SALES). Non-stock and unknown articles are left alone."""
    article = sb.store.article(number)
    if article is None or not article.get("stockArticle", True) or not amount:
        return
    mantissa, places = quantity(-amount)
    _change(sb, {"branchNumber": branch, "articleNumber": number, "amountChanged": mantissa, "decimalPlaces": places},
            "UPDATE-STOCK-RESULT", relative=True, kind="SALES")  # fmt: skip


def reserved(sb, branch: int, number: int, amount: Decimal) -> None:
    """An order at the till holds (``amount`` > 0) or lets go of (< 0) units of a stock article: ``amountReserved``
    moves, ``amountFree`` does not; the units leave the free stock when the order is delivered (:func:`sold`).
    ASSUMPTION (docs/sandbox-mplus.md "Orders and stock"). Non-stock and unknown articles are left alone."""
    store = sb.store
    article = store.article(number)
    if article is None or not article.get("stockArticle", True) or not amount or branch not in store.branches:
        return
    old = store.stock.get((branch, number))
    zero = Decimal(0)
    free, held, incoming = zero, zero, zero
    if old is not None:
        free = from_quantity(old["amountFree"], old.get("decimalPlacesFree"))
        held = from_quantity(old["amountReserved"], old.get("decimalPlacesReserved"))
        incoming = from_quantity(old["amountIncoming"], old.get("decimalPlacesIncoming"))
    stock_id = store.touch("stock", (branch, number), old["stockId"] if old else None)
    row = stock_row(branch, number, stock_id, free, max(zero, held + amount), incoming)
    row["changeTimestamp"] = mplus_datetime(sb.now())
    store.stock[(branch, number)] = row


def _change(sb, req: dict, prefix: str, relative: bool, kind: str = "API") -> dict:
    store = sb.store
    branch, number = req["branchNumber"], req["articleNumber"]
    places = req.get("decimalPlaces") or 0
    if branch not in store.branches:
        return {"result": f"{prefix}-BRANCH-NOT-FOUND"}
    article = store.article(number)
    if article is None:
        return {"result": f"{prefix}-ARTICLE-NOT-FOUND"}
    if not article.get("stockArticle", True):
        return {"result": f"{prefix}-NO-STOCK-ARTICLE"}
    if places < 0:
        return {"result": f"{prefix}-FAILED"}
    amount = from_quantity(req["amountChanged"] if relative else req["amount"], places)
    old = store.stock.get((branch, number))
    zero = Decimal(0)
    if old is None:
        free, reserved, incoming = zero, zero, zero
    else:
        free = from_quantity(old["amountFree"], old.get("decimalPlacesFree"))
        reserved = from_quantity(old["amountReserved"], old.get("decimalPlacesReserved"))
        incoming = from_quantity(old["amountIncoming"], old.get("decimalPlacesIncoming"))
    free = free + amount if relative else amount
    stock_id = store.touch("stock", (branch, number), old["stockId"] if old else None)
    row = stock_row(branch, number, stock_id, free, reserved, incoming)
    row["changeTimestamp"] = mplus_datetime(sb.now())
    store.stock[(branch, number)] = row
    mantissa, dp = quantity(amount)
    store.stock_history.append({
        "stockId": stock_id, "branchNumber": branch, "articleNumber": number, "relative": relative,
        "amount": mantissa, "decimalPlaces": dp, "employeeNumber": req.get("employeeNumber"),
        "reference": req.get("reference"), "type": f"STOCK-HISTORY-TYPE-{kind}",
    })  # fmt: skip
    sb.stats.write("stock")
    return {"result": f"{prefix}-OK", "stockId": stock_id}


@operation("setStock", write=True)
def set_stock(sb, params: dict) -> dict:
    return _change(sb, params["request"], "SET-STOCK-RESULT", relative=False)


@operation("updateStock", write=True)
def update_stock(sb, params: dict) -> dict:
    return _change(sb, params["request"], "UPDATE-STOCK-RESULT", relative=True)
