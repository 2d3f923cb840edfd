"""The default API profile: every AccountView business object, table, key and field the engine reads or writes.

This is the only module of ``apicenter_sync`` that names AccountView objects, tables and fields (a test greps
the package for them). Everything else reads them through :class:`apicenter_sync.profile.ApiProfile`, so a
tenant whose names differ is configured in the ``[profile]`` section of the TOML file (or the backend's API
Profile tab in Odoo), never in code. ``docs/assumptions.md`` is generated from this table.

Evidence of each name (research/accountview.md):

- ``documented``: in a data-dictionary dump the API returned, or on a vendor/integrator help page [D];
- ``observed``: used by public client code that ran against the real service [C];
- ``assumed``: no public source names it; the sandbox simulates it and a live tenant must confirm it
  (``apicenter-sync doctor``). A known field whose *use* is assumed (e.g. the order reference in a comment
  field) is ``assumed`` too.

Per field: Visual FoxPro type letter and length as the engine expects them (the doctor compares them with the
tenant's data dictionary), whether the engine writes it (then a shorter field on the tenant cuts values) and
whether it holds personal data (names, e-mail, street, phone, VAT numbers: pseudonymised in captures).
"""

from __future__ import annotations

from typing import Any

D, C, A = "documented", "observed", "assumed"


def _f(name: str, vfp_type: str, length: int, evidence: str, meaning: str, *, write: bool = False,
       personal: bool = False, link: bool = False, label: str = "") -> dict[str, Any]:  # fmt: skip
    return {"name": name, "type": vfp_type, "length": length, "evidence": evidence, "meaning": meaning,
            "write": write, "personal": personal, "link": link, "label": label}  # fmt: skip


ACCOUNTVIEW: dict[str, Any] = {
    # Every table carries these change-tracking fields [D]; incremental reads filter on the change date.
    "change_date": _f("CNG_DATE", "T", 8, D, "change date and time of a row: the watermark of incremental reads",
                      label="Wijzigingsdatum"),
    "change_counter": _f("CNG_NR", "I", 4, D, "per-row change counter: tells two changes within one second apart",
                         label="Wijzignummer"),
    "default_key": "REC_ID",  # lastKey paging key of a table the profile does not describe [C S2]
    # The data dictionary (one row per field of every table), read by the doctor through /accountviewsystemdata
    # [C S1, D S1f]: field name, table, Visual FoxPro type and length.
    "dictionary": {"code": "FLD", "table": "DCT_FLD", "table_field": "DBF_NAME", "name_field": "FIELD_NAME",
                   "type_field": "FIELD_TYPE", "length_field": "FIELD_LEN", "label_field": "FLD_DESC"},
    "objects": {
        "article": {
            "code": "AK1", "table": "ARTICLE", "key": "sku", "evidence": C, "meaning": "articles",
            "fields": {
                "sku": _f("ART_CODE", "C", 20, C, "article code (SKU)"),
                "description": _f("ART_DESC1", "C", 40, C, "description"),
                "group": _f("AG_CODE", "C", 10, C, "article group"),
                "price": _f("PX_SELL", "Y", 8, C, "sales price (excl. VAT unless price_incl_vat or the setting "
                                                  "prices_include_vat says otherwise)"),
                "cost_price": _f("COST_PX", "Y", 8, C, "average cost price"),
                "ean": _f("EAN_CODE", "C", 14, A, "EAN/GTIN barcode"),
                "vat_code": _f("VAT_CODE", "C", 2, A, "VAT code of the article (as VAT.VAT_CODE)"),
                "price_incl_vat": _f("GROSS_FLG", "L", 1, A, "true: the sales price includes VAT (named after "
                                                            "the journal page's GROSS_FLG)"),
                "sell_in_pos": _f("POS_SELL", "L", 1, A, "the article may be sold in the POS"),
                "long_description": _f("ART_MEMO", "M", 4, A, "long description"),
                "unit": _f("ART_UNIT", "C", 10, A, "sales unit"),
                "model": _f("MODEL_CODE", "C", 20, A, "variants of one product share this code; empty for a simple "
                                                      "article"),
                "size": _f("SIZE_CODE", "C", 10, A, "variant size"),
                "colour": _f("COLOR_CODE", "C", 20, A, "variant colour"),
                "country_of_origin": _f("CNT_ORIGIN", "C", 2, A, "country of origin, ISO 3166 alpha-2"),
                "delivery_days": _f("DEL_DAYS", "N", 3, A, "delivery time in days"),
                "blocked": _f("REC_BLK", "L", 1, A, "article blocked, no longer sold (named after the debtor's "
                                                    "REC_BLK)"),
                "material": _f("MATERIAL", "C", 20, A, "material, a variant attribute beside size and colour"),
                "discount_group": _f("DISC_GRP", "C", 10, A, "article discount group: the B2B item attribute "
                                                            "customer discounts are given on"),
                "stock_article": _f("STOCK_ART", "L", 1, A, "keep stock of this article (with the setting "
                                                           "manage_stock)"),
            },
        },
        "article_group": {
            "code": "AG1", "table": "ART_GRP", "key": "code", "evidence": C, "meaning": "article groups",
            "fields": {
                "code": _f("AG_CODE", "C", 10, C, "article group code"),
                "description": _f("AG_DESC", "C", 40, C, "description"),
                "sell_in_pos": _f("POS_SELL", "L", 1, A, "articles of the group may be sold in the POS"),
                "parent": _f("AG_PARENT", "C", 10, A, "parent article group (empty: a top-level group)"),
            },
        },
        "debtor": {
            "code": "AR1", "table": "CONTACT", "key": "number", "evidence": D, "meaning": "debtors (customers)",
            "fields": {
                "number": _f("SUB_NR", "C", 10, D, "debtor number"),
                "name": _f("ACCT_NAME", "C", 40, D, "name of the company, or a person's full name", write=True,
                           personal=True),
                "search_code": _f("SRC_CODE", "C", 10, D, "search code (mandatory on create; derived from the "
                                                          "name)", write=True, personal=True),
                "email": _f("MAIL_BUS", "C", 50, D, "e-mail address: debtors are matched by it", write=True,
                            personal=True),
                "contact_person": _f("MAIN_CONT", "C", 40, A, "a company debtor's contact person (a known field; "
                                                              "its use for the person's full name is assumed)",
                                     write=True, personal=True),
                "address": _f("ADDRESS1", "C", 80, D, "street line (street, number, addition)", write=True,
                              personal=True),
                "street": _f("ST_STREET", "C", 60, D, "street", write=True, personal=True),
                "house_number": _f("ST_NR", "C", 10, D, "house number", write=True, personal=True),
                "house_number_extra": _f("ST_EXTRA", "C", 10, D, "house-number addition", write=True,
                                         personal=True),
                "postcode": _f("POST_CODE", "C", 10, D, "postcode", write=True, personal=True),
                "city": _f("CITY", "C", 35, D, "city", write=True, personal=True),
                "country": _f("CNT_CODE", "C", 2, D, "country, ISO 3166 alpha-2", write=True),
                "phone": _f("TEL_BUS", "C", 20, D, "telephone", write=True, personal=True),
                "mobile": _f("TEL_MOB", "C", 20, D, "mobile telephone", personal=True),
                "vat_number": _f("VAT_NR", "C", 14, D, "VAT number", write=True, personal=True),
                "coc_number": _f("COC_CODE", "C", 15, D, "chamber of commerce number", personal=True),
                "price_list": _f("APX_LIST", "C", 5, A, "price list of the article prices = the customer group "
                                                        "(a known field; its use as customer group is assumed)"),
                "discount_group": _f("PCT_LIST", "C", 5, A, "price list of the discount percentages = the customer "
                                                            "group of the group discounts (known field, assumed "
                                                            "use)"),
                "discount_pct": _f("DISC_PCT", "N", 9, D, "invoice discount percentage"),
                "payment_condition": _f("DISC_CODE", "C", 2, A, "payment condition (known field; the payment "
                                                                "conditions table it points to is assumed)"),
                "vat_code": _f("VAT_CODE", "C", 2, D, "VAT code (a debtor created from a sale: by its country, "
                                                    "mapping table vat_code_by_country)", write=True),
                "revenue_category": _f("REV_CAT", "C", 10, D, "revenue category (a debtor created from a sale: by "
                                                            "its country, mapping table revenue_category_by_country)",
                                       write=True),
                "language": _f("LNG_CODE", "C", 5, D, "language"),
                "currency": _f("CUR_CODE", "C", 3, D, "currency"),
            },
        },
        "delivery_address": {
            "code": "ADDR", "table": "DEL_ADDR", "key": "record_id", "evidence": C, "optional": True,
            "meaning": "delivery addresses of debtors",
            "fields": {
                "record_id": _f("REC_ID", "C", 10, C, "record id (returned on POST, referenced by the sales order)"),
                "debtor": _f("SUB_NR", "C", 10, C, "debtor the address belongs to", write=True),
                "name": _f("DEL_NAME", "C", 40, C, "addressee", write=True, personal=True),
                "address": _f("ADDRESS1", "C", 80, C, "street line", write=True, personal=True),
                "street": _f("ST_STREET", "C", 60, A, "street (as on the debtor)", write=True, personal=True),
                "house_number": _f("ST_NR", "C", 10, A, "house number (as on the debtor)", write=True,
                                   personal=True),
                "house_number_extra": _f("ST_EXTRA", "C", 10, A, "house-number addition (as on the debtor)",
                                         write=True, personal=True),
                "postcode": _f("POST_CODE", "C", 10, C, "postcode", write=True, personal=True),
                "city": _f("CITY", "C", 35, C, "city", write=True, personal=True),
                "country": _f("CNT_CODE", "C", 2, C, "country, ISO 3166 alpha-2", write=True),
                "email": _f("MAIL_BUS", "C", 50, C, "e-mail address", write=True, personal=True),
                "phone": _f("TEL_BUS", "C", 20, C, "telephone", write=True, personal=True),
            },
        },
        "vat": {
            "code": "VA1", "table": "VAT", "key": "code", "evidence": D, "meaning": "VAT codes",
            "fields": {
                "code": _f("VAT_CODE", "C", 2, D, "VAT code"),
                "pct": _f("VAT_PCT", "N", 7, D, "VAT percentage"),
                "reverse_charge": _f("IS_REVERSE", "L", 1, D, "reverse-charge code (never chosen by rate)"),
            },
        },
        "ledger": {
            "code": "GL1", "table": "LEDGER", "key": "number", "evidence": D, "meaning": "general-ledger accounts",
            "fields": {
                "number": _f("ACCT_NR", "C", 10, D, "account number"),
                "name": _f("ACCT_NAME", "C", 40, D, "account name"),
            },
        },
        "journal": {
            "code": "DJ1", "table": "DAILY", "key": "code", "evidence": D, "meaning": "journals",
            "fields": {
                "code": _f("DJ_CODE", "C", 3, D, "journal code"),
                "name": _f("DJ_NAME", "C", 40, D, "journal name"),
            },
        },
        "price_list": {
            "code": "PRL1", "table": "PRICE_LST", "key": "code", "evidence": A, "optional": True,
            "meaning": "price lists (customer groups); the debtor's price_list points here",
            "fields": {
                "code": _f("PL_CODE", "C", 5, A, "price-list code"),
                "description": _f("PL_DESC", "C", 40, A, "description"),
            },
        },
        "price_list_item": {
            "code": "PRI1", "table": "PRICE_ART", "key": "record_id", "evidence": A, "optional": True,
            "meaning": "article prices per price list, with staffel (tier) quantities",
            "fields": {
                "record_id": _f("REC_ID", "C", 10, A, "record id"),
                "price_list": _f("PL_CODE", "C", 5, A, "price list"),
                "sku": _f("ART_CODE", "C", 20, A, "article"),
                "min_qty": _f("MIN_QTY", "N", 13, A, "staffel: the price applies from this quantity on"),
                "price": _f("PX_SELL", "Y", 8, A, "unit price excluding VAT"),
            },
        },
        "group_discount": {
            "code": "DSC1", "table": "DISC_GRP", "key": "record_id", "evidence": A, "optional": True,
            "meaning": "discount percentage per customer discount group and article group",
            "fields": {
                "record_id": _f("REC_ID", "C", 10, A, "record id"),
                "customer_group": _f("PCT_LIST", "C", 5, A, "customer discount group (as the debtor's "
                                                            "discount_group)"),
                "article_group": _f("AG_CODE", "C", 10, A, "article group"),
                "pct": _f("DISC_PCT", "N", 9, A, "discount percentage"),
            },
        },
        # Absent by default (no public source knows such a table; the shipped sandbox tenant has none): a tenant
        # that keeps a discount per debtor and article sets available = true and its names; the prices flow then
        # sends each debtor's rows as the till relation's relationArticleDiscountList.
        "debtor_article_discount": {
            "code": "DDS1", "table": "DEB_DISC", "key": "record_id", "evidence": A, "optional": True,
            "available": False, "meaning": "discount percentage per debtor and article (kept by some tenants only)",
            "fields": {
                "record_id": _f("REC_ID", "C", 10, A, "record id"),
                "debtor": _f("SUB_NR", "C", 10, A, "debtor (as the debtor's number)"),
                "sku": _f("ART_CODE", "C", 20, A, "article"),
                "pct": _f("DISC_PCT", "N", 9, A, "discount percentage (whole percent at the till)"),
            },
        },
        "warehouse": {
            "code": "WH1", "table": "WAREHOUS", "key": "code", "evidence": A, "optional": True,
            "meaning": "warehouses",
            "fields": {
                "code": _f("WH_CODE", "C", 10, A, "warehouse code"),
                "description": _f("WH_DESC", "C", 40, A, "name"),
            },
        },
        "stock": {
            "code": "STK1", "table": "ART_STOCK", "key": "record_id", "evidence": A, "optional": True,
            "meaning": "stock per article and warehouse",
            "fields": {
                "record_id": _f("REC_ID", "C", 10, A, "record id"),
                "sku": _f("ART_CODE", "C", 20, A, "article"),
                "warehouse": _f("WH_CODE", "C", 10, A, "warehouse"),
                "on_hand": _f("QTY_ONHAND", "N", 13, A, "physical stock"),
                "reserved": _f("QTY_RES", "N", 13, A, "reserved by open sales orders"),
                "incoming": _f("QTY_INC", "N", 13, A, "on open purchase orders"),
                "available": _f("QTY_AVAIL", "N", 13, A, "on hand minus reserved, computed by AccountView "
                                                         "(read-only; the stock figure is computed from the others)"),
            },
        },
        "payment_condition": {
            "code": "PC1", "table": "PAY_COND", "key": "code", "evidence": A, "optional": True,
            "meaning": "payment conditions; the debtor's payment_condition points here",
            "fields": {
                "code": _f("DISC_CODE", "C", 2, A, "payment-condition code"),
                "description": _f("DISC_DESC", "C", 40, A, "description"),
                "days": _f("CRED_DAYS", "N", 3, A, "payment term in days"),
            },
        },
        "shipping_method": {
            "code": "SM1", "table": "SHIP_METH", "key": "code", "evidence": A, "optional": True,
            "meaning": "shipping methods",
            "fields": {
                "code": _f("SHIP_MTH", "C", 10, A, "shipping-method code"),
                "description": _f("SHIP_DESC", "C", 40, A, "description"),
            },
        },
        "sales_order": {
            "code": "SO1", "table": "SO_HDR", "key": "record_id", "detail_table": "SO_LINE", "evidence": C,
            "meaning": "sales orders (header and lines), posted by the orders flow",
            "fields": {
                "record_id": _f("REC_ID", "C", 10, A, "key of an order, assigned on POST"),
                "order_number": _f("ORD_NR", "C", 10, A, "order number, assigned on POST", link=True),
                "order_date": _f("ORD_DATE", "T", 8, C, "order date", write=True),
                "invoice_debtor": _f("RPL_INV", "C", 10, C, "invoice-to debtor", write=True),
                "delivery_debtor": _f("RPL_DEL", "C", 10, C, "ship-to debtor", write=True),
                "delivery_address": _f("DEL_CODE", "C", 10, C, "delivery address (its record id)", write=True),
                "reference": _f("COMMENT1", "M", 4, A, "external order reference (the till's order id): the "
                                                       "orders flow looks an order up here before creating it "
                                                       "(a known field; public clients put the webshop order id "
                                                       "there)", write=True),
                "note": _f("COMMENT2", "M", 4, C, "second comment: the till's order number", write=True),
                "employee": _f("EMP_NR", "C", 10, C, "salesperson", write=True),
                "email": _f("TO_EMAIL", "C", 50, C, "e-mail address of the customer", write=True, personal=True),
                "payment_condition": _f("DISC_CODE", "C", 2, A, "payment condition", write=True),
                "shipping_method": _f("SHIP_MTH", "C", 10, A, "shipping method", write=True),
            },
            "line_fields": {
                "record_id": _f("REC_ID", "C", 10, A, "key of a line, assigned on POST"),
                "order_number": _f("ORD_NR", "C", 10, A, "links a line to its header, set by the server", link=True),
                "sku": _f("ART_CODE", "C", 20, C, "article", write=True),
                "quantity": _f("ORD_QTY", "N", 13, C, "quantity", write=True),
                "price": _f("ART_PX", "Y", 8, C, "unit price (the line total / quantity)", write=True),
                "vat_code": _f("VAT_CODE", "C", 2, A, "VAT code of the line", write=True),
                "description": _f("ART_DESC1", "C", 40, A, "line description", write=True),
            },
        },
        "booking": {
            "code": "DJ2", "read_code": "DJ2P", "table": "DJ_PAGE", "key": "record_id", "detail_table": "DJ_LINE",
            "evidence": C, "meaning": "journal pages (sales-invoice bookings): posted with the code, read back with "
                                      "the read code",
            "fields": {
                "record_id": _f("REC_ID", "C", 10, A, "key of a journal page (the dictionary has no single-field "
                                                      "key)"),
                "journal": _f("DJ_CODE", "C", 3, D, "journal", write=True),
                "reference": _f("COMMENT1", "M", 4, A, "external order reference on a booking (the invoice number "
                                                       "is too short for it; known field, assumed use)",
                                write=True),
                "description": _f("HDR_DESC", "C", 40, D, "description", write=True, personal=True),
                "amounts_incl_vat": _f("GROSS_FLG", "L", 1, D, "amounts include VAT", write=True),
                "total": _f("PAGE_AMT", "Y", 8, D, "page total", write=True),
                "currency": _f("CUR_CODE", "C", 3, D, "currency", write=True),
                "date": _f("TRN_DATE", "D", 8, D, "booking date", write=True),
                "payment_condition": _f("DISC_CODE", "C", 2, D, "payment condition", write=True),
                "debtor": _f("SUB_NR", "C", 10, D, "debtor", write=True),
                "invoice_number": _f("INV_NR", "C", 12, D, "invoice number, assigned on POST"),
            },
            "line_fields": {
                "account": _f("ACCT_NR", "C", 10, D, "ledger account", write=True),
                "amount": _f("AMOUNT", "Y", 8, D, "amount", write=True),
                "vat_code": _f("VAT_CODE", "C", 2, D, "VAT code", write=True),
                "quantity": _f("TRN_QTY", "N", 13, D, "quantity", write=True),
                "description": _f("TRN_DESC", "C", 40, D, "description", write=True, personal=True),
            },
        },
    },
}  # fmt: skip

# The data dictionary's description (FLD_DESC) of each field, as AccountView gives it (in Dutch): the doctor finds
# a tenant's own name of a field by it (with type, length and role). Documented fields: the public dumps' words;
# the others are assumptions in the dumps' style.
LABELS: dict[str, dict[str, str]] = {
    "article": {
        "sku": "Artikelcode", "description": "Artikelomschrijving", "group": "Artikelgroep", "price": "Verkoopprijs",
        "cost_price": "Gemiddelde kostprijs", "ean": "EAN-code", "vat_code": "BTW-code",
        "price_incl_vat": "Verkoopprijs incl. BTW", "sell_in_pos": "Verkopen via kassa",
        "long_description": "Uitgebreide omschrijving", "unit": "Verkoopeenheid", "model": "Modelcode",
        "size": "Maat", "colour": "Kleur", "country_of_origin": "Land van herkomst",
        "delivery_days": "Levertijd in dagen", "blocked": "Geblokkeerd", "material": "Materiaal",
        "discount_group": "Kortingsgroep artikel", "stock_article": "Voorraadartikel",
    },
    "article_group": {
        "code": "Artikelgroep", "description": "Omschrijving artikelgroep", "sell_in_pos": "Verkopen via kassa",
        "parent": "Hoofdgroep",
    },
    "debtor": {
        "number": "Debiteur-/crediteurnummer", "name": "Bedrijfsnaam", "search_code": "Zoekcode bedrijf",
        "email": "E-mail zakelijk", "contact_person": "Contactpersoon", "address": "Adres", "street": "Straatnaam",
        "house_number": "Huisnummer", "house_number_extra": "Adres-toevoeging", "postcode": "Postcode",
        "city": "Plaats", "country": "ISO-landcode", "phone": "Telefoon zakelijk", "mobile": "Telefoon mobiel",
        "vat_number": "BTW-nummer", "coc_number": "KvK-nummer", "price_list": "Prijslijst art.prijzen",
        "discount_group": "Prijslijst kortingspercentages", "discount_pct": "Factuurkorting",
        "payment_condition": "Code betalingsconditie", "vat_code": "BTW-code", "revenue_category": "Omzetcategorie",
        "language": "Taalcode", "currency": "Valutacode",
    },
    "delivery_address": {
        "record_id": "Unieke code", "debtor": "Debiteurnummer", "name": "Naam afleveradres", "address": "Adres",
        "street": "Straatnaam", "house_number": "Huisnummer", "house_number_extra": "Adres-toevoeging",
        "postcode": "Postcode", "city": "Plaats", "country": "ISO-landcode", "email": "E-mail zakelijk",
        "phone": "Telefoon zakelijk",
    },
    "vat": {
        "code": "BTW-code", "pct": "BTW-percentage", "reverse_charge": "BTW verlegd",
    },
    "ledger": {
        "number": "Rekeningnr", "name": "Omschrijving rekening",
    },
    "journal": {
        "code": "Dagboekcode", "name": "Dagboeknaam",
    },
    "price_list": {
        "code": "Prijslijstcode", "description": "Omschrijving prijslijst",
    },
    "price_list_item": {
        "record_id": "Unieke code", "price_list": "Prijslijstcode", "sku": "Artikelcode",
        "min_qty": "Vanaf aantal (staffel)", "price": "Prijs excl. BTW",
    },
    "group_discount": {
        "record_id": "Unieke code", "customer_group": "Prijslijst kortingspercentages",
        "article_group": "Artikelgroep", "pct": "Kortingspercentage",
    },
    "debtor_article_discount": {
        "record_id": "Unieke code", "debtor": "Debiteurnummer", "sku": "Artikelcode", "pct": "Kortingspercentage",
    },
    "warehouse": {
        "code": "Magazijncode", "description": "Omschrijving magazijn",
    },
    "stock": {
        "record_id": "Unieke code", "sku": "Artikelcode", "warehouse": "Magazijncode",
        "on_hand": "Voorraad aanwezig", "reserved": "Gereserveerd", "incoming": "Inkomend (inkooporders)",
        "available": "Beschikbare voorraad",
    },
    "payment_condition": {
        "code": "Code betalingsconditie", "description": "Omschrijving betalingsconditie",
        "days": "Betalingstermijn in dagen",
    },
    "shipping_method": {
        "code": "Vervoersmethode", "description": "Omschrijving vervoersmethode",
    },
    "sales_order": {
        "record_id": "Unieke code", "order_number": "Ordernummer", "order_date": "Orderdatum",
        "invoice_debtor": "Factuurdebiteur", "delivery_debtor": "Afleverdebiteur",
        "delivery_address": "Afleveradres", "reference": "Notitie", "note": "Notitie 2", "employee": "Verkoper",
        "email": "E-mailadres", "payment_condition": "Betalingsconditie", "shipping_method": "Vervoersmethode",
    },
    "sales_order.line_fields": {
        "record_id": "Unieke code", "order_number": "Ordernummer", "sku": "Artikelcode",
        "quantity": "Aantal besteld", "price": "Prijs per eenheid", "vat_code": "BTW-code",
        "description": "Omschrijving regel",
    },
    "booking": {
        "record_id": "Unieke code", "journal": "Dagboekcode", "reference": "Notitie",
        "description": "Omschrijving bladzijde", "amounts_incl_vat": "Basisbedrag incl BTW weergeven",
        "total": "Bladsaldo", "currency": "Valutacode", "date": "Mutatiedatum",
        "payment_condition": "Betalingsconditie", "debtor": "Debiteur/Crediteur",
        "invoice_number": "Document-/factuurnummer",
    },
    "booking.line_fields": {
        "account": "Rekeningnr", "amount": "Mutatiebedrag", "vat_code": "BTW-code", "quantity": "Aantal (agr)",
        "description": "Omschrijving regel",
    },
}  # fmt: skip

# What an optional object's absence switches off, per flow whose run logs one notice about it (``setup``: what only
# the screens and the doctor do: the choices of mapping tables, the doctor's checks), and the mapping table or
# setting that fills the same thing instead, if any. The notice's words are the catalogue's ``profile.off.<object>.<flow>``.
OPTIONAL_STEPS: dict[str, tuple[tuple[str, tuple[str, str] | None], ...]] = {
    "delivery_address": (("orders", None), ("customers", None)),
    "price_list": (("prices", None), ("setup", ("table", "customer_group_price_group"))),
    "price_list_item": (("prices", None),),
    "group_discount": (("prices", ("table", "group_default_discount")),),
    "warehouse": (("setup", ("table", "warehouse_branch")),),
    "stock": (("stock", None),),
    "payment_condition": (("customers", ("table", "payment_condition_days")), ("setup", None)),
    "shipping_method": (("setup", ("table", "shipping_method")),),
    # Absent by default (the usual case): no notice in every prices run, only the doctor names it ("setup").
    "debtor_article_discount": (("setup", None),),
}

# Values of the orders setting ``order_type`` before the profile named the documents: the business-object codes.
ORDER_TYPE_ALIASES = {"SO1": "sales_order", "DJ2": "booking"}

# ASSUMPTION (docs/assumptions.md "Which documents move AccountView's stock", docs/profile.md): the documents the
# orders flow writes that move AccountView's stock figure, and the stock field each moves when it is posted. A
# sales order with article lines reserves its quantities at once (stock.reserved), so the figures that subtract
# what is reserved (stock_figure available, economic) show the sale; it leaves on_hand when AccountView delivers
# it. A journal booking (a booking per receipt or per till closing) has no article lines and moves no stock.
STOCK_MOVING_DOCUMENTS = {"sales_order": "reserved"}
