"""The MplusKASSA half of `apicenter-sandbox --exercise`: a zeep client on the bundled WSDL."""

from __future__ import annotations

import time

import httpx
import zeep.exceptions

from apicenter_sync.mplus_wsdl import bind_service, make_client

from .runner import Sandboxes


def _items(value, name: str) -> list:
    """The repeated item of a zeep list wrapper (``productList.product``), or [] when absent."""
    if value is None:
        return []
    items = getattr(value, name, None) if not isinstance(value, list) else value
    return list(items or [])


def exercise_mplus(sb: Sandboxes) -> None:
    service = bind_service(make_client(), f"{sb.mplus_url}/?ident={sb.mplus_ident}&secret={sb.mplus_secret}")

    print("\n== MplusKASSA: getApiVersion over SOAP on the official WSDL")
    version = service.getApiVersion()
    print(f"   API {version.majorNumber}.{version.minorNumber}.{version.revisionNumber}")

    print("\n== MplusKASSA: every product, paged by syncMarker (syncMarkerLimit 1000 articles)")
    started, marker, products, articles, pages = time.monotonic(), 0, 0, 0, 0
    while True:
        reply = service.getProducts(request={"pluNumbers": {}, "syncMarker": marker, "syncMarkerLimit": 1000})
        batch = _items(reply, "product")
        if not batch:
            break
        pages += 1
        products += len(batch)
        articles += sum(len(_items(p.articleList, "article")) for p in batch)
        marker = max(p.syncMarker for p in batch) + 1
    print(f"   {products} products with {articles} articles in {pages} page(s), {time.monotonic() - started:.2f} s")

    print("\n== MplusKASSA: orders taken at the till (getOrders from syncMarker 0)")
    reply = service.getOrders(
        request={"syncMarker": 0, "syncMarkerLimit": 5, "articlePluNumbers": {}, "articleBarcodes": {}}
    )
    for order in _items(getattr(reply, "orderList", reply), "order"):
        total = (order.totalInclAmount or 0) / 100
        print(f"   {order.extOrderId:<18} relation {order.relationNumber or '-':<6} EUR {total:>9.2f}")

    print("\n== MplusKASSA: create a relation; a request that violates the WSDL")
    created = service.createRelation(relation={"name": "Exercise B.V.", "email": "exercise@example.nl"})
    print(f"   createRelation: {created.result}, relation {created.relationNumber}")
    try:
        service.getProducts(request={"syncMarker": 0})  # pluNumbers is required by the WSDL
    except (zeep.exceptions.ValidationError, zeep.exceptions.Fault) as exc:
        print(f"   a request that violates the WSDL is refused: {type(exc).__name__}: {exc}")

    print("\n== MplusKASSA: wrong credentials")
    bad = httpx.post(f"{sb.mplus_url}/?ident=x&secret=y", content=b"<x/>", timeout=10)
    print(f"   HTTP {bad.status_code}, SOAP fault: {'Client' in bad.text}")
