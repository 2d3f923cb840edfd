"""The one registry of flow and global settings: name, type, default, allowed values and help text.

Stores (SQLite here, the ORM in the Odoo addon) keep only values that differ from the default and validate them
with :func:`validate`, so a default changed here reaches every installation that never touched the setting.
``python -m apicenter_sync.settings --markdown`` prints the table that docs/store.md embeds.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .endpoints import DEFAULT_ALLOWED_HOSTS
from .i18n import Msg, Text, cli_language, msg, render, setting_ref
from .profile.defaults import ORDER_TYPE_ALIASES

FLOWS = ("orders", "customers", "products", "stock", "prices")
AV_FLOWS = ("customers", "products", "stock", "prices")  # AccountView -> MplusKASSA, date-window watermarks

GLOBAL = "global"  # scope of settings that have one value per backend


class SettingError(ValueError):
    """Unknown setting, setting used in the wrong scope, or a value of the wrong type/out of range. Its first
    argument is the message (a screen renders it in the reader's language), naming the setting as the screens do."""


def flow_name(flow: str) -> Text:
    """A flow as the screens name it (Products, Orders…); an unknown one as it was given."""
    return Msg(f"runs.flow.{flow}") if flow in FLOWS else flow


@dataclass(frozen=True)
class Setting:
    name: str
    type: type  # bool, int, str or list (a list of str)
    default: Any
    help: str
    flows: tuple[str, ...] = ()  # flows it applies to; () = a global setting
    choices: tuple[str, ...] | None = None  # allowed values (for list: allowed items)
    min: int | None = None
    max: int | None = None
    aliases: tuple[tuple[str, str], ...] = ()  # (old value, the value it means now): old configurations keep working

    def default_value(self) -> Any:
        # Defaults of list settings are tuples (the registry is shared); callers get their own list.
        return list(self.default) if self.type is list else self.default

    @property
    def is_global(self) -> bool:
        return not self.flows

    def type_name(self) -> str:
        return "list[str]" if self.type is list else self.type.__name__

    def validate(self, value: Any, flow: str | None = None) -> Any:
        """Return ``value`` (lists normalised to a list) or raise :class:`SettingError` naming the setting."""
        where = self.where(flow)
        # bool is a subclass of int: reject it explicitly so batch_size=True is an error, not 1.
        if self.type is int and (not isinstance(value, int) or isinstance(value, bool)):
            raise SettingError(msg("settings.error.not_whole", where=where, value=repr(value)))
        if self.type is bool and not isinstance(value, bool):
            raise SettingError(msg("settings.error.not_yes_no", where=where, value=repr(value)))
        if self.type is str and not isinstance(value, str):
            raise SettingError(msg("settings.error.not_text", where=where, value=repr(value)))
        value = dict(self.aliases).get(value, value) if self.aliases and isinstance(value, str) else value
        if self.type is list:
            if isinstance(value, str):  # "order, receipt" (or one value) as written by hand
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list | tuple | set | frozenset):
                raise SettingError(msg("settings.error.not_list", where=where, value=repr(value)))
            value = list(value)
            bad = [v for v in value if not isinstance(v, str) or (self.choices and v not in self.choices)]
            if bad:
                raise SettingError(msg("settings.error.not_allowed", where=where, value=repr(bad),
                                       allowed=list(self.choices or ())))  # fmt: skip
            return value
        if self.choices is not None and value not in self.choices:
            raise SettingError(msg("settings.error.not_allowed", where=where, value=repr(value), allowed=list(self.choices)))
        if self.min is not None and value < self.min:
            raise SettingError(msg("settings.error.below_minimum", where=where, value=repr(value), minimum=self.min))
        if self.max is not None and value > self.max:
            raise SettingError(msg("settings.error.above_maximum", where=where, value=repr(value), maximum=self.max))
        return value

    def where(self, flow: str | None = None) -> Msg:
        """The setting (of ``flow``) as an error names it: its name on the screens, not its id."""
        if flow:
            return msg("settings.error.where_flow", setting=setting_ref(self.name), flow=flow_name(flow))
        return msg("settings.error.where", setting=setting_ref(self.name))

    def parse(self, text: str, flow: str | None = None) -> Any:
        """Convert command-line/config text to a typed, validated value."""
        where = self.where()
        if self.type is bool:
            low = text.strip().lower()
            if low in ("1", "true", "yes", "on"):
                value: Any = True
            elif low in ("0", "false", "no", "off"):
                value = False
            else:
                raise SettingError(msg("settings.error.not_yes_no", where=where, value=repr(text)))
        elif self.type is int:
            try:
                value = int(text.strip())
            except ValueError:
                raise SettingError(msg("settings.error.not_whole", where=where, value=repr(text))) from None
        elif self.type is list:
            value = [v.strip() for v in text.split(",") if v.strip()]
        else:
            value = text
        return self.validate(value, flow)


_UPDATE_GROUPS = ("name", "description", "price", "barcode", "vat", "group", "attributes", "extra_fields")

SETTINGS: tuple[Setting, ...] = (
    # --- every flow -------------------------------------------------------------------------------------------
    Setting("enabled", bool, True, "Run this flow on its schedule; off = paused (run now still works).", FLOWS),
    Setting("interval_minutes", int, 5, "Minutes between two scheduled runs.", FLOWS, min=1, max=1440),
    Setting(
        "batch_size", int, 100, 'Records read and written per batch ("amount to process").', FLOWS, min=1, max=5000
    ),
    Setting(
        "batches_per_job",
        int,
        10,
        "Odoo: batches one queue job handles, in one transaction; with records left, the job queues the next job, "
        "which goes on where it stopped. Keeps each job short (well under the workers' time limit) and a failure "
        "costs at most one job's work. 0 = a whole run in one job. The command line ignores it.",
        FLOWS,
        min=0,
        max=10000,
    ),
    Setting(
        "write_concurrency",
        int,
        8,
        "Writes of one batch sent at the same time (products: one call per product). Each waits on a round trip, "
        "so a few in flight divide the wall time by about as much; 1 = one after the other. Used only while the "
        "writes wait on the network (2 ms or more each, measured during the run): against a server that answers "
        "at once, threads would only cost CPU. When calls of a batch had to be retried, the next batch sends half "
        "as many at once, and each batch without a retry one more, up to this number. ASSUMPTION: MplusKASSA "
        "documents no rate limit (research/mplus.md §8); lower it if the server objects.",
        ("products",),
        min=1,
        max=16,
    ),
    Setting("dry_run", bool, False, "Map and log what would be written, write nothing to the target.", FLOWS),
    Setting("max_attempts", int, 8, "Automatic retries of a failed record before it waits for a user.", FLOWS, min=1),
    Setting(
        "retry_delay_seconds",
        int,
        60,
        "A record that failed for a reason that may pass (timeout, article not there yet) is retried by the first "
        "run after this many seconds.",
        FLOWS,
        min=0,
    ),
    Setting(
        "overlap_seconds",
        int,
        30,
        "Each read starts this many seconds before the date watermark so changes committed late are not missed; "
        "ids already processed at the watermark are skipped.",
        AV_FLOWS,
        min=0,
        max=86400,
    ),
    # --- orders: MplusKASSA -> AccountView --------------------------------------------------------------------
    Setting(
        "order_type",
        str,
        "sales_order",
        "AccountView document created per sale: a sales order (sales_order) or a sales-invoice booking in a journal "
        "(booking). Their business objects, tables and fields are the API profile's sales_order and booking; the "
        "business-object codes of the default profile are accepted as the same choices.",
        ("orders",),
        choices=("sales_order", "booking"),
        aliases=tuple(ORDER_TYPE_ALIASES.items()),
    ),
    Setting(
        "source_document_type",
        list,
        ("order",),
        "The sales read from MplusKASSA, any of: order (getOrders), receipt (getReceipts: till tickets and credit "
        "receipts), invoice (getInvoices). Each is its own stream with its own sync marker; a receipt or invoice "
        "made from an order that is read too is skipped (the order is the sale).",
        ("orders",),
        choices=("order", "receipt", "invoice"),
    ),
    Setting(
        "receipt_booking",
        str,
        "each",
        "How receipts are booked: each receipt as its own document (each), or one journal booking per till closing "
        "(per_closing: getReceiptsByCashCount; totals per VAT code, revenue account and payment method).",
        ("orders",),
        choices=("each", "per_closing"),
    ),
    Setting(
        "closing_journal",
        str,
        "MEM",
        "AccountView journal (its code) of the booking of a till closing (receipt_booking = per_closing).",
        ("orders",),
    ),
    Setting(
        "closing_overlap_days",
        int,
        3,
        "Till closings are read from this many days before the last closing booked, so a closing finalized late "
        "is not missed (booked ones are skipped).",
        ("orders",),
        min=0,
        max=366,
    ),
    Setting(
        "wait_days",
        int,
        7,
        "A sale that waits for master data (an article not in AccountView yet, a missing mapping or setting) is "
        "retried for this many days, with growing pauses (retry_delay_seconds doubling up to an hour); then it is "
        "refused (it stays in the log as failed, and the failure digest says so).",
        ("orders",),
        min=1,
        max=366,
    ),
    Setting(
        "employee_number", int, 999999, "Mplus employee number used when an order carries none.", ("orders",), min=0
    ),
    Setting(
        "default_debtor_mode",
        str,
        "never",
        "When to book on the default debtor instead of a customer found/created by e-mail.",
        ("orders",),
        choices=("never", "when_no_customer", "always"),
    ),
    Setting("default_debtor_number", str, "", "AccountView debtor number used by default_debtor_mode.", ("orders",)),
    Setting(
        "shipping_article",
        str,
        "",
        "AccountView article code of the extra line that carries shipping costs.",
        ("orders",),
    ),
    Setting(
        "sales_journal",
        str,
        "VK",
        "AccountView sales journal (its code) of bookings (order_type = booking) when the payment_method_journal "
        "mapping table names none for the order's payment method.",
        ("orders",),
    ),
    Setting(
        "other_line_article",
        str,
        "",
        "AccountView article of sale lines without an article of their own: a text line with an amount, a deposit / "
        "breakage / own-use (BPE) line, or a till article the books do not know (mapping tables bpe_articles and "
        "line_articles name more precise ones). Empty: such a sale waits for the setting.",
        ("orders",),
    ),
    Setting(
        "cash_rounding_article",
        str,
        "",
        "AccountView article of the line that books a cash rounding (the payments round the total to 5 cents) on a "
        "sales order. Empty: such a sale waits for the setting.",
        ("orders",),
    ),
    Setting(
        "cash_rounding_account",
        str,
        "",
        "Ledger account of the cash-rounding line on bookings (order_type = booking). Empty: such a sale waits for "
        "the setting.",
        ("orders",),
    ),
    Setting(
        "cash_rounding_vat_code",
        str,
        "0",
        "AccountView VAT code of the cash-rounding line (rounding carries no VAT).",
        ("orders",),
    ),
    Setting(
        "shipping_revenue_account",
        str,
        "",
        "Ledger account of shipping lines on bookings (empty: the same account as the other lines, from "
        "revenue_account_by_country / revenue_account_by_vat_code).",
        ("orders",),
    ),
    # --- customers --------------------------------------------------------------------------------------------
    Setting(
        "company_rule",
        str,
        "contact_or_ids",
        "Which debtors become company relations (with a contact person), the rest person relations (AccountView "
        "has no company flag): contact_or_ids = those with a contact person, a VAT number or a chamber of "
        "commerce number; contact = with a contact person; ids = with a VAT or chamber of commerce number; "
        "company / person = all of them; mapped = the datamapper line with target 'kind' decides.",
        ("customers",),
        choices=("contact_or_ids", "contact", "ids", "company", "person", "mapped"),
    ),
    # --- products ---------------------------------------------------------------------------------------------
    Setting(
        "non_numeric_sku",
        str,
        "reject",
        "A SKU that is not a 64-bit integer: reject the record with an error, or generate an Mplus article number "
        "and keep the SKU in extArticleId.",
        ("products",),
        choices=("reject", "generate"),
    ),
    Setting(
        "update_fields",
        list,
        ("name", "price", "barcode", "vat", "group", "attributes", "extra_fields"),
        "Field groups written when a product already exists in Mplus (on create everything is sent), so content "
        "enriched in Mplus is kept.",
        ("products",),
        choices=_UPDATE_GROUPS,
    ),
    Setting(
        "inactive_articles",
        str,
        "deactivate",
        "Articles blocked, inactive or deleted in AccountView: deactivate them in MplusKASSA (and activate them "
        "again when they come back), or leave the till's articles alone.",
        ("products",),
        choices=("deactivate", "leave"),
    ),
    Setting(
        "removed_check_hours",
        int,
        24,
        "Hours between two checks for articles deleted in AccountView (a read of every article code); a full run "
        "always checks.",
        ("products",),
        min=1,
    ),
    Setting(
        "prices_include_vat", bool, False, "AccountView sales prices are entered including VAT.", ("products", "prices")
    ),
    Setting(
        "currency",
        str,
        "EUR",
        "The shop's currency (ISO 4217): prices are sent to MplusKASSA in it, bookings are made in it, and a sale in "
        "another currency (a mapped currency, or a foreign-currency exchange line) is refused, naming it.",
        ("products", "prices", "orders"),
    ),
    Setting(
        "filter_groups",
        list,
        (),
        "Only articles in these AccountView article groups are synced (empty: every group).",
        ("products", "stock", "prices"),
    ),
    Setting(
        "filter_field",
        str,
        "",
        "Only articles whose AccountView field of this name equals filter_value are synced (empty: no filter), "
        "e.g. a 'sell in POS' field.",
        ("products", "stock", "prices"),
    ),
    Setting(
        "filter_value",
        str,
        "true",
        "Value filter_field must have (booleans as true/false).",
        ("products", "stock", "prices"),
    ),
    Setting(
        "generated_number_base",
        int,
        900_000_000_000,
        "First Mplus article number handed out to articles with a non-numeric SKU (non_numeric_sku = generate).",
        ("products",),
        min=1,
    ),
    # --- stock ------------------------------------------------------------------------------------------------
    Setting(
        "stock_figure",
        str,
        "available",
        "Stock sent: available (on hand minus reserved by sales orders), on hand, economic (on hand minus reserved "
        "plus incoming), or the field named in stock_field.",
        ("stock",),
        choices=("available", "on_hand", "economic", "field"),
    ),
    Setting("stock_field", str, "", "AccountView field read when stock_figure is 'field'.", ("stock",)),
    Setting(
        "manage_stock",
        bool,
        True,
        "Let MplusKASSA keep stock of synced articles: the stock flow sends stock (setStock) and the products flow "
        "switches stock keeping (stockArticle) on, except for articles whose stock_article field says no; off: "
        "stock keeping is switched off on every article.",
        ("products", "stock"),
    ),
    # --- prices -----------------------------------------------------------------------------------------------
    Setting(
        "skip_price_lists",
        list,
        (),
        "AccountView price lists (and discount groups) whose prices and discounts are not sent to MplusKASSA, e.g. "
        "a webshop-only list; they need no entry in the customer_group_price_group table.",
        ("prices",),
    ),
    Setting(
        "sync_relation_pricing",
        bool,
        True,
        "Also give each debtor's MplusKASSA relation the price group of its price list and its discount percentage.",
        ("prices",),
    ),
    Setting(
        "default_price_group",
        int,
        0,
        "MplusKASSA price group for a relation whose debtor has no price list (0: leave the relation's price group "
        "as it is).",
        ("prices",),
        min=0,
    ),
    # --- global -----------------------------------------------------------------------------------------------
    Setting("payload_retention_days", int, 30, "Days payloads (personal data) are kept in the activity log.", min=1),
    Setting(
        "metadata_retention_days",
        int,
        180,
        "Days log metadata (who/what/when, no payloads) is kept; open failures are kept until resolved.",
        min=1,
    ),
    Setting(
        "call_deadline_seconds",
        int,
        120,
        "Deadline of one API call as a whole (connect, send, the whole reply), whatever the server's pace; a call "
        "past it fails as a timeout (retried like one). The read timeout still bounds each single read.",
        min=1,
        max=3600,
    ),
    Setting(
        "max_reply_bytes",
        int,
        64 * 1024 * 1024,
        "Largest API reply read, counted while it streams in (decoded): a larger one is refused before it fills "
        "the memory, as a permanent error naming this setting.",
        min=64 * 1024,
        max=2 * 1024 * 1024 * 1024,
    ),
    Setting(
        "run_budget_seconds",
        int,
        3600,
        "Time one run of a flow may take: once spent, the run starts no new batch, says so in its log and ends; "
        "the watermark stays where the last committed batch left it, so the next run goes on from there. "
        "0 = no budget.",
        FLOWS,
        min=0,
        max=7 * 86400,
    ),
    Setting(
        "allowed_hosts",
        list,
        DEFAULT_ALLOWED_HOSTS,
        "Hosts the AccountView and MplusKASSA URLs may point at: credentials are sent only there. A host name, an "
        "IP address or *.domain (any name below it). Plain http:// is refused except for loopback. Default: the "
        "hosts the vendors document, and loopback (sandboxes). In Odoo only an administrator changes it.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def get_setting(name: str) -> Setting:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise SettingError(msg("settings.error.unknown", name=name)) from None


def unknown_flow(flow: str) -> Msg:
    """Why ``flow`` is refused: no such flow (the flows listed as they are written)."""
    return msg("config.no_such_flow", flow=flow, flows=list(FLOWS))


def no_longer_valid(exc: SettingError) -> Msg:
    """A stored value the registry refuses now (it changed under it): said so, not silently defaulted."""
    return msg("settings.error.no_longer_valid", error=exc.args[0] if exc.args else str(exc))


def check_scope(setting: Setting, flow: str | None) -> None:
    """A flow setting may be set globally (all its flows) or per flow; a global one only globally."""
    if flow is None:
        return
    if flow not in FLOWS:
        raise SettingError(unknown_flow(flow))
    if flow not in setting.flows:
        if setting.is_global:
            raise SettingError(msg("settings.error.global_only", setting=setting_ref(setting.name), flow=flow_name(flow)))
        raise SettingError(msg("settings.error.other_flows", setting=setting_ref(setting.name), flow=flow_name(flow),
                               flows=[flow_name(f) for f in setting.flows]))  # fmt: skip


def validate(name: str, value: Any, flow: str | None = None) -> Any:
    setting = get_setting(name)
    check_scope(setting, flow)
    return setting.validate(value, flow)


def settings_for(flow: str | None) -> tuple[Setting, ...]:
    """Settings that apply to ``flow`` (None: the global ones)."""
    if flow is None:
        return tuple(s for s in SETTINGS if s.is_global)
    if flow not in FLOWS:
        raise SettingError(unknown_flow(flow))
    return tuple(s for s in SETTINGS if flow in s.flows)


# Settings that only make sense together: (setting, value that needs a partner, partner that must be non-empty).
_REQUIRES = (
    ("default_debtor_mode", ("when_no_customer", "always"), "default_debtor_number"),
    ("stock_figure", ("field",), "stock_field"),
)


def consistency_errors(values: dict[str, Any]) -> list[Msg]:
    """Cross-setting problems in a resolved settings dict (as returned by SettingsStore.all(flow))."""
    errors = []
    for name, needing, partner in _REQUIRES:
        if values.get(name) in needing and not values.get(partner, "x"):
            errors.append(msg("settings.error.needs_partner", setting=setting_ref(name), value=repr(values[name]),
                              partner=setting_ref(partner)))  # fmt: skip
    return errors


def markdown_table() -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    rows = ["| setting | flows | type | default | allowed | help |", "| --- | --- | --- | --- | --- | --- |"]
    for s in SETTINGS:
        flows = "all" if s.flows == FLOWS else ("global" if s.is_global else ", ".join(s.flows))
        allowed = ", ".join(s.choices) if s.choices else ""
        if s.min is not None or s.max is not None:
            allowed = f"{s.min if s.min is not None else ''}…{s.max if s.max is not None else ''}"
        rows.append(
            f"| `{s.name}` | {flows} | {s.type_name()} | `{json.dumps(s.default_value())}` | {cell(allowed)} | {cell(s.help)} |"
        )
    return "\n".join(rows) + "\n"


BEGIN_MARK = "<!-- settings-table:begin (generated by python -m apicenter_sync.settings --markdown) -->"
END_MARK = "<!-- settings-table:end -->"


def update_doc(path: Path) -> bool:
    """Replace the table between the markers in ``path``; return True when the file changed."""
    return replace_between(path, BEGIN_MARK, END_MARK, markdown_table())


def replace_between(path: Path, begin: str, end: str, body: str) -> bool:
    """Put ``body`` between the markers ``begin`` and ``end`` of a generated table in ``path``; True when the file
    changed (docs/store.md's settings, docs/assumptions.md's and docs/profile.md's profile tables)."""
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition(begin)
    _, sep2, tail = rest.partition(end)
    if not sep or not sep2:
        raise SystemExit(msg("settings.tool.markers_missing", path=str(path), begin=repr(begin), end=repr(end)))
    new = f"{head}{begin}\n{body}{end}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apicenter_sync.settings", description=__doc__)
    lang = cli_language()
    parser.add_argument("--markdown", action="store_true", help=render(msg("settings.tool.markdown"), lang))
    parser.add_argument("--update-doc", type=Path, metavar="FILE", help=render(msg("settings.tool.update_doc"), lang))
    args = parser.parse_args(argv)
    if args.update_doc:
        changed = update_doc(args.update_doc)
        print(render(msg("settings.tool.updated" if changed else "settings.tool.up_to_date", path=str(args.update_doc)), lang))
    elif args.markdown:
        sys.stdout.write(markdown_table())
    else:
        parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
