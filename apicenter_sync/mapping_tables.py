"""Every mapping table the flows read: what its keys and values are, how a row is checked, and where the choices
for a row can be fetched from (the single source of the Odoo mapping lists, the setup wizard's mapping step and
``docs/flows.md``'s tables, like :mod:`apicenter_sync.settings` is for settings).

A row is a key and a value, both text. A value *kind* says what the text must be (a whole number for an Mplus
branch, an ISO country code…) and, where a live system can list the possibilities, which client call does
(``choices``): Odoo loads them with "Load choices from MplusKASSA" so a row is picked, not typed.

``python -m apicenter_sync.mapping_tables`` prints the tables as Markdown.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from . import record_filters
from .i18n import Msg, Text, msg, table_ref

VAT_METHODS = ("VAT-METHOD-INCLUSIVE", "VAT-METHOD-EXCLUSIVE", "VAT-METHOD-SHIFTED", "VAT-METHOD-NONE")


def _whole(minimum: int = 0) -> Callable[[str], Text | None]:
    def check(text: str) -> Text | None:
        if not re.fullmatch(r"\d+", text) or int(text) < minimum:
            return msg("tables.check.whole", minimum=minimum)
        return None

    return check


def _code(length: int) -> Callable[[str], Text | None]:
    def check(text: str) -> Text | None:
        if not text:
            return msg("tables.check.empty")
        if len(text) > length:
            return msg("tables.check.code_length", length=length)
        return None

    return check


def _number(low: Decimal, high: Decimal) -> Callable[[str], Text | None]:
    def check(text: str) -> Text | None:
        try:
            value = Decimal(text.replace(",", "."))
        except InvalidOperation:
            return msg("tables.check.number")
        if not value.is_finite() or not low <= value <= high:
            return msg("tables.check.number_range", low=low, high=high)
        return None

    return check


def _one_of(*allowed: str) -> Callable[[str], Text | None]:
    def check(text: str) -> Text | None:
        return None if text in allowed else msg("tables.check.one_of", allowed=list(allowed))

    return check


def _country(text: str) -> Text | None:
    return None if re.fullmatch(r"[A-Z]{2}", text) else msg("tables.check.country")


def _text(text: str) -> Text | None:
    return None if text else msg("tables.check.empty")


def _any(text: str) -> str | None:
    return None


def _filter_key(text: str) -> str | None:
    flow, _, name = text.partition(".")
    return None if flow in record_filters.FLOWS and name.strip() else record_filters.check(text, "x empty")


def _filter_condition(text: str) -> str | None:
    return record_filters.check("products.row", text)


@dataclass(frozen=True)
class Kind:
    """What a key or value is. ``choices``: the MplusClient method that lists the possibilities and the fields
    of each item that give the value and its label; ``av_choices``: the API profile's AccountView object whose
    rows are the possibilities, and its logical fields of value and label."""

    name: str
    label: str
    check: Callable[[str], str | None]
    choices: tuple[str, str, str] | None = None
    av_choices: tuple[str, str, str] | None = None


KINDS = {k.name: k for k in (
    Kind("country", "Country (ISO code)", _country),
    Kind("av_vat_code", "AccountView VAT code", _code(2), av_choices=("vat", "code", "pct")),
    Kind("av_code", "AccountView code", _code(10)),
    Kind("av_warehouse", "AccountView warehouse", _code(10), av_choices=("warehouse", "code", "description")),
    Kind("av_payment_condition", "AccountView payment condition", _code(10),
         av_choices=("payment_condition", "code", "description")),
    Kind("av_shipping_method", "AccountView shipping method", _code(10),
         av_choices=("shipping_method", "code", "description")),
    Kind("av_article", "AccountView article code", _code(20), av_choices=("article", "sku", "description")),
    Kind("av_article_or_empty", "AccountView article code (empty: the setting)", _any),
    Kind("av_account", "AccountView ledger account", _code(10), av_choices=("ledger", "number", "name")),
    Kind("av_journal", "AccountView journal", _code(10), av_choices=("journal", "code", "name")),
    Kind("customer_group", "Customer group (discount group or price list)", _code(10),
         av_choices=("price_list", "code", "description")),
    Kind("mplus_vat_code", "MplusKASSA VAT code", _whole(0), ("vat_groups", "vatCode", "vatPercentage")),
    Kind("mplus_branch", "MplusKASSA branch", _whole(1), ("branches", "branchNumber", "name")),
    Kind("mplus_price_group", "MplusKASSA price group", _whole(0), ("price_groups", "priceGroupNumber", "description")),
    Kind("mplus_payment_method", "MplusKASSA payment method", _text, ("payment_methods", "method", "description")),
    Kind("mplus_delivery_method", "MplusKASSA delivery method", _text,
         ("delivery_methods", "deliveryMethod", "description")),
    Kind("mplus_turnover_group", "MplusKASSA turnover group", _whole(0),
         ("turnover_groups", "turnoverGroup", "turnoverGroupName")),
    Kind("mplus_article", "MplusKASSA article number", _whole(1)),
    Kind("mplus_discount_group", "MplusKASSA article discount group", _whole(0)),
    Kind("mplus_state", "State of a sale in MplusKASSA", _text),
    Kind("send_skip", "send or skip", _one_of("send", "skip")),
    Kind("vat_method", "VAT method", _one_of(*VAT_METHODS)),
    Kind("vat_rate", "VAT rate (%)", _number(Decimal(0), Decimal(100))),
    Kind("percentage", "Percentage", _number(Decimal(0), Decimal(100))),
    Kind("days", "Days", _whole(0)),
    Kind("order_default_key", "payment_method, shipping_method or country",
         _one_of("payment_method", "shipping_method", "country")),
    Kind("bpe_id", "BPE id (deposit, breakage, own use)", _text),
    Kind("text", "Text", _text),
    Kind("filter_key", "Flow and name (products.…, customers.…, orders.…)", _filter_key),
    Kind("filter_condition", "Condition: field operator value (group in A, B)", _filter_condition),
)}  # fmt: skip


@dataclass(frozen=True)
class MappingTable:
    name: str
    label: str
    flows: tuple[str, ...]
    key: str  # a Kind name
    value: str  # a Kind name
    help: str
    written_by_engine: bool = False  # rows the engine keeps itself (a person only reads them)
    required_for: tuple[str, ...] = ()  # flows that cannot do their work while the table is empty


# What each flow needs before it can run (the setup wizard's checklist lists these first and refuses to activate
# while one is empty); every other table has a default rule, or only some records need it.
REQUIRED = {
    "vat_code_av_mplus": ("products",),  # every article has a VAT code; an unmapped one waits
    "warehouse_branch": ("stock",),  # a warehouse without a row is not sent: no stock at all
    "customer_group_price_group": ("prices",),  # an unmapped price list waits
    "payment_method_condition": ("orders",),  # a sale's document needs the payment condition of its method
}


TABLES = (
    MappingTable("vat_code_av_mplus", "VAT codes AccountView → MplusKASSA", ("products",), "av_vat_code",
                 "mplus_vat_code", "An article's VAT code in AccountView → the till's VAT code. An article whose "
                 "code has no row waits (retried) until it is added."),
    MappingTable("article_discount_group", "Article discount groups → MplusKASSA", ("products",), "av_code",
                 "mplus_discount_group", "An article's discount group (B2B item attribute) → the till's article "
                 "discount group; a numeric code needs no row."),
    MappingTable("generated_article_numbers", "Generated article numbers", ("products",), "av_article",
                 "mplus_article", "A non-numeric SKU → the article number the products flow gave it "
                 "(non_numeric_sku = generate). Written by the flow; change it only to repair.",
                 written_by_engine=True),
    MappingTable("warehouse_branch", "Warehouses → MplusKASSA branches", ("stock",), "av_warehouse", "mplus_branch",
                 "An AccountView warehouse → the till's branch whose stock it is. A warehouse without a row is "
                 "not sent."),
    MappingTable("customer_group_price_group", "Price lists → MplusKASSA price groups", ("customers", "prices"),
                 "customer_group", "mplus_price_group", "A debtor's price list (customer group) → the till's "
                 "price group of its relation and prices. An unmapped price list waits until it is added."),
    MappingTable("group_default_price_group", "Customer group → default price group", ("customers",),
                 "customer_group", "mplus_price_group", "The price group of a debtor that has no price list "
                 "of its own, by its customer group."),
    MappingTable("group_default_discount", "Customer group → default discount", ("customers",), "customer_group",
                 "percentage", "The discount percentage of a debtor that has none of its own."),
    MappingTable("group_default_payment_condition", "Customer group → default payment condition", ("customers",),
                 "customer_group", "av_payment_condition", "The payment condition of a debtor that has none of its "
                 "own."),
    MappingTable("payment_condition_days", "Payment conditions → days", ("customers",), "av_payment_condition", "days",
                 "A payment condition → the relation's payment term in days (else AccountView's payment "
                 "conditions are read)."),
    MappingTable("vat_method_by_country", "Country → relation VAT method", ("customers",), "country",
                 "vat_method", "The default VAT method of a relation in the till, by its country."),
    MappingTable("order_status", "Sale state → send or skip", ("orders",), "mplus_state", "send_skip",
                 "Which states of a sale are booked. Without a row the default rule of its source decides. A "
                 "cancelled order is booked only with a row “send” for its cancel state."),
    MappingTable("order_defaults", "Defaults of a sale", ("orders",), "order_default_key", "text",
                 "What a sale without a payment method, shipping method or country gets."),
    MappingTable("payment_method_condition", "Payment methods → payment conditions", ("orders",),
                 "mplus_payment_method", "av_payment_condition", "A sale's payment method → the AccountView "
                 "payment condition of its document."),
    MappingTable("payment_method_journal", "Payment methods → journals", ("orders",), "mplus_payment_method",
                 "av_journal", "A sale's payment method → the journal of its booking (else sales_journal)."),
    MappingTable("payment_method_account", "Payment methods → ledger accounts", ("orders",),
                 "mplus_payment_method", "av_account", "Per till closing: a payment method → the ledger account "
                 "its total is booked on. A closing with an unmapped method waits."),
    MappingTable("shipping_method", "Shipping methods → AccountView", ("orders",), "mplus_delivery_method",
                 "av_shipping_method", "A sale's delivery method → the AccountView shipping method."),
    MappingTable("shipping_articles", "Shipping articles", ("orders",), "mplus_article", "av_article_or_empty",
                 "A till article that is a shipping line → its AccountView article (empty: shipping_article). "
                 "No row: no till line is a shipping line; add your till's shipping articles."),
    MappingTable("line_articles", "Till articles without an AccountView article", ("orders",), "mplus_article",
                 "av_article", "A till article (gift card, service) → the AccountView article it is booked on."),
    MappingTable("bpe_articles", "Deposits (BPE) → articles", ("orders",), "bpe_id", "av_article",
                 "A deposit, breakage or own-use line → its AccountView article (else other_line_article)."),
    MappingTable("vat_code_by_country", "Country → VAT code", ("orders",), "country", "av_vat_code",
                 "A customer's country → the VAT code of every line (and of a debtor created from a sale)."),
    MappingTable("vat_code_by_rate", "VAT rate → VAT code", ("orders",), "vat_rate", "av_vat_code",
                 "A line's VAT rate (21) → the AccountView VAT code (else the VAT table's code of that rate)."),
    MappingTable("vat_code_mplus_av", "VAT codes MplusKASSA → AccountView", ("orders",), "mplus_vat_code",
                 "av_vat_code", "The till's VAT code → AccountView's (profile mplus.vat_lookup = code)."),
    MappingTable("turnover_group_revenue_account", "Turnover groups → revenue accounts", ("orders",),
                 "mplus_turnover_group", "av_account", "A line's turnover group → its revenue account "
                 "(profile mplus.revenue_lookup = turnover_group)."),
    MappingTable("revenue_account_by_country", "Country → revenue account", ("orders",), "country", "av_account",
                 "A customer's country → the revenue account of booking lines."),
    MappingTable("revenue_account_by_vat_code", "VAT code → revenue account", ("orders",), "av_vat_code",
                 "av_account", "A line's VAT code → its revenue account (after the country)."),
    MappingTable("record_filters", "Record filters", ("products", "customers", "orders"), "filter_key",
                 "filter_condition", "Which records a flow syncs: every condition of its flow must hold (products "
                 "also for stock and prices; orders: the till's sales by branch, workplace, state…). Operators "
                 "=, !=, <, >, in, not in, empty, not empty."),
    MappingTable("revenue_category_by_country", "Country → debtor revenue category", ("orders",), "country",
                 "av_code", "A debtor created from a sale gets the revenue category of its country."),
)
TABLES = tuple(replace(t, required_for=REQUIRED.get(t.name, ())) for t in TABLES)
_BY_NAME = {t.name: t for t in TABLES}


def get_table(name: str) -> MappingTable | None:
    return _BY_NAME.get(name)


def tables_for(flows) -> list[MappingTable]:
    """The tables a person fills for these flows (not the ones the engine writes itself), the required ones first."""
    wanted = set(flows)
    tables = [t for t in TABLES if wanted & set(t.flows) and not t.written_by_engine]
    return sorted(tables, key=lambda t: not is_required(t, wanted))


def is_required(table: MappingTable, flows) -> bool:
    """Whether one of ``flows`` cannot do its work while ``table`` is empty."""
    return bool(set(flows) & set(table.required_for))


def check_row(name: str, key: str, value: str) -> list[Text]:
    """What is wrong with a row of table ``name`` (nothing for a table the engine does not know: any is allowed),
    each a message naming the table in words with its id, the key or value, and what it must be."""
    table = get_table(name)
    if table is None:
        return []
    problems = []
    for part, text, kind in (("key", key, table.key), ("value", value, table.value)):
        message = KINDS[kind].check((text or "").strip())
        if message:
            problems.append(msg("tables.check.row", table=table_ref(table.name), id=table.name,
                                part=msg(f"tables.check.{part}"), text=repr(text), problem=message,
                                kind=Msg(f"tables.kind.{kind}")))  # fmt: skip
    return problems


def markdown() -> str:
    lines = ["| table | flows | key → value | what it does |", "| --- | --- | --- | --- |"]
    for t in TABLES:
        lines.append(f"| `{t.name}` | {', '.join(t.flows)} | {KINDS[t.key].label} → {KINDS[t.value].label} | "
                     f"{t.help} |")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown() + "\n")
