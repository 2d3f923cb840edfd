"""Variant worlds: the same administration as a tenant whose AccountView names differ from our assumptions.

``apicenter-sandbox --variant renamed`` serves the seeded data under other names: every assumed business object,
table and field (``assumptions.py``, the profile's ``assumed`` entries) has another name, and the group discounts
do not exist at all. The store keeps the sandbox's own names; the variant translates at the API's edge:

- requests: ``BusinessObject``, ``Fields``, ``FilterControlSource<n>``, ``SortFields`` and the POST/PUT envelope's
  table and field names, from the tenant's names to ours. Our name of a renamed entry is unknown to such a tenant,
  as is everything of an absent object: those are refused like any unknown name;
- replies: table keys, row fields, the data dictionary, the business-object list and the names inside error
  messages, from ours to the tenant's.

So a client configured with the default profile meets exactly the refuted assumptions (the doctor's test), and one
configured with the variant's profile (``variants/renamed.toml``) reaches the same end state as on the default
sandbox.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import assumptions as A
from .errors import AccountViewError

VARIANTS_DIR = Path(__file__).resolve().parent.parent / "variants"


def _refused(kind: str, message: str) -> AccountViewError:
    """An error about a name the tenant does not have, already in the tenant's words (not translated again)."""
    error = AccountViewError(kind, message)
    error.tenant_names = True
    return error


@dataclass
class Variant:
    name: str
    objects: dict[str, str]  # our business-object code -> the tenant's
    tables: dict[str, str]  # our table -> the tenant's
    fields: dict[str, dict[str, str]]  # our table -> {our field -> the tenant's}
    absent: frozenset[str] = frozenset()  # our business-object codes the tenant does not have
    absent_tables: frozenset[str] = frozenset()
    lengths: dict[str, dict[str, int]] = field(default_factory=dict)  # our table -> {our field: the tenant's length}
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # our table -> {our field: the tenant's FLD_DESC}
    keeps: frozenset[str] = frozenset()  # our codes of objects only some tenants keep (A.TENANT_ONLY) this one has
    _objects_in: dict[str, str] = field(init=False, default_factory=dict)
    _tables_in: dict[str, str] = field(init=False, default_factory=dict)
    _fields_in: dict[str, dict[str, str]] = field(init=False, default_factory=dict)
    _words: re.Pattern | None = field(init=False, default=None)
    _out: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        # An object only some tenants keep is absent unless this tenant keeps it.
        lacking = {obj.code: obj.table for obj in A.OBJECTS.values() if obj.code in A.TENANT_ONLY - self.keeps}
        self.absent = frozenset(self.absent | set(lacking))
        self.absent_tables = frozenset(self.absent_tables | set(lacking.values()))
        self._objects_in = {v: k for k, v in self.objects.items()}
        self._tables_in = {v: k for k, v in self.tables.items()}
        self._fields_in = {t: {v: k for k, v in f.items()} for t, f in self.fields.items()}
        # Names in error messages: every renamed name, longest first (a field renamed differently per table gets
        # the first table's name in free text; tables and codes are unique).
        out: dict[str, str] = {}
        for renames in (self.objects, self.tables, *self.fields.values()):
            for ours, theirs in renames.items():
                out.setdefault(ours, theirs)
        self._out = out
        if out:
            alternation = "|".join(sorted(map(re.escape, out), key=len, reverse=True))
            self._words = re.compile(rf"(?<![A-Za-z0-9_])({alternation})(?![A-Za-z0-9_])")

    # --- names in ------------------------------------------------------------------------------------------
    def code_in(self, code: str) -> str:
        """Our code for the tenant's; a name the tenant does not have becomes one nobody has."""
        upper = code.strip().upper()
        if upper in self._objects_in:
            return self._objects_in[upper]
        if upper in self.objects or upper in self.absent:
            raise _refused("unknown_object", f"unknown business object {code.strip()!r}")
        return upper

    def table_in(self, table: str) -> str:
        upper = table.strip().upper()
        if upper in self._tables_in:
            return self._tables_in[upper]
        if upper in self.tables or upper in self.absent_tables:
            raise _refused("unknown_field", f"unknown table {table.strip()!r}")
        return upper

    def field_in(self, tables: tuple[str, ...], name: str) -> str:
        """Our name of the tenant's field ``name`` (bare or ``TABLE.FIELD``) on one of our ``tables``."""
        text = name.strip()
        if "." in text:
            table, bare = text.split(".", 1)
            ours = self.table_in(table)
            return f"{ours}.{self._field_of(ours, bare)}"
        for table in tables:
            renamed = self._fields_in.get(table, {}).get(text.upper())
            if renamed:
                return renamed
        for table in tables:
            if text.upper() in self.fields.get(table, {}):
                raise _refused("unknown_field", f"unknown field {text!r}")
        return text

    def _field_of(self, table: str, name: str) -> str:
        upper = name.strip().upper()
        renamed = self._fields_in.get(table, {}).get(upper)
        if renamed:
            return renamed
        if upper in self.fields.get(table, {}):
            raise _refused("unknown_field", f"unknown field {self.table_out(table)}.{name.strip()!r}")
        return upper

    def table_ours(self, table: str) -> str:
        """Our name of the tenant's table (unchanged when it is not renamed)."""
        return self._tables_in.get(table.upper(), table.upper())

    def field_ours(self, table: str, name: str) -> str:
        """Our name of the tenant's field of our ``table`` (unchanged when it is not renamed)."""
        return self._fields_in.get(table, {}).get(name.upper(), name.upper())

    # --- names out -----------------------------------------------------------------------------------------
    def table_out(self, table: str) -> str:
        return self.tables.get(table, table)

    def field_out(self, table: str, name: str) -> str:
        return self.fields.get(table, {}).get(name, name)

    def code_out(self, code: str) -> str:
        return self.objects.get(code, code)

    def length_out(self, table: str, name: str, length: int) -> int:
        return self.lengths.get(table, {}).get(name, length)

    def label_out(self, table: str, name: str, label: str) -> str:
        return self.labels.get(table, {}).get(name, label)

    def text_out(self, text: str) -> str:
        return self._words.sub(lambda m: self._out[m.group(1)], text) if self._words else text

    # --- requests -------------------------------------------------------------------------------------------
    def query_in(self, query: dict[str, str], tables_of) -> dict[str, str]:
        """Query parameters (as sent) with our names; ``tables_of(code)`` gives our tables of a business object."""
        out = dict(query)
        by_lower = {k.lower(): k for k in query}
        code_key = by_lower.get("businessobject")
        tables: tuple[str, ...] = ()
        if code_key and query[code_key].strip():
            out[code_key] = self.code_in(query[code_key])
            tables = tables_of(out[code_key])
        for lower, key in by_lower.items():
            if lower in ("fields", "sortfields"):
                out[key] = ",".join(
                    item if item.strip() in ("", "*") or item.strip().endswith(".*") else self.field_in(tables, item)
                    for item in query[key].split(",")
                )
            elif lower.startswith("filtercontrolsource"):
                out[key] = self.field_in(tables, query[key])
        return out

    def envelope_in(self, body: bytes, tables_of) -> bytes:
        try:
            doc = json.loads(body or b"null")
        except ValueError:
            return body  # the sandbox answers the parse error itself
        if not isinstance(doc, dict):
            return body
        keys = {str(k).lower(): k for k in doc}
        if "businessobject" in keys and isinstance(doc[keys["businessobject"]], str):
            doc[keys["businessobject"]] = self.code_in(doc[keys["businessobject"]])
        table = doc.get(keys.get("table", ""), None)
        if isinstance(table, dict):
            tkeys = {str(k).lower(): k for k in table}
            definitions = [table.get(tkeys.get("definition", ""))]
            definitions += list(table.get(tkeys.get("detaildefinitions", ""), None) or [])
            for definition in definitions:
                self._definition_in(definition)
        return json.dumps(doc).encode()

    def _definition_in(self, definition) -> None:
        if not isinstance(definition, dict):
            return
        dkeys = {str(k).lower(): k for k in definition}
        name_key = dkeys.get("name")
        ours = None
        if name_key and isinstance(definition[name_key], str):
            ours = definition[name_key] = self.table_in(definition[name_key])
        for item in definition.get(dkeys.get("fields", ""), None) or []:
            if isinstance(item, dict) and ours:
                ikeys = {str(k).lower(): k for k in item}
                if "name" in ikeys and isinstance(item[ikeys["name"]], str):
                    name = item[ikeys["name"]]
                    if name.strip().upper() not in ("ROWID", "HEADERID", "ROWACTION"):
                        item[ikeys["name"]] = self._field_of(ours, name)

    def check_lengths(self, envelope) -> None:
        """A text longer than the tenant's (shorter) field is refused, as the tenant's server would refuse it."""
        tables = envelope.bo.tables
        for table, rows in ((tables[0], envelope.headers), *envelope.details.items()):
            for name, length in self.lengths.get(table, {}).items():
                for row in rows:
                    text = str(row.values.get(name) or "").rstrip()
                    if len(text) > length:
                        raise _refused("too_long", f"{self.table_out(table)}.{self.field_out(table, name)}: value is "
                                                   f"{len(text)} characters, the field holds {length}: {text!r}")

    # --- replies --------------------------------------------------------------------------------------------
    def tables_out(self, body: dict) -> dict:
        """A ``{table: rows}`` reply with the tenant's names."""
        if not self.tables and not self.fields:
            return body  # nothing renamed (the default tenant)
        out = {}
        for table, rows in body.items():
            renames = self.fields.get(table, {})
            theirs = self.table_out(table)
            ordinal = f"{table}_Id"
            out[theirs] = [
                {(f"{theirs}_Id" if k == ordinal else renames.get(k, k)): v for k, v in row.items()} for row in rows
            ]
        return out


def _renamed(name: str) -> Variant:
    """The ``renamed`` variant: Dutch names for every assumed name, no group discounts."""
    objects = {
        A.PRICE_LIST.code: "PLS1", A.PRICE_LIST_ITEM.code: "PRS1", A.WAREHOUSE.code: "MAG1", A.STOCK.code: "VRD1",
        A.PAYMENT_CONDITION.code: "BC1", A.SHIPPING_METHOD.code: "VW1",
    }  # fmt: skip
    tables = {
        A.PRICE_LIST.table: "PRIJSLIJST", A.PRICE_LIST_ITEM.table: "PRIJZEN", A.WAREHOUSE.table: "MAGAZIJN",
        A.STOCK.table: "VOORRAAD", A.PAYMENT_CONDITION.table: "BET_COND", A.SHIPPING_METHOD.table: "VERZENDW",
    }  # fmt: skip

    def assumed(fields: dict[str, A.AssumedField], dutch: dict[str, str]) -> dict[str, str]:
        return {fields[k].name: v for k, v in dutch.items()}

    usage = {what: f for what, (_table, f) in A.USAGE.items()}
    fields = {
        "ARTICLE": assumed(A.ARTICLE_FIELDS, {
            "ean": "BARCODE", "vat_code": "BTW_CODE", "price_incl_vat": "INCL_BTW", "sell_in_pos": "KASSA",
            "long_description": "ART_TEKST", "unit": "EENHEID", "model": "MODEL", "size": "MAAT", "colour": "KLEUR",
            "country_of_origin": "HERKOMST", "delivery_days": "LEVERTIJD", "blocked": "GEBLOKKRD",
            "material": "MATERIAAL", "discount_group": "KORT_GRP", "stock_article": "VOORRAADH",
        }),
        "ART_GRP": assumed(A.ARTICLE_GROUP_FIELDS, {"sell_in_pos": "KASSA", "parent": "HOOFDGRP"}),
        "CONTACT": {usage["contact_person"]: "CONTACTP", usage["customer_price_list"]: "PRIJSLST",
                    usage["customer_discount_group"]: "KORTLST", usage["customer_payment_condition"]: "BET_COND"},
        "DEL_ADDR": assumed(A.DELIVERY_ADDRESS_FIELDS, {"street": "STRAAT", "house_number": "HUISNR",
                                                         "house_number_extra": "HUISNR_TOE"}),
        "SO_HDR": {**assumed(A.SALES_ORDER_HEADER_FIELDS, {"record_id": "ORD_ID", "order_number": "ORDERNR",
                                                           "payment_condition": "BET_COND",
                                                           "shipping_method": "VERZ_WIJZE"}),
                   A.USAGE["order_reference"][1]: "REFERENTIE"},
        "SO_LINE": assumed(A.SALES_ORDER_LINE_FIELDS, {"record_id": "REGEL_ID", "order_number": "ORDERNR",
                                                       "vat_code": "BTW_CODE", "description": "OMSCHR"}),
        "DJ_PAGE": {**assumed(A.JOURNAL_PAGE_FIELDS, {"record_id": "BOEK_ID"}),
                    A.USAGE["booking_reference"][1]: "REFERENTIE"},
        A.PRICE_LIST.table: assumed(A.PRICE_LIST.fields, {"code": "PL_NR", "description": "PL_OMS"}),
        A.PRICE_LIST_ITEM.table: assumed(A.PRICE_LIST_ITEM.fields, {
            "record_id": "PRIJS_ID", "price_list": "PL_NR", "sku": "ARTIKEL", "min_qty": "STAFFEL", "price_excl": "PRIJS",
        }),
        A.WAREHOUSE.table: assumed(A.WAREHOUSE.fields, {"code": "MAG_CODE", "description": "MAG_NAAM"}),
        A.STOCK.table: assumed(A.STOCK.fields, {
            "record_id": "VRD_ID", "sku": "ARTIKEL", "warehouse": "MAG_CODE", "on_hand": "AANWEZIG",
            "reserved": "GERESERV", "incoming": "INKOMEND", "available": "BESCHIKB",
        }),
        A.PAYMENT_CONDITION.table: assumed(A.PAYMENT_CONDITION.fields, {"code": "BC_CODE", "description": "BC_OMS",
                                                                        "days": "BC_DAGEN"}),
        A.SHIPPING_METHOD.table: assumed(A.SHIPPING_METHOD.fields, {"code": "VW_CODE", "description": "VW_OMS"}),
    }  # fmt: skip
    return Variant(name, objects, tables, fields, absent=frozenset({A.GROUP_DISCOUNT.code}),
                   absent_tables=frozenset({A.GROUP_DISCOUNT.table}))  # fmt: skip


def _reshaped(name: str) -> Variant:
    """The ``reshaped`` variant: another tenant than ``renamed``. No payment conditions and no shipping methods;
    price rows and group discounts under other codes and tables whose fields keep our names; warehouses as
    "locations" (a renamed table and key, and the stock's link to it); renamed keys of stock rows and delivery
    addresses; other article field names with descriptions of their own; shorter text fields the engine writes."""
    objects = {A.PRICE_LIST_ITEM.code: "PRA1", A.GROUP_DISCOUNT.code: "KRT1", A.WAREHOUSE.code: "LOC1"}
    tables = {A.PRICE_LIST_ITEM.table: "ART_PRIJS", A.GROUP_DISCOUNT.table: "KORTING", A.WAREHOUSE.table: "LOCATION"}
    article = {  # our logical name -> (the tenant's name, its description)
        "ean": ("GTIN", "GTIN-code"), "vat_code": ("TAX_CODE", "BTW-code"),
        "price_incl_vat": ("PRICE_INCL", "Prijs inclusief BTW"), "sell_in_pos": ("POS_OK", "Verkoopbaar in kassa"),
        "unit": ("UNIT", "Eenheid"), "size": ("SIZE", "Maat"), "colour": ("COLOUR", "Kleur"),
        "blocked": ("BLOCKED", "Geblokkeerd"), "stock_article": ("STOCKED", "Voorraad bijhouden"),
        "country_of_origin": ("ORIGIN", "Herkomstland"),
    }  # fmt: skip
    fields = {
        "ARTICLE": {A.ARTICLE_FIELDS[k].name: v for k, (v, _label) in article.items()},
        "DEL_ADDR": {"REC_ID": "ADDR_ID"},
        A.WAREHOUSE.table: {A.WAREHOUSE.fields["code"].name: "LOC_CODE", A.WAREHOUSE.fields["description"].name: "LOC_NAME"},
        A.STOCK.table: {A.STOCK.fields["record_id"].name: "STK_ID", A.STOCK.fields["warehouse"].name: "LOC_CODE",
                        A.STOCK.fields["on_hand"].name: "QTY_PHYS"},
    }  # fmt: skip
    labels = {
        "ARTICLE": {A.ARTICLE_FIELDS[k].name: label for k, (_v, label) in article.items()},
        A.WAREHOUSE.table: {A.WAREHOUSE.fields["code"].name: "Magazijn", A.WAREHOUSE.fields["description"].name: "Naam magazijn"},
        A.STOCK.table: {A.STOCK.fields["warehouse"].name: "Magazijn", A.STOCK.fields["on_hand"].name: "Fysieke voorraad"},
    }  # fmt: skip
    lengths = {"CONTACT": {"SRC_CODE": 8}, "DEL_ADDR": {"DEL_NAME": 30}, "SO_LINE": {"ART_DESC1": 30},
               "DJ_LINE": {"TRN_DESC": 30}}  # fmt: skip
    absent = frozenset({A.PAYMENT_CONDITION.code, A.SHIPPING_METHOD.code})
    return Variant(name, objects, tables, fields, absent=absent,
                   absent_tables=frozenset({A.PAYMENT_CONDITION.table, A.SHIPPING_METHOD.table}), lengths=lengths,
                   labels=labels)  # fmt: skip


def _discounts(name: str) -> Variant:
    """The ``discounts`` variant: the sandbox's own names, and a tenant that keeps discounts per debtor and article
    (``DDS1``/``DEB_DISC``, seeded from the world's ``debtor_discounts``); ``variants/discounts.toml`` switches
    the profile's ``debtor_article_discount`` on."""
    return Variant(name, {}, {}, {}, keeps=frozenset({A.DEBTOR_ARTICLE_DISCOUNT.code}))


VARIANTS = {"renamed": _renamed, "reshaped": _reshaped, "discounts": _discounts}


def variant(name: str | None) -> Variant:
    """The variant of this name (None or "default": the sandbox's own names, without the objects only some
    tenants keep)."""
    if name in (None, "", "default"):
        return Variant("default", {}, {}, {})
    try:
        return VARIANTS[name](name)
    except KeyError:
        raise ValueError(f"unknown AccountView variant {name!r}; variants: default, {', '.join(VARIANTS)}") from None


def profile_file(name: str) -> Path:
    """The ``[profile]`` that configures the engine for a variant (what a user writes for such a tenant)."""
    return VARIANTS_DIR / f"{name}.toml"
