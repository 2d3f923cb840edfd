"""Turn a :class:`~apicenter_sandbox.world.World` into the AccountView sandbox's tables.

Values are written in wire form directly (no validation round trip) so that seeding
10 000 articles stays well under a second.  Assumed tables and fields are addressed
through ``assumptions`` so renaming one there renames it here.
"""

from __future__ import annotations

from datetime import datetime

from ..world import Customer, Order, World
from . import assumptions as A
from .store import Store
from .values import wire_date, wire_datetime

COUNTRY_NAMES = {"NL": "Nederland", "BE": "België", "DE": "Duitsland", "FR": "Frankrijk"}
SEED_USER = "AV"  # INP_USR / CNG_USR of seeded rows
VAT_RETURN_BOX = {"0": "1e", "1": "1b", "2": "1a", "4": "3b", "5": "3a"}  # Dutch VAT-return boxes
JOURNAL_TYPES = {"bank": (1, "Bank"), "cash": (2, "Kas"), "memo": (4, "Memoriaal"), "sales": (5, "Verkoop")}
PAYMENT_TERMS = {"0": ("Direct", 0), "14": ("14 dagen netto", 14), "30": ("30 dagen netto", 30)}


def tracked(moment: datetime) -> dict:
    stamp = wire_datetime(moment)
    return {"INP_DATE": stamp, "INP_USR": SEED_USER, "CNG_DATE": stamp, "CNG_USR": SEED_USER, "CNG_NR": 1}


def seed(store: Store, world: World) -> None:
    first_moment = min([a.changed for a in world.articles] + [c.changed for c in world.customers])
    _books(store, world, first_moment)
    _articles(store, world, first_moment)
    _prices(store, world, first_moment)
    _customers(store, world)
    by_number = {c.number: c for c in world.customers}
    for order in world.orders:
        if order.already_booked:
            _booked_order(store, world, order, by_number.get(order.customer))


def _books(store: Store, world: World, moment: datetime) -> None:
    base = tracked(moment)
    vat_accounts = {acc.vat_code: acc.number for acc in world.ledger if acc.kind == "vat"}
    for vat in world.vat_codes:
        store["VAT"].insert({
            "VAT_CODE": vat.code, "VAT_NAME": vat.name, "VAT_PCT": float(vat.pct), "VAT_TYPE": 1.0, "CALC_TYPE": 1.0,
            "VAT_ACCT": vat_accounts.get(vat.code, ""), "FRM_CODE": VAT_RETURN_BOX.get(vat.code, ""),
            "IS_REVERSE": vat.code == "4", **base,
        })  # fmt: skip
    for acc in world.ledger:
        store["LEDGER"].insert({
            "ACCT_NR": acc.number, "ACCT_NAME": acc.name, "ACCT_TYPE": 2.0 if acc.kind == "revenue" else 1.0,
            "STAT_SELL": acc.kind == "revenue", "VAT_CODE": acc.vat_code, "ACCT_LINK": 1.0 if acc.kind == "receivable" else 0.0,
            **base,
        })  # fmt: skip
    for journal in world.journals:
        dj_type, dj_typev = JOURNAL_TYPES.get(journal.kind, (4, "Memoriaal"))
        store["DAILY"].insert({
            "DJ_CODE": journal.code, "DJ_NAME": journal.name, "DJ_TYPE": float(dj_type), "DJ_TYPEV": dj_typev,
            "NUM_AUTO": journal.kind == "sales", "CUR_CODE": "EUR", **base,
        })  # fmt: skip
    wh = A.WAREHOUSE.fields
    for warehouse in world.warehouses:
        store[A.WAREHOUSE.table].insert(
            {wh["code"].name: warehouse.code, wh["description"].name: warehouse.name, **base}
        )
    pc = A.PAYMENT_CONDITION.fields
    for code in sorted(
        {m.accountview_condition for m in world.payment_methods} | {c.payment_condition for c in world.customers}
        | set(PAYMENT_TERMS)
    ):
        desc, days = PAYMENT_TERMS.get(code, (f"{code} dagen", int(code) if code.isdigit() else 0))
        store[A.PAYMENT_CONDITION.table].insert(
            {pc["code"].name: code, pc["description"].name: desc, pc["days"].name: float(days), **base}
        )
    sm = A.SHIPPING_METHOD.fields
    for method in world.delivery_methods:
        store[A.SHIPPING_METHOD.table].insert(
            {sm["code"].name: method.code, sm["description"].name: method.description, **base}
        )


def _articles(store: Store, world: World, moment: datetime) -> None:
    grp_pos, grp_parent = A.ARTICLE_GROUP_FIELDS["sell_in_pos"].name, A.ARTICLE_GROUP_FIELDS["parent"].name
    for group in world.groups:
        store["ART_GRP"].insert(
            {
                "AG_CODE": group.code,
                "AG_DESC": group.description,
                grp_pos: group.sell_in_pos,
                grp_parent: group.parent,
                **tracked(moment),
            }
        )
    af = {k: f.name for k, f in A.ARTICLE_FIELDS.items()}
    st = {k: f.name for k, f in A.STOCK.fields.items()}
    articles, stock = store["ARTICLE"], store[A.STOCK.table]
    for art in world.articles:
        if not art.in_accountview:
            continue
        available = sum(level.on_hand - level.reserved for level in art.stock)
        changed = tracked(art.changed)
        articles.insert({
            "ART_CODE": art.sku, "ART_DESC1": art.description[:40], "AG_CODE": art.group,
            "PX_SELL": float(art.price_excl), "COST_PX": float(art.cost_price), "QTY_AVAIL": float(available),
            af["ean"]: art.ean, af["vat_code"]: art.vat_code, af["price_incl_vat"]: False,
            af["sell_in_pos"]: art.sell_in_pos, af["long_description"]: art.long_description, af["unit"]: art.unit,
            af["model"]: art.model, af["size"]: art.size, af["colour"]: art.colour,
            af["country_of_origin"]: art.country_of_origin, af["delivery_days"]: float(art.delivery_days),
            af["blocked"]: art.blocked, af["material"]: art.material, af["discount_group"]: art.discount_group,
            af["stock_article"]: bool(art.stock),
            **changed,
        })  # fmt: skip
        for level in art.stock:
            stock.insert({
                st["record_id"]: store.next_rec_id(stock.name), st["sku"]: art.sku, st["warehouse"]: level.warehouse,
                st["on_hand"]: float(level.on_hand), st["reserved"]: float(level.reserved),
                st["incoming"]: float(level.incoming), st["available"]: float(level.on_hand - level.reserved),
                **changed,
            })  # fmt: skip


def _prices(store: Store, world: World, moment: datetime) -> None:
    base = tracked(moment)
    pl, pi, gd = A.PRICE_LIST.fields, A.PRICE_LIST_ITEM.fields, A.GROUP_DISCOUNT.fields
    for price_list in world.price_lists:
        store[A.PRICE_LIST.table].insert(
            {pl["code"].name: price_list.code, pl["description"].name: price_list.description, **base}
        )
    items = store[A.PRICE_LIST_ITEM.table]
    for item in world.price_items:
        items.insert({
            pi["record_id"].name: store.next_rec_id(items.name), pi["price_list"].name: item.price_list,
            pi["sku"].name: item.sku, pi["min_qty"].name: float(item.min_qty), pi["price_excl"].name: float(item.price_excl),
            **base,
        })  # fmt: skip
    dd = A.DEBTOR_ARTICLE_DISCOUNT.fields
    per_debtor = store[A.DEBTOR_ARTICLE_DISCOUNT.table]  # served by the variant "discounts" only
    for disc in world.debtor_discounts:
        per_debtor.insert({
            dd["record_id"].name: store.next_rec_id(per_debtor.name), dd["debtor"].name: disc.customer,
            dd["sku"].name: disc.sku, dd["pct"].name: float(disc.pct), **base,
        })  # fmt: skip
    discounts = store[A.GROUP_DISCOUNT.table]
    for disc in world.group_discounts:
        discounts.insert({
            gd["record_id"].name: store.next_rec_id(discounts.name), gd["customer_group"].name: disc.price_list,
            gd["article_group"].name: disc.article_group, gd["pct"].name: float(disc.pct), **base,
        })  # fmt: skip


def address_line(street: str, number: str, extra: str) -> str:
    return " ".join(part for part in (street, number, extra) if part)


def _customers(store: Store, world: World) -> None:
    receivable = next((acc.number for acc in world.ledger if acc.kind == "receivable"), "")
    contacts, addresses = store["CONTACT"], store["DEL_ADDR"]
    usage = {what: field for what, (_table, field) in A.USAGE.items()}
    delivery = {k: f.name for k, f in A.DELIVERY_ADDRESS_FIELDS.items()}
    for cust in world.customers:
        person = f"{cust.first_name} {cust.last_name}".strip()
        addr = cust.address
        contacts.insert({
            "SUB_NR": cust.number, "ACCT_NAME": cust.name[:40], "SRC_CODE": _search_code(cust),
            usage["contact_person"]: person if cust.company else "",
            "ADDRESS1": address_line(addr.street, addr.house_number, addr.addition),
            "ST_STREET": addr.street, "ST_NR": addr.house_number, "ST_EXTRA": addr.addition,
            "POST_CODE": addr.postcode, "CITY": addr.city, "CNT_CODE": addr.country,
            "COUNTRY": COUNTRY_NAMES.get(addr.country, addr.country), "MAIL_BUS": cust.email, "TEL_BUS": cust.phone,
            "VAT_NR": cust.vat_number, usage["customer_price_list"]: cust.price_list,
            usage["customer_discount_group"]: cust.price_list, "DISC_PCT": float(cust.discount_pct),
            usage["customer_payment_condition"]: cust.payment_condition, usage["receivables_account"]: receivable,
            "CUR_CODE": "EUR", "LNG_CODE": "NL", "RPL_USER": True, **tracked(cust.changed),
        })  # fmt: skip
        if cust.delivery:
            d = cust.delivery
            addresses.insert({
                "REC_ID": store.next_rec_id(addresses.name), "SUB_NR": cust.number, "DEL_NAME": cust.name[:40],
                "ADDRESS1": address_line(d.street, d.house_number, d.addition), delivery["street"]: d.street,
                delivery["house_number"]: d.house_number, delivery["house_number_extra"]: d.addition,
                "POST_CODE": d.postcode, "CITY": d.city, "CNT_CODE": d.country, "MAIL_BUS": cust.email,
                "TEL_BUS": cust.phone, **tracked(cust.changed),
            })  # fmt: skip


def _search_code(cust: Customer) -> str:
    word = cust.last_name if not cust.company else cust.company
    return "".join(ch for ch in word.upper() if ch.isalnum())[:10] or "-"


def _booked_order(store: Store, world: World, order: Order, customer: Customer | None) -> None:
    """An order AccountView already holds: as a sales order and as a booked sales invoice,
    both carrying the external order id in COMMENT1, so the orders flow skips it whatever
    its "order type" setting is."""
    base = tracked(order.created)
    debtor = customer.number if customer else ""
    articles = store["ARTICLE"]
    hdr, lines = store["SO_HDR"], store["SO_LINE"]
    ref_field = A.USAGE["order_reference"][1]
    rec_id = store.next_rec_id(hdr.name)
    ord_nr = store.next_number("ORD_NR", A.FIRST_ORD_NR, lambda n: False)
    hdr.insert({"REC_ID": rec_id, "ORD_NR": ord_nr, "ORD_DATE": wire_datetime(order.created), "RPL_INV": debtor,
                "RPL_DEL": debtor, ref_field: order.ext_order_id, **base})  # fmt: skip
    for line in order.lines:
        if articles.get(line.sku) is None:
            continue
        lines.insert({
            "REC_ID": store.next_rec_id(lines.name), "ORD_NR": ord_nr, "ART_CODE": line.sku,
            "ORD_QTY": float(line.quantity), "ART_PX": float(line.price_incl), **base,
        }, header_key=rec_id)  # fmt: skip

    sales = next((j.code for j in world.journals if j.kind == "sales"), world.journals[0].code)
    revenue = {acc.vat_code: acc.number for acc in world.ledger if acc.kind == "revenue"}
    vat_by_pct = {v.pct: v.code for v in world.vat_codes if v.code in ("0", "1", "2")}
    page, page_lines = store["DJ_PAGE"], store["DJ_LINE"]
    page_id = store.next_rec_id(page.name)
    inv_nr = store.next_number("INV_NR", A.FIRST_INV_NR, lambda n: False)
    page_nr = store.next_number(f"PAGE_NR:{sales}", 1, lambda n: False)
    day = wire_date(order.created.date())
    page.insert({
        "REC_ID": page_id, "DJ_CODE": sales, "PAGE_NR": page_nr, "INV_NR": inv_nr, "SUB_NR": debtor, "TRN_DATE": day,
        "PERIOD": float(order.created.month), "HDR_DESC": f"Order {order.ext_order_id}"[:40], "GROSS_FLG": True,
        A.USAGE["booking_reference"][1]: order.ext_order_id, "CUR_CODE": "EUR", "PAGE_AMT": float(order.total_incl),
        **base,
    })  # fmt: skip
    for line in order.lines:
        vat_code = vat_by_pct.get(line.vat_pct, "2")
        page_lines.insert({
            "REC_ID": store.next_rec_id(page_lines.name), "DJ_CODE": sales, "PAGE_NR": page_nr, "INV_NR": inv_nr,
            "SUB_NR": debtor, "TRN_DATE": day, "SRC_ID": page_id, "SRC_TYPE": 1.0,
            "ACCT_NR": revenue.get(vat_code, ""), "TRN_DESC": line.description[:40], "VAT_CODE": vat_code,
            "AMOUNT": float(line.quantity * line.price_incl - line.discount_amount), "TRN_QTY": float(line.quantity),
        }, header_key=page_id)  # fmt: skip
