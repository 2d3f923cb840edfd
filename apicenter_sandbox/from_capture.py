"""Seed both sandboxes from a support capture (``apicenter-sync run --capture DIR``): a tenant's real shape —
its names, field lengths and odd values, pseudonymised — reproduced without its data.

``apicenter-sandbox --from-capture DIR``. What the capture read is what the sandboxes hold:

- AccountView: the rows of every successful read (``GET /accountviewdata``), merged by key, under the tenant's
  names: the capture's ``profile.toml`` says how they differ from ours, so the sandbox serves them as a variant
  (``accountview/variant.py``) and an object the profile marks absent is absent. Detail tables (order lines) and
  fields the sandbox has no schema for (custom fields) are left out, and listed by :func:`load`;
- MplusKASSA: products, article groups, relations, stock, orders and the reference data (branches, VAT groups,
  employees, price groups, payment and delivery methods, turnover groups) of every successful get… reply, read
  with the WSDL like the sandbox reads requests.

A capture holds what one run read; an incremental run reads only what changed, so capture a full run
(``run all --full --dry-run --capture DIR`` reads everything and writes nothing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from lxml import etree

from apicenter_sync.mplus_wsdl import SOAP_ENV_NS, safe_parser
from apicenter_sync.profile import ApiProfile, parse_profile_text

from .accountview.schema import SCHEMAS
from .accountview.variant import Variant
from .mplus.codec import read as read_xml
from .mplus.schema import load_model

MPLUS_LISTS = {  # operation -> (path to the items in its reply, kind)
    "getProducts": (("productList", "product"), "products"),
    "getArticleGroups": (("articleGroupList", "articleGroup"), "groups"),
    "getRelations": (("relationList", "relation"), "relations"),
    "getRelation": (("relation",), "relations"),
    "findRelation": (("relation",), "relations"),
    "getStock": (("articleStocks", "articleStock"), "stock"),
    "getOrders": (("orderList", "order"), "orders"),
    "getOrder": (("order",), "orders"),
    "findOrder": (("order",), "orders"),
    "getBranches": (("branches", "branch"), "branches"),
    "getVatGroupList": (("vatGroup",), "vat_groups"),
    "getEmployees": (("employeeList", "employee"), "employees"),
    "getPriceGroupList": (("priceGroup",), "price_groups"),
    "getPaymentMethods": (("paymentMethodList", "paymentMethod"), "payment_methods"),
    "getDeliveryMethods": (("deliveryMethodList", "deliveryMethod"), "delivery_methods"),
    "getTurnoverGroups": (("turnoverGroupList", "turnoverGroup"), "turnover_groups"),
    "getCustomFieldLists": (("articleCustomFieldList", "customField"), "article_custom_fields"),
}


@dataclass
class CapturedTenant:
    profile: ApiProfile
    variant: Variant | None
    av_rows: dict[str, dict[str, dict]] = field(default_factory=dict)  # our table -> key -> row (our names)
    mplus: dict[str, list[dict]] = field(default_factory=dict)  # kind -> items, as the sandbox stores them
    left_out: set[str] = field(default_factory=set)  # "TABLE.FIELD" the sandbox has no schema for, detail tables

    def newest_change(self) -> datetime | None:
        stamps = [str(r.get("CNG_DATE") or "")[:19] for rows in self.av_rows.values() for r in rows.values()]
        parsed = []
        for stamp in stamps:
            try:
                parsed.append(datetime.fromisoformat(stamp))
            except ValueError:
                continue
        return max(parsed) if parsed else None


def variant_of(profile: ApiProfile) -> Variant | None:
    """The rename of our (default) names into the profile's, as a sandbox variant; None when they are ours."""
    ours = ApiProfile.default().accountview
    theirs = profile.accountview
    objects, tables, fields, absent, absent_tables, keeps = {}, {}, {}, set(), set(), set()
    for name, mine in ours.objects.items():
        other = theirs.objects[name]
        if other.optional and not other.available:
            if mine.available:  # absent by default (kept by some tenants only) needs no saying
                absent.add(mine.code.upper())
                absent_tables.add(mine.table.upper())
            continue
        if not mine.available:
            keeps.add(mine.code.upper())
        for a, b in ((mine.code, other.code), (mine.read_code, other.read_code)):
            if a and b and a.upper() != b.upper():
                objects[a.upper()] = b.upper()
        for a, b in ((mine.table, other.table), (mine.detail_table, other.detail_table)):
            if a and b and a.upper() != b.upper():
                tables[a.upper()] = b.upper()
        for group, table in (("fields", mine.table), ("line_fields", mine.detail_table)):
            for logical, spec in getattr(mine, group).items():
                renamed = getattr(other, group)[logical].name.upper()
                if renamed != spec.name.upper():
                    fields.setdefault(table.upper(), {})[spec.name.upper()] = renamed
    if not (objects or tables or fields or absent or keeps):
        return None
    return Variant("captured", objects, tables, fields, absent=frozenset(absent), absent_tables=frozenset(absent_tables),
                   keeps=frozenset(keeps))  # fmt: skip


def load(folder: str | Path) -> CapturedTenant:
    folder = Path(folder)
    profile_path = folder / "profile.toml"
    profile = parse_profile_text(profile_path.read_text(encoding="utf-8")) if profile_path.exists() else (
        ApiProfile.default())  # fmt: skip
    variant = variant_of(profile)
    tenant = CapturedTenant(profile, variant)
    model = load_model()
    for path in sorted(folder.glob("[0-9]*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("truncated") or record.get("status") != 200:
            continue
        if record.get("system") == "accountview":
            _accountview(tenant, record)
        elif record.get("system") == "mplus" and record.get("operation") in MPLUS_LISTS:
            _mplus(tenant, model, record)
    return tenant


def _accountview(tenant: CapturedTenant, record: dict) -> None:
    if record.get("method") != "GET" or "accountviewdata" not in str(record.get("path", "")).lower():
        return
    reply = record.get("reply")
    if not isinstance(reply, dict):
        return
    variant = tenant.variant
    for their_table, rows in reply.items():
        if not isinstance(rows, list):
            continue
        table = variant.table_ours(their_table) if variant else their_table.upper()
        schema = SCHEMAS.get(table)
        if schema is None or table in ("SO_LINE", "DJ_LINE"):
            tenant.left_out.add(table)
            continue
        for row in rows:
            ours = {}
            for key, value in row.items():
                name = variant.field_ours(table, key) if variant else key.upper()
                if name in schema.fields:
                    ours[name] = value
                elif not (name == "EXT_KEY" or name.endswith("_ID")):
                    tenant.left_out.add(f"{table}.{name}")
            if ours.get(schema.key) not in (None, ""):  # a read of a few fields adds to a full one, never cuts it
                tenant.av_rows.setdefault(table, {}).setdefault(str(ours[schema.key]), {}).update(ours)


def _mplus(tenant: CapturedTenant, model, record: dict) -> None:
    operation = record["operation"]
    try:
        root = etree.fromstring(record["reply"].encode(), safe_parser(huge=True))
    except (etree.XMLSyntaxError, AttributeError):
        return
    body = root.find(f"{{{SOAP_ENV_NS}}}Body")
    element = next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
    op = model.operations.get(operation)
    if element is None or op is None or etree.QName(element).localname != op.output_element:
        return  # a fault
    data = read_xml(model, element, model.elements[op.output_element])
    path, kind = MPLUS_LISTS[operation]
    node = data
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    items = node if isinstance(node, list) else ([node] if isinstance(node, dict) and node else [])
    tenant.mplus.setdefault(kind, []).extend(items)


# --- seeding -------------------------------------------------------------------------------------------------------
def seed_accountview(store, tenant: CapturedTenant) -> None:
    for table, rows in tenant.av_rows.items():
        target = store[table]
        for row in rows.values():
            target.insert(dict(row))


def seed_mplus(store, tenant: CapturedTenant) -> None:
    """Fill an empty MplusStore with the captured items (the last one of each key wins)."""
    m = tenant.mplus
    for branch in m.get("branches", []):
        store.branches[int(branch["branchNumber"])] = branch
    for group in m.get("vat_groups", []):
        store.vat_pct[int(group["vatCode"])] = int(group.get("vatPercentage") or 0)
    store.vat_groups = list({(g.get("branchNumber"), g["vatCode"]): g for g in m.get("vat_groups", [])}.values())
    for employee in m.get("employees", []):
        number = int(employee["employeeNumber"])
        employee["syncMarker"] = store.touch("employee", number, None)
        store.employees[number] = employee
    for group in m.get("price_groups", []):
        store.price_groups[int(group["priceGroupNumber"])] = group
    store.payment_methods = list({p["method"]: p for p in m.get("payment_methods", [])}.values())
    store.delivery_methods = list({d["deliveryMethod"]: d for d in m.get("delivery_methods", [])}.values())
    store.turnover_groups = list({t["turnoverGroup"]: t for t in m.get("turnover_groups", [])}.values())
    for custom in m.get("article_custom_fields", []):
        store.article_custom_fields[str(custom["fieldName"])] = str(custom.get("dataType") or "DATA-TYPE-STRING")

    def groups(items, parent=0):
        for group in items:
            sub = (group.pop("subGroupList", None) or {}).get("articleGroup") or []
            number = int(group["groupNumber"])
            group["syncMarker"] = store.touch("articleGroup", number, None)
            store.article_groups[number], store.group_parent[number] = group, parent
            groups(sub, number)

    groups(m.get("groups", []))
    for product in m.get("products", []):
        number = int(product["productNumber"])
        product["syncMarker"] = marker = store.touch("article", number, None)
        for article in (product.get("articleList") or {}).get("article") or []:
            article["syncMarker"] = marker
            store.article_product[int(article["articleNumber"])] = number
        store.products[number] = product
    for relation in m.get("relations", []):
        number = int(relation["relationNumber"])
        relation["syncMarker"] = store.touch("relation", number, None)
        store.relations[number] = relation
    for row in m.get("stock", []):
        key = (int(row["branchNumber"]), int(row["articleNumber"]))
        row["stockId"] = store.touch("stock", key, None)
        store.stock[key] = row
    for order in m.get("orders", []):
        order["syncMarker"] = store.touch("order", order["orderId"], None)
        store.orders[order["orderId"]] = order
        if order.get("extOrderId"):
            store.order_by_ext[order["extOrderId"]] = order["orderId"]
        year, number = (order.get("orderNumber") or {}).get("year"), (order.get("orderNumber") or {}).get("number")
        if year and number:
            store.order_numbers[int(year)] = max(store.order_numbers.get(int(year), 0), int(number))


def clock_after(tenant: CapturedTenant) -> datetime:
    newest = tenant.newest_change()
    return (newest or datetime(2026, 1, 1)) + timedelta(minutes=1)
