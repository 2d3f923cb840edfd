"""The naive baseline: one job and one write per record, as typical connectors do it.

For every source record: list its key (the only paged read), GET the record by its key from AccountView, look
it up in MplusKASSA by its number or e-mail, then create or update it. No paging reuse, no change detection
(an unchanged record is written again), no batching, no state store. The payloads are built with the engine's
own datamapper and payload code, so the difference measured is the access pattern, not the mapping.

    naive_run(engine, "products", limit=1000) -> {"records": n, "counts": Counter, "failures": [...]}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from apicenter_sync.clients.accountview import Filter
from apicenter_sync.flows.base import RunOptions
from apicenter_sync.flows.customers import CustomersFlow
from apicenter_sync.flows.products import ProductsFlow, _norm
from apicenter_sync.flows.stock import WAREHOUSE_BRANCH, StockFlow

NAIVE_FLOWS = ("products", "customers", "stock")


def _keys(av, business_object: str, table: str, key: str, limit: int | None) -> Iterator[str]:
    """The keys of a table (one paged listing of the key field only), at most ``limit``."""
    for n, row in enumerate(av.iter_rows(business_object, table, fields=[key], page_size=1000)):
        if limit is not None and n >= limit:
            return
        yield str(row[key]).strip()


def _get(av, business_object: str, table: str, key: str, value: str) -> dict | None:
    return av.get_one(business_object, table, [Filter.equal(key, value)])


def naive_run(engine, flow: str, *, limit: int | None = None) -> dict:
    counts: Counter[str] = Counter()
    failures: list[tuple[str, str]] = []
    run = {"products": _products, "customers": _customers, "stock": _stock}[flow]
    for sid, action in run(engine, limit):
        counts[action if not action.startswith("failed") else "failed"] += 1
        if action.startswith("failed"):
            failures.append((sid, action[len("failed: ") :]))
    return {"records": sum(counts.values()), "counts": counts, "failures": failures}


def _attempt(sid: str, fn) -> tuple[str, str]:
    try:
        return sid, fn()
    except Exception as exc:  # noqa: BLE001 - a failed record is counted, the job goes on with the next one
        return sid, f"failed: {type(exc).__name__}: {exc}"


def _products(engine, limit):
    av, mp = engine.accountview, engine.mplus
    flow = ProductsFlow(engine.store, av, mp, RunOptions())
    flow.prepare()
    # Article groups: one job per group, matched by name against the groups read once (there are few).
    groups: dict[str, int] = {}
    existing = flow.mplus_groups()
    grp, art = flow.names.article_group, flow.names.article
    for code in _keys(av, grp.code, grp.table, grp.key_field, None):

        def one_group(code=code):
            row = _get(av, grp.code, grp.table, grp.key_field, code)
            name = (flow.mapper("categories").to_model(row, flow.tables).name or code)[:50]
            number = existing.get(_norm(name))
            if number:
                mp.update_article_group(number, name=name, text=name)
                groups[code] = number
                return "updated"
            groups[code] = mp.create_article_group(name, text=name)
            return "created"

        yield _attempt(code, one_group)
    for sku in _keys(av, art.code, art.table, art.key_field, limit):

        def one_article(sku=sku):
            row = _get(av, art.code, art.table, art.key_field, sku)
            article = flow.mapper().to_model(row, flow.tables)
            payload = flow.article_payload(article, {})
            product = {"description": (article.name or sku)[:60], "articleList": {"article": [payload]}}
            codes = [groups[c] for c in article.category_codes if c in groups]
            if codes:
                product["groupNumbers"] = codes
            found = mp.get_articles([payload["articleNumber"]])
            if found:
                mp.update_product({"productNumber": found[payload["articleNumber"]]["productNumber"], **product})
                return "updated"
            mp.create_product(product)
            return "created"

        yield _attempt(sku, one_article)


def _customers(engine, limit):
    av, mp = engine.accountview, engine.mplus
    flow = CustomersFlow(engine.store, av, mp, RunOptions())
    debtor = flow.names.debtor
    for number in _keys(av, debtor.code, debtor.table, debtor.key_field, limit):

        def one(number=number):
            row = _get(av, debtor.code, debtor.table, debtor.key_field, number)
            customer = flow.mapper().to_model(row, flow.tables)
            payload = flow.relation_payload(number, customer)
            found = mp.find_relation(customer.email, scan_on_partial=False) if customer.email else None
            if found:
                mp.update_relation({"relationNumber": int(found["relationNumber"]), **payload})
                return "updated"
            mp.create_relation(payload)
            return "created"

        yield _attempt(number, one)


def _stock(engine, limit):
    av, mp = engine.accountview, engine.mplus
    flow = StockFlow(engine.store, av, mp, RunOptions())
    stock = flow.names.stock
    for rec_id in _keys(av, stock.code, stock.table, stock.key_field, limit):

        def one(rec_id=rec_id):
            row = _get(av, stock.code, stock.table, stock.key_field, rec_id)
            level = flow.mapper().to_model(row, flow.tables)
            branch = flow.tables.get(WAREHOUSE_BRANCH, {})[level.warehouse or ""]
            mp.set_stock(int(level.sku), int(branch), flow.figure(row, level))
            return "updated"

        yield _attempt(rec_id, one)
