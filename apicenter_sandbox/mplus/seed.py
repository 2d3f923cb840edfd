"""Turn a World into the till's state (MplusKASSA's storage shape).

Deterministic: the same World always gives the same store, ids included, so
``reset()`` can simply seed again.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal

from apicenter_sandbox.world import Article, Customer, Order, World

from .store import MplusStore
from .values import cents, mplus_date, mplus_datetime, price_other, quantity, whole

# The till records shipping cost as a line with this non-stock article (an assumption, see docs).
SHIPPING_ARTICLE_NUMBER = 999000
DEFAULT_PRICE_GROUP = 1
COUNTRY = {"countryCode": 528, "countryIso3": "NLD", "countryName": "Nederland"}
ORDER_ID_NAMESPACE = uuid.UUID("6d706c75-732d-7361-6e64-626f78000001")
# ASSUMPTION: one turnover (revenue) group per VAT code, numbered 100 + the Mplus vatCode, plus one for payments.
TURNOVER_GROUP_BASE = 100
PAYMENT_TURNOVER_GROUP = 900
# World order status -> (deliveryState, completeState, paid) of the seeded Mplus order.
ORDER_STATES = {
    "COMPLETE": ("ORDER-DELIVERY-STATE-COMPLETE", "ORDER-COMPLETE-STATE-COMPLETE", True),
    "OPEN": ("ORDER-DELIVERY-STATE-NOTHING", "ORDER-COMPLETE-STATE-NOTHING", False),
}


def seed(world: World) -> MplusStore:
    store = MplusStore()
    _seed_reference_data(store, world)
    _seed_products(store, world)
    _seed_stock(store, world)
    relation_of = _seed_relations(store, world)
    _seed_orders(store, world, relation_of)
    return store


def _seed_reference_data(store: MplusStore, world: World) -> None:
    for wh in world.warehouses:
        store.branches[wh.branch] = {
            "branchNumber": wh.branch, "branchName": wh.name, "abbreviation": wh.code,
            "extBranchId": wh.code, "priceGroupNumber": DEFAULT_PRICE_GROUP, **COUNTRY,
        }  # fmt: skip
    for vat in world.vat_codes:
        store.vat_pct[vat.mplus_code] = int(vat.pct)
        store.turnover_groups.append({
            "turnoverGroupType": "TURNOVER-GROUP-TYPE-TURNOVER", "turnoverGroup": turnover_group(vat.mplus_code),
            "turnoverGroupName": f"Omzet {vat.name}"[:40], "defaultVatCode": vat.mplus_code, "allowDiscount": True,
        })  # fmt: skip
    store.turnover_groups.append({"turnoverGroupType": "TURNOVER-GROUP-TYPE-PAYMENT",
                                  "turnoverGroup": PAYMENT_TURNOVER_GROUP, "turnoverGroupName": "Betalingen"})
    store.vat_groups = [
        {"branchNumber": b, "countryCode": 528, "countryIso3": "NLD", "vatCode": code, "vatPercentage": pct}
        for b in store.branches
        for code, pct in store.vat_pct.items()
    ]
    for emp in world.employees:
        marker = store.touch("employee", emp.number, None)
        store.employees[emp.number] = {
            "employeeNumber": emp.number,
            "syncMarker": marker,
            "name": emp.name,
            "active": True,
        }
    for grp in world.groups:
        marker = store.touch("articleGroup", grp.mplus_number, None)
        store.article_groups[grp.mplus_number] = {
            "groupNumber": grp.mplus_number, "syncMarker": marker, "name": grp.description,
            "text": grp.description, "sortOrder": grp.mplus_number,
        }  # fmt: skip
        store.group_parent[grp.mplus_number] = 0
    store.price_groups[DEFAULT_PRICE_GROUP] = {"priceGroupNumber": DEFAULT_PRICE_GROUP, "description": "Standaard"}
    for pl in world.price_lists:
        store.price_groups[pl.mplus_price_group] = {
            "priceGroupNumber": pl.mplus_price_group,
            "description": pl.description,
        }
    # The article features and the third attribute the default product mapping sends (features.*, material).
    store.article_custom_fields.update(
        {"country_of_origin": "DATA-TYPE-STRING", "delivery_days": "DATA-TYPE-INT", "material": "DATA-TYPE-STRING"}
    )
    for pm in world.payment_methods:
        store.payment_methods.append({
            "method": pm.code, "description": pm.description, "buttonText": pm.description,
            "allowNegativeAmount": pm.code in ("CASH", "PIN"), "active": True,
            "type": {"PIN": "PAYMENT-METHOD-TYPE-EFT", "GIFTCARD": "PAYMENT-METHOD-TYPE-VOUCHER-BPE"}.get(
                pm.code, "PAYMENT-METHOD-TYPE-PAYMENT"),
        })  # fmt: skip
    for dm in world.delivery_methods:
        store.delivery_methods.append(
            {"deliveryMethod": dm.code, "description": dm.description, "buttonText": dm.description, "enabled": True}
        )


def _article(art: Article, vat_code: int, vat_pct: int, marker: int) -> dict:
    stamp = mplus_datetime(art.changed)
    return {
        "articleNumber": int(art.sku), "syncMarker": marker, "changeTimestamp": stamp, "createTimestamp": stamp,
        "active": True, "description": art.description, "colour": art.colour or None, "size": art.size or None,
        "invoiceText": art.description, "receiptText": art.description[:40], "barcode": art.ean or None,
        "extraText": art.long_description or None, "vatCode": vat_code, "vatPercentage": vat_pct,
        "purchasePrice": cents(art.cost_price), "priceIncl": cents(art.price_incl), "priceExcl": cents(art.price_excl),
        "unit": art.unit, "webshop": art.sell_in_pos, "stockArticle": bool(art.stock),
        "turnoverGroup": turnover_group(vat_code),
    }  # fmt: skip


def turnover_group(vat_code: int) -> int:
    return TURNOVER_GROUP_BASE + vat_code


def _seed_products(store: MplusStore, world: World) -> None:
    mplus_vat = {v.code: v.mplus_code for v in world.vat_codes}
    group_number = {g.code: g.mplus_number for g in world.groups}
    members: dict[str, list[Article]] = defaultdict(list)  # product key -> its articles, in world order
    for art in world.articles:
        if art.in_mplus:
            members[art.model or art.sku].append(art)
    for product_number, arts in enumerate(members.values(), start=1):
        marker = store.touch("article", product_number, None)
        first = arts[0]
        articles = []
        for art in arts:
            code = mplus_vat[art.vat_code]
            articles.append(_article(art, code, store.vat_pct[code], marker))
            store.article_product[int(art.sku)] = product_number
        description = first.description.split(" maat ")[0] if first.model else first.description
        store.products[product_number] = {
            "productNumber": product_number, "syncMarker": marker, "description": description,
            "articleList": {"article": articles}, "groupNumbers": [group_number[first.group]],
        }  # fmt: skip
    product_number = len(store.products) + 1
    marker = store.touch("article", product_number, None)
    store.products[product_number] = {
        "productNumber": product_number, "syncMarker": marker, "description": "Verzendkosten",
        "articleList": {"article": [{
            "articleNumber": SHIPPING_ARTICLE_NUMBER, "syncMarker": marker, "active": True,
            "description": "Verzendkosten", "vatCode": mplus_vat["2"], "vatPercentage": store.vat_pct[mplus_vat["2"]],
            "priceIncl": 0, "priceExcl": 0, "webshop": False, "stockArticle": False,
            "turnoverGroup": turnover_group(mplus_vat["2"]),
        }]},
        "groupNumbers": [],
    }  # fmt: skip
    store.article_product[SHIPPING_ARTICLE_NUMBER] = product_number


def _seed_stock(store: MplusStore, world: World) -> None:
    branch_of = {w.code: w.branch for w in world.warehouses}
    for art in world.articles:
        if not art.in_mplus:
            continue
        for level in art.stock:
            branch, number = branch_of[level.warehouse], int(art.sku)
            stock_id = store.touch("stock", (branch, number), None)
            store.stock[(branch, number)] = stock_row(
                branch, number, stock_id, level.on_hand, level.reserved, level.incoming
            )


def stock_row(branch: int, article: int, stock_id: int, free: Decimal, reserved: Decimal, incoming: Decimal) -> dict:
    (f, fp), (r, rp), (i, ip) = quantity(free), quantity(reserved), quantity(incoming)
    return {
        "branchNumber": branch, "articleNumber": article, "stockId": stock_id,
        "amountFree": f, "decimalPlacesFree": fp, "amountReserved": r, "decimalPlacesReserved": rp,
        "amountIncoming": i, "decimalPlacesIncoming": ip, "isDayStockArticle": False,
    }  # fmt: skip


def relation_from_customer(cust: Customer, number: int, price_group: int | None, marker: int) -> dict:
    addr = cust.address
    rel = {
        "relationNumber": number, "syncMarker": marker, "createTimestamp": mplus_datetime(cust.changed),
        "changeTimestamp": mplus_datetime(cust.changed), "active": True, "name": cust.name,
        "address": f"{addr.street} {addr.house_number}{addr.addition}", "zipcode": addr.postcode,
        "city": addr.city, "country": addr.country, "telephone": cust.phone, "email": cust.email or None,
        "vatNumber": cust.vat_number or None, "priceGroupNumber": price_group,
        "discountPercentage": whole(cust.discount_pct) if cust.discount_pct else None,
    }  # fmt: skip
    if cust.company:
        rel["companyName"] = cust.company
        rel["contact"] = f"{cust.first_name} {cust.last_name}".strip()
    if cust.delivery:
        d = cust.delivery
        rel.update(
            deliveryAddress=f"{d.street} {d.house_number}{d.addition}", deliveryZipcode=d.postcode,
            deliveryCity=d.city, deliveryCountry=d.country,
        )  # fmt: skip
    return rel


def _seed_relations(store: MplusStore, world: World) -> dict[str, int]:
    """Relations the till knows, plus every customer an order refers to; returns customer -> relationNumber."""
    price_group = {pl.code: pl.mplus_price_group for pl in world.price_lists}
    relation_of = {c.number: c.mplus_relation for c in world.customers if c.in_mplus}
    next_number = max(relation_of.values(), default=0) + 1
    for order in world.orders:
        if order.customer and order.customer not in relation_of:
            relation_of[order.customer] = next_number
            next_number += 1
    for cust in sorted((c for c in world.customers if c.number in relation_of), key=lambda c: relation_of[c.number]):
        number = relation_of[cust.number]
        marker = store.touch("relation", number, None)
        store.relations[number] = relation_from_customer(cust, number, price_group.get(cust.price_list), marker)
    return relation_of


def _seed_orders(store: MplusStore, world: World, relation_of: dict[str, int]) -> None:
    by_customer = {c.number: c for c in world.customers}
    sku_vat = {a.sku: a.vat_code for a in world.articles}
    mplus_vat = {v.code: v.mplus_code for v in world.vat_codes}
    for order in world.orders:
        year = order.created.year
        store.order_numbers[year] = store.order_numbers.get(year, 0) + 1
        order_id = str(uuid.uuid5(ORDER_ID_NAMESPACE, order.ext_order_id))
        marker = store.touch("order", order_id, None)
        store.orders[order_id] = _order(order, order_id, marker, store.order_numbers[year], relation_of,
                                        by_customer, sku_vat, mplus_vat, store)  # fmt: skip
        store.order_by_ext[order.ext_order_id] = order_id


def _order(order: Order, order_id, marker, number, relation_of, by_customer, sku_vat, mplus_vat, store) -> dict:
    lines = []
    for ln in order.lines:
        pct = int(ln.vat_pct)
        mantissa, places = quantity(ln.quantity)
        total = cents(ln.quantity * ln.price_incl - ln.discount_amount)
        lines.append({
            "articleNumber": int(ln.sku), "text": ln.description,
            "data": {
                "quantity": mantissa, "decimalPlaces": places, "price": cents(ln.price_incl),
                "priceExcl": price_other(cents(ln.price_incl), pct, True),
                "vatCode": mplus_vat.get(sku_vat.get(ln.sku, "2"), 2), "vatPercentage": pct,
                "turnoverGroup": turnover_group(mplus_vat.get(sku_vat.get(ln.sku, "2"), 2)),
                "discountAmount": cents(ln.discount_amount), "totalInclAmount": total,
                "totalExclAmount": price_other(total, pct, True),
            },
        })  # fmt: skip
    if order.shipping_cost_incl:
        amount = cents(order.shipping_cost_incl)
        lines.append({
            "articleNumber": SHIPPING_ARTICLE_NUMBER, "text": "Verzendkosten",
            "data": {"quantity": 1, "decimalPlaces": 0, "price": amount, "priceExcl": price_other(amount, 21, True),
                     "vatCode": mplus_vat["2"], "vatPercentage": 21, "discountAmount": 0,
                     "turnoverGroup": turnover_group(mplus_vat["2"]),
                     "totalInclAmount": amount, "totalExclAmount": price_other(amount, 21, True)},
        })  # fmt: skip
    delivery, complete, paid = ORDER_STATES.get(
        order.status, ("ORDER-DELIVERY-STATE-NOTHING", "ORDER-COMPLETE-STATE-NOTHING", False)
    )
    payments = [
        {"method": p.method, "amount": cents(p.amount), "branchNumber": order.branch, "employeeNumber": order.employee,
         "financialDate": mplus_date(order.created.date())}
        for p in order.payments
    ] if paid else []  # fmt: skip
    employee = store.employees.get(order.employee)
    result = {
        "orderId": order_id, "extOrderId": order.ext_order_id, "syncMarker": marker,
        "orderType": "ORDER-TYPE-SALES-ORDER", "entryBranchNumber": order.branch, "employeeNumber": order.employee,
        "employeeName": employee["name"] if employee else None, "entryTimestamp": mplus_datetime(order.created),
        "financialDate": mplus_date(order.created.date()), "financialBranchNumber": order.branch,
        "workplaceNumber": 1, "reference": order.note or None,
        "totalInclAmount": sum(ln["data"]["totalInclAmount"] for ln in lines),
        "totalExclAmount": sum(ln["data"]["totalExclAmount"] for ln in lines),
        "vatMethod": "VAT-METHOD-INCLUSIVE", "deliveryMethod": order.delivery_method,
        "paymentMethod": payments[0]["method"] if payments else None,
        "prepaidAmount": sum(p["amount"] for p in payments), "fullyPaid": paid,
        "deliveryState": delivery, "cancelState": "ORDER-CANCEL-STATE-NOTHING", "completeState": complete,
        "orderNumber": {"year": order.created.year, "number": number},
        "lineList": {"line": lines}, "paymentList": {"payment": payments},
    }  # fmt: skip
    if order.customer:
        cust = by_customer[order.customer]
        result["relationNumber"] = relation_of[order.customer]
        result["relationName"] = cust.name
        result["relationVatNumber"] = cust.vat_number or None
        addr = cust.delivery or cust.address
        result["deliveryAddress"] = {
            "name": cust.name, "address": f"{addr.street} {addr.house_number}{addr.addition}",
            "zipcode": addr.postcode, "city": addr.city, "country": addr.country,
            "companyName": cust.company or None,
        }  # fmt: skip
        a = cust.address
        result["invoiceAddress"] = {
            "name": cust.name, "address": f"{a.street} {a.house_number}{a.addition}", "zipcode": a.postcode,
            "city": a.city, "country": a.country, "companyName": cust.company or None,
        }  # fmt: skip
    return result
