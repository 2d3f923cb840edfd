"""Every name and behaviour of the AccountView sandbox that the public facts do not cover.

ASSUMPTION -- everything in this module is an assumption.  The public sources
(``/work/shared/research/accountview.md``) name no business object, table or field
for price lists, staffel prices, group discounts, warehouses, stock per warehouse,
payment conditions or shipping methods, nor an EAN, VAT-code, price-incl-VAT,
"sell in POS", variant, origin or delivery-time field on ARTICLE.  The sandbox
picks a name for each, here and only here, so the engine can be configured with
the same names and a real tenant can be mapped by changing them in one place.

Names follow AccountView's habits: upper case, at most 10 characters (the Visual
FoxPro limit), table names like ``ART_GRP``, business-object codes like ``AK1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AssumedField:
    """ASSUMPTION: a field name the public facts do not give."""

    name: str
    vfp_type: str  # Visual FoxPro type letter (C, M, N, Y, I, L, D, T)
    length: int
    meaning: str
    mandatory: bool = False
    label: str = ""  # the data dictionary's description (FLD_DESC), in Dutch as AccountView gives it


@dataclass(frozen=True)
class AssumedObject:
    """ASSUMPTION: a business object (code + table) the public facts do not give."""

    code: str
    table: str
    key: str
    meaning: str
    fields: dict[str, AssumedField] = field(default_factory=dict)  # logical name -> field


def _f(name: str, vfp_type: str, length: int, meaning: str, mandatory: bool = False, *, label: str) -> AssumedField:
    return AssumedField(name, vfp_type, length, meaning, mandatory, label)


# --- ASSUMPTION: extra fields on tables whose other fields are known --------------------

# ARTICLE (AK1) has no public dictionary; ART_CODE, ART_DESC1, AG_CODE, PX_SELL, COST_PX,
# QTY_AVAIL... are seen in client code.  These are not:
ARTICLE_FIELDS: dict[str, AssumedField] = {
    "ean": _f("EAN_CODE", "C", 14, "EAN/GTIN barcode", label="EAN-code"),
    "vat_code": _f("VAT_CODE", "C", 2, "VAT code of the article (VA1/VAT.VAT_CODE)", label="BTW-code"),
    # Named after DJ_PAGE.GROSS_FLG [D], which switches journal entry to VAT-inclusive amounts.
    "price_incl_vat": _f("GROSS_FLG", "L", 1, "true: PX_SELL includes VAT; false: PX_SELL excludes VAT",
                         label="Verkoopprijs incl. BTW"),
    "sell_in_pos": _f("POS_SELL", "L", 1, "article may be sold in the POS", label="Verkopen via kassa"),
    "long_description": _f("ART_MEMO", "M", 4, "long description", label="Uitgebreide omschrijving"),
    "unit": _f("ART_UNIT", "C", 10, "sales unit (name seen on article history lines, HST_AL)", label="Verkoopeenheid"),
    "model": _f("MODEL_CODE", "C", 20, "variants of one product share this code; empty for a simple article",
                label="Modelcode"),
    "size": _f("SIZE_CODE", "C", 10, "variant size", label="Maat"),
    "colour": _f("COLOR_CODE", "C", 20, "variant colour", label="Kleur"),
    "country_of_origin": _f("CNT_ORIGIN", "C", 2, "country of origin, ISO 3166 alpha-2", label="Land van herkomst"),
    "delivery_days": _f("DEL_DAYS", "N", 3, "delivery time in days", label="Levertijd in dagen"),
    # Named after CONTACT.REC_BLK [D] ("blocked"): a blocked article is no longer sold.
    "blocked": _f("REC_BLK", "L", 1, "article blocked: no longer sold", label="Geblokkeerd"),
    "material": _f("MATERIAL", "C", 20, "material (a variant attribute beside size and colour)", label="Materiaal"),
    "discount_group": _f("DISC_GRP", "C", 10, "article discount group (B2B item attribute for customer discounts)",
                         label="Kortingsgroep artikel"),
    "stock_article": _f("STOCK_ART", "L", 1, "keep stock of this article", label="Voorraadartikel"),
}

ARTICLE_GROUP_FIELDS: dict[str, AssumedField] = {
    "sell_in_pos": _f("POS_SELL", "L", 1, "articles of this group may be sold in the POS", label="Verkopen via kassa"),
    "parent": _f("AG_PARENT", "C", 10, "parent article group (empty: a top-level group)", label="Hoofdgroep"),
}

# Sales orders: only fields seen in one client's POST are known (research §7.7).
SALES_ORDER_HEADER_FIELDS: dict[str, AssumedField] = {
    "record_id": _f("REC_ID", "C", 10, "record id of the order, assigned by the server on POST", label="Unieke code"),
    "order_number": _f("ORD_NR", "C", 10, "order number, assigned by the server on POST", label="Ordernummer"),
    "payment_condition": _f("DISC_CODE", "C", 2, "payment condition (as CONTACT.DISC_CODE)", label="Betalingsconditie"),
    "shipping_method": _f("SHIP_MTH", "C", 10, "shipping method (as CONTACT.SHIP_MTH)", label="Vervoersmethode"),
}
SALES_ORDER_LINE_FIELDS: dict[str, AssumedField] = {
    "record_id": _f("REC_ID", "C", 10, "record id of the line, assigned by the server on POST", label="Unieke code"),
    "order_number": _f("ORD_NR", "C", 10, "order number of the header the line belongs to (set by the server)",
                       label="Ordernummer"),
    "description": _f("ART_DESC1", "C", 40, "line description (defaults to the article's)", label="Omschrijving regel"),
    "vat_code": _f("VAT_CODE", "C", 2, "VAT code of the line (defaults to the article's)", label="BTW-code"),
}

# DJ_PAGE has a dictionary, but no single-field key; the sandbox adds one so that
# lastKey paging works like on every other table.
JOURNAL_PAGE_FIELDS: dict[str, AssumedField] = {
    "record_id": _f("REC_ID", "C", 10, "record id of the journal page, assigned by the server on POST",
                    label="Unieke code"),
}

# DEL_ADDR: SUB_NR, DEL_NAME, ADDRESS1, POST_CODE, CITY, CNT_CODE, MAIL_BUS, TEL_BUS, REC_ID are seen.
DELIVERY_ADDRESS_FIELDS: dict[str, AssumedField] = {
    "street": _f("ST_STREET", "C", 60, "street (as CONTACT.ST_STREET)", label="Straatnaam"),
    "house_number": _f("ST_NR", "C", 10, "house number (as CONTACT.ST_NR)", label="Huisnummer"),
    "house_number_extra": _f("ST_EXTRA", "C", 10, "house-number addition (as CONTACT.ST_EXTRA)",
                             label="Adres-toevoeging"),
}

# --- ASSUMPTION: business objects the public facts do not name --------------------------

PRICE_LIST = AssumedObject(
    "PRL1", "PRICE_LST", "PL_CODE", "price lists (customer groups); CONTACT.APX_LIST points here",
    {
        "code": _f("PL_CODE", "C", 5, "price-list code (as CONTACT.APX_LIST, C5)", True, label="Prijslijstcode"),
        "description": _f("PL_DESC", "C", 40, "description", label="Omschrijving prijslijst"),
    },
)  # fmt: skip
PRICE_LIST_ITEM = AssumedObject(
    "PRI1", "PRICE_ART", "REC_ID", "article prices per price list, with staffel (tier) quantities",
    {
        "record_id": _f("REC_ID", "C", 10, "record id", label="Unieke code"),
        "price_list": _f("PL_CODE", "C", 5, "price list (PRICE_LST.PL_CODE)", True, label="Prijslijstcode"),
        "sku": _f("ART_CODE", "C", 20, "article (ARTICLE.ART_CODE)", True, label="Artikelcode"),
        "min_qty": _f("MIN_QTY", "N", 13, "staffel: the price applies from this quantity on",
                      label="Vanaf aantal (staffel)"),
        "price_excl": _f("PX_SELL", "Y", 8, "unit price excluding VAT", label="Prijs excl. BTW"),
    },
)  # fmt: skip
GROUP_DISCOUNT = AssumedObject(
    "DSC1", "DISC_GRP", "REC_ID", "discount % per customer discount group and article group",
    {
        "record_id": _f("REC_ID", "C", 10, "record id", label="Unieke code"),
        "customer_group": _f("PCT_LIST", "C", 5, "customer discount group (as CONTACT.PCT_LIST)", True,
                             label="Prijslijst kortingspercentages"),
        "article_group": _f("AG_CODE", "C", 10, "article group (ART_GRP.AG_CODE)", True, label="Artikelgroep"),
        "pct": _f("DISC_PCT", "N", 9, "discount percentage", label="Kortingspercentage"),
    },
)  # fmt: skip
WAREHOUSE = AssumedObject(
    "WH1", "WAREHOUS", "WH_CODE", "warehouses",
    {
        "code": _f("WH_CODE", "C", 10, "warehouse code", True, label="Magazijncode"),
        "description": _f("WH_DESC", "C", 40, "name", label="Omschrijving magazijn"),
    },
)  # fmt: skip
STOCK = AssumedObject(
    "STK1", "ART_STOCK", "REC_ID", "stock per article and warehouse",
    {
        "record_id": _f("REC_ID", "C", 10, "record id", label="Unieke code"),
        "sku": _f("ART_CODE", "C", 20, "article (ARTICLE.ART_CODE)", True, label="Artikelcode"),
        "warehouse": _f("WH_CODE", "C", 10, "warehouse (WAREHOUS.WH_CODE)", True, label="Magazijncode"),
        "on_hand": _f("QTY_ONHAND", "N", 13, "physical stock", label="Voorraad aanwezig"),
        "reserved": _f("QTY_RES", "N", 13, "reserved by open sales orders", label="Gereserveerd"),
        "incoming": _f("QTY_INC", "N", 13, "on open purchase orders", label="Inkomend (inkooporders)"),
        "available": _f("QTY_AVAIL", "N", 13, "on hand - reserved; computed by the server, read-only",
                        label="Beschikbare voorraad"),
    },
)  # fmt: skip
PAYMENT_CONDITION = AssumedObject(
    "PC1", "PAY_COND", "DISC_CODE", "payment conditions; CONTACT.DISC_CODE points here",
    {
        "code": _f("DISC_CODE", "C", 2, "payment-condition code (as CONTACT.DISC_CODE, C2)", True,
                   label="Code betalingsconditie"),
        "description": _f("DISC_DESC", "C", 40, "description", label="Omschrijving betalingsconditie"),
        "days": _f("CRED_DAYS", "N", 3, "payment term in days", label="Betalingstermijn in dagen"),
    },
)  # fmt: skip
SHIPPING_METHOD = AssumedObject(
    "SM1", "SHIP_METH", "SHIP_MTH", "shipping methods; CONTACT.SHIP_MTH points here",
    {
        "code": _f("SHIP_MTH", "C", 10, "shipping-method code (as CONTACT.SHIP_MTH, C10)", True,
                   label="Vervoersmethode"),
        "description": _f("SHIP_DESC", "C", 40, "description", label="Omschrijving vervoersmethode"),
    },
)  # fmt: skip

# Kept by some tenants only: the default sandbox and the variants renamed and reshaped do not have it (their API
# refuses its code and table, the dictionary lacks it); the variant ``discounts`` has it with seeded rows.
DEBTOR_ARTICLE_DISCOUNT = AssumedObject(
    "DDS1", "DEB_DISC", "REC_ID", "discount % per debtor and article (only some tenants keep it)",
    {
        "record_id": _f("REC_ID", "C", 10, "record id", label="Unieke code"),
        "debtor": _f("SUB_NR", "C", 10, "debtor (CONTACT.SUB_NR)", True, label="Debiteurnummer"),
        "sku": _f("ART_CODE", "C", 20, "article (ARTICLE.ART_CODE)", True, label="Artikelcode"),
        "pct": _f("DISC_PCT", "N", 9, "discount percentage", label="Kortingspercentage"),
    },
)  # fmt: skip

OBJECTS: dict[str, AssumedObject] = {
    "price_list": PRICE_LIST,
    "price_list_item": PRICE_LIST_ITEM,
    "group_discount": GROUP_DISCOUNT,
    "warehouse": WAREHOUSE,
    "stock": STOCK,
    "payment_condition": PAYMENT_CONDITION,
    "shipping_method": SHIPPING_METHOD,
    "debtor_article_discount": DEBTOR_ARTICLE_DISCOUNT,
}
# The objects of OBJECTS only some tenants keep (business-object codes): absent unless a variant keeps them.
TENANT_ONLY: frozenset[str] = frozenset({DEBTOR_ARTICLE_DISCOUNT.code})

# --- ASSUMPTION: which known field carries which meaning ----------------------------------
# (table, field) pairs; the fields exist in the dictionary or in client code, their use here is assumed.
USAGE: dict[str, tuple[str, str]] = {
    "order_reference": ("SO_HDR", "COMMENT1"),  # S3 stores the webshop order id there [C]
    "booking_reference": ("DJ_PAGE", "COMMENT1"),  # INV_NR is C12: too short for "POS-2026-000001"
    "contact_person": ("CONTACT", "MAIN_CONT"),  # a company debtor's contact person (full name)
    "customer_price_list": ("CONTACT", "APX_LIST"),  # [D] "price list for article prices"
    "customer_discount_group": ("CONTACT", "PCT_LIST"),  # [D] "price list for discount percentages"
    "customer_payment_condition": ("CONTACT", "DISC_CODE"),  # [D] payment-condition code
    "receivables_account": ("CONTACT", "ACCT_NR"),  # collective account, seeded with the "Debiteuren" account
}

# --- ASSUMPTION: behaviour ----------------------------------------------------------------
AUTH_CODE_TTL_S = 60.0  # an authorization code must be exchanged within a minute, once
ACCESS_TOKEN_TTL_S = 3600  # constructor default; real TTL unknown
REFRESH_GRACE_S = 60.0  # constructor default: a rotated refresh token is accepted once more within this window
DEFAULT_SCOPE = "readaccountviewdata updateaccountviewdata deleteaccountviewdata"
WRITE_SCOPES = frozenset({"updateaccountviewdata", "*"})  # POST/PUT need one of these
DEFAULT_PAGE_SIZE = 100  # when PageSize is absent
MAX_PAGE_SIZE = 1000  # larger PageSize -> error (largest size seen in public clients)
# Keys for lastKey paging and for PUT; tables not listed use REC_ID.
TABLE_KEYS: dict[str, str] = {
    "CONTACT": "SUB_NR",
    "ARTICLE": "ART_CODE",
    "ART_GRP": "AG_CODE",
    "LEDGER": "ACCT_NR",
    "VAT": "VAT_CODE",
    "DAILY": "DJ_CODE",
    **{obj.table: obj.key for obj in OBJECTS.values()},
}
DEFAULT_KEY = "REC_ID"
# Number ranges the server assigns from when a POST leaves the field empty.
FIRST_SUB_NR = 20000  # seeded debtors are numbered 10000...; new ones continue here
FIRST_INV_NR = 26000001
FIRST_ORD_NR = 50001

# HTTP status and ErrorNumbers of each error class (the real numbers are unknown).
ERRORS: dict[str, tuple[int, int | None]] = {
    "unauthorized": (401, None),
    "forbidden": (403, None),  # token lacks the write scope, or x-company is not one of /companies
    "bad_request": (400, 1000),  # malformed parameter or envelope
    "unknown_object": (400, 1001),
    "unknown_field": (400, 1002),
    "mandatory": (400, 1003),
    "too_long": (400, 1004),
    "bad_value": (400, 1005),  # value does not fit the field type
    "bad_reference": (400, 1006),  # points to a record that does not exist
    "not_allowed": (405, 1007),  # e.g. GET on DJ2, PUT on DJ2
    "not_found": (404, 1008),  # PUT of a record that does not exist
    "duplicate": (409, 1009),  # unique key already taken
}


def all_assumed_names() -> list[tuple[str, str, str]]:
    """(where, name, meaning) of every assumed object, table and field, for docs and tests."""
    rows: list[tuple[str, str, str]] = []
    for table, fields in (
        ("ARTICLE", ARTICLE_FIELDS),
        ("ART_GRP", ARTICLE_GROUP_FIELDS),
        ("SO_HDR", SALES_ORDER_HEADER_FIELDS),
        ("SO_LINE", SALES_ORDER_LINE_FIELDS),
        ("DJ_PAGE", JOURNAL_PAGE_FIELDS),
        ("DEL_ADDR", DELIVERY_ADDRESS_FIELDS),
    ):
        rows += [(table, f.name, f.meaning) for f in fields.values()]
    for obj in OBJECTS.values():
        rows.append(("business object", obj.code, f"table {obj.table}, key {obj.key}: {obj.meaning}"))
        rows += [(obj.table, f.name, f.meaning) for f in obj.fields.values()]
    rows += [("usage", f"{table}.{name}", what) for what, (table, name) in USAGE.items()]
    return rows
